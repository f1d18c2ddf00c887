#!/bin/sh
# python3 doing real work (JSON round trip, sorting, threads, a C++-free
# stdlib full of small allocations) under the backend, output compared
# with a plain run; the script also asks the library which backend served it.
set -u
. "$(dirname "$0")/common.sh"
require python3

script=$(mktemp) && register_cleanup "$script"
cat >"$script" <<'PY'
import ctypes, hashlib, json, random, sys, threading

random.seed(7)
records = [{"id": i, "name": "user%05d" % i, "tags": [random.choice("abcdef") * random.randint(1, 9) for _ in range(5)],
            "score": random.random()} for i in range(60000)]
text = json.dumps(records, sort_keys=True)
assert json.loads(text) == records
records.sort(key=lambda r: (r["tags"][0], -r["score"]))
words = sorted(set(" ".join(" ".join(r["tags"]) for r in records).split()))

results = [None] * 4
def work(slot):
    local = {}
    for i in range(40000):
        key = "k%d" % ((i * 7919 + slot) % 5000)
        local[key] = local.get(key, "") + chr(97 + i % 26)
    results[slot] = hashlib.sha256(json.dumps(local, sort_keys=True).encode()).hexdigest()
threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
for t in threads: t.start()
for t in threads: t.join()

print(hashlib.sha256(text.encode()).hexdigest())
print(records[0]["id"], records[-1]["id"], len(words))
print(" ".join(results))
try:
    lib = ctypes.CDLL(None)
    lib.heapswitch_backend_name.restype = ctypes.c_char_p
    print("backend:", lib.heapswitch_backend_name().decode(), file=sys.stderr)
except AttributeError:
    print("backend: (not loaded)", file=sys.stderr)
PY

compare_with_plain "python3 json/sort/threads" python3 "$script"
