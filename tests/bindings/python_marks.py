"""Marks requests through bindings/python/heapswitch.py, for
tests/bindings/python.sh: REQUESTS requests (a third each with the context
manager, the decorator and request_done()), one of them raising inside
the context manager; prints the same line with or without heapswitch, the
backend on stderr, and exits with STATUS.

    python3 python_marks.py REQUESTS STATUS
"""
import sys

import heapswitch


def work(i):
    block = bytearray(100000 + i % 1000)  # beyond pymalloc's small blocks: a malloc call
    block[-1] = i % 256
    return len(block) + block[-1]


@heapswitch.request()
def decorated(i):
    return work(i)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python_marks.py REQUESTS STATUS")
    requests, status = int(sys.argv[1]), int(sys.argv[2])
    total = 0
    for i in range(requests):
        if i % 3 == 0:
            try:
                with heapswitch.request():
                    total += work(i)
                    if i == 3:
                        raise ValueError("a failed request is still a request")
            except ValueError:
                total += 1
        elif i % 3 == 1:
            total += decorated(i)
        else:
            total += work(i)
            heapswitch.request_done()
    print("%d requests, total %d" % (requests, total))
    if heapswitch.loaded():
        print("backend: %s (heapswitch %s)" % (heapswitch.backend_name(), heapswitch.version()),
              file=sys.stderr)
    else:
        print("backend: none (heapswitch not loaded)", file=sys.stderr)
    sys.exit(status)


main()
