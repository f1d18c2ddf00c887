#!/bin/sh
# An A/B comparison with `heapswitch ab`: the request server's naive mode
# under every backend this build has, interleaved runs (timed without
# heapswitch's counting, one counted run for the allocation figures),
# medians and spreads, ratios to glibc with intervals and verdicts, and an
# SVG chart for a review.
#
#   examples/ab.sh [RUNS]        (from the build directory, after make)
set -u
runs=${1:-10}
case $runs in '' | *[!0-9]* | 0) echo "usage: examples/ab.sh [RUNS]" >&2; exit 2 ;; esac
[ -x ./dashboard/heapswitch ] && [ -x ./examples/request_server ] ||
    { echo "examples/ab.sh: run it from the build directory after make" >&2; exit 1; }

./dashboard/heapswitch ab -n "$runs" --warmup 1 --svg ab.svg -- \
    ./examples/request_server --naive -r 1500
status=$?
echo
echo "chart: ab.svg"
exit $status
