#!/bin/sh
# A manual check of `heapswitch ab`'s verdicts end to end (not a test: it
# times things). Three comparisons, each printing its wall-time block:
#   1. a known 5% effect: a command that sleeps 105 ms under jemalloc and
#      100 ms under system (timed through heapswitch, --timing heapswitch,
#      so that the command sees HEAPSWITCH_BACKEND): expect "system better"
#      with an interval around 1.05;
#   2. no effect: the same 100 ms sleep under both: expect "no difference
#      detected";
#   3. a real one: examples/request_server --naive under jemalloc and
#      mimalloc, each preloaded alone.
#
#   bench/ab-verdicts.sh [RUNS]   (from the build directory, after make)
set -u
runs=${1:-20}
hsw=./dashboard/heapswitch
[ -x "$hsw" ] && [ -x ./examples/request_server ] ||
    { echo "bench/ab-verdicts.sh: run it from the build directory after make" >&2; exit 1; }

echo "1. a known 5% effect (105 ms against 100 ms):"
"$hsw" ab -n "$runs" --counted-runs 0 --timing heapswitch -b system,jemalloc -- sh -c \
    'if [ "$HEAPSWITCH_BACKEND" = jemalloc ]; then sleep 0.105; else sleep 0.1; fi' |
    sed -n '/^wall time/,/^$/p'
echo "2. no effect (100 ms under both):"
"$hsw" ab -n "$runs" --counted-runs 0 --timing heapswitch -b system,jemalloc -- sleep 0.1 |
    sed -n '/^wall time/,/^$/p'
echo "3. examples/request_server --naive -r 1500, jemalloc and mimalloc preloaded alone:"
"$hsw" ab -n "$runs" -b jemalloc,mimalloc -- ./examples/request_server --naive -r 1500 |
    sed -n '/^wall time/,/^$/p'
