#!/bin/sh
# The truth test of latency sampling: tests/latency/slow_share makes 1 in
# 50 of its mallocs a 64 MiB one (a fresh mapping, or a large extent, its
# pages touched: microseconds) among small ones from a pool (tens of ns),
# and frees them likewise; what its own segment says must put that share
# where it belongs: p96 among the small calls, p99 among the large ones,
# at least 4 times apart, for allocations and frees alike. Run at the
# default counting level and at the exact one (the other counted paths),
# with the TSC where the machine has an invariant one and with
# CLOCK_MONOTONIC, and with the expected number of samples. The same with
# the allocating calls made by calloc, realloc or posix_memalign, which are
# timed as mallocs are (under realloc, each large block comes from growing
# a 16-byte one: the slow share is 1 call in 51): the same number of
# samples, and p99 above p96 and at least 4 times p50. And frees made by
# realloc(ptr, 0), timed as frees: the same number of free samples, the
# slow share above p98.
set -u
. ./tests/testenv.sh

program=$abs_top_builddir/tests/latency/slow_share
mallocs=150000
rate=64
failures=0
unset HEAPSWITCH_STATS HEAPSWITCH_LATENCY HEAPSWITCH_LATENCY_CLOCK HEAPSWITCH_REPORT LD_PRELOAD

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# value KEY FILE: the value of "KEY=value" in FILE.
value() {
    sed -n "s/^$1=//p" "$2"
}

# check LABEL FILE [KINDS]: the figures of one run.
check() {
    label=$1
    out=$2
    if [ "$(value present "$out")" != 1 ]; then
        fail "$label: no latency figures"
        return
    fi
    for kind in ${3:-alloc free}; do
        samples=$(value ${kind}_samples "$out")
        below=$(value ${kind}_below "$out")
        above=$(value ${kind}_above "$out")
        p50=$(value ${kind}_p50 "$out")
        echo "$label: $kind: $samples samples, p50 $p50 ns, p96 $below ns, p99 $above ns"
        # One call in $rate of $mallocs (the frees are as many): within 10%.
        expected=$((mallocs / rate))
        if [ "$samples" -lt $((expected * 9 / 10)) ] || [ "$samples" -gt $((expected * 11 / 10)) ]; then
            fail "$label: $kind: $samples samples, expected about $expected"
        fi
        if [ "${call:-malloc}" = malloc ] || [ "$kind" = free ]; then
            if [ "$below" -le 0 ] || [ "$above" -lt $((4 * below)) ]; then
                fail "$label: $kind: the slow 2% are not above p98 (p96 $below ns, p99 $above ns)"
            fi
        elif [ "$p50" -le 0 ] || [ "$above" -le "$below" ] || [ "$above" -lt $((4 * p50)) ]; then
            # A small calloc zeroes its block, and jemalloc serves a large
            # one from a cached extent in about a microsecond: there p96 and
            # p99 can be only 3 times apart; p99 still stands out from p50.
            fail "$label: $kind: the slow 2% do not stand out at p99 (p50 $p50 ns, p96 $below ns, p99 $above ns)"
        fi
    done
}

# run LABEL [CALL [KINDS]] -- VARIABLE=VALUE...: slow_share with its
# allocating calls made by CALL (malloc by default).
run() {
    label=$1
    call=${2:-malloc}
    kinds=${3:-alloc free}
    shift 3
    out=$(mktemp)
    if ! env "$@" HEAPSWITCH_LATENCY=$rate LD_PRELOAD="$HSW_PRELOAD" "$program" $mallocs "$call" >"$out"; then
        fail "$label: slow_share failed"
    else
        check "$label" "$out" "$kinds"
    fi
    rm -f "$out"
}

run "default level" "" "" HEAPSWITCH_STATS=default
run "exact level, CLOCK_MONOTONIC" "" "" HEAPSWITCH_STATS=exact HEAPSWITCH_LATENCY_CLOCK=monotonic
# With call sites sampled too: the 64 MiB blocks are always sampled, and
# must still be timed (the stack is taken outside the timed part).
run "default level, call sites sampled" "" "" HEAPSWITCH_STATS=default HEAPSWITCH_SAMPLE=64k
run "exact level, call sites sampled" "" "" HEAPSWITCH_STATS=exact HEAPSWITCH_SAMPLE=64k
run "calloc" calloc "" HEAPSWITCH_STATS=default
run "realloc" realloc "" HEAPSWITCH_STATS=default
run "posix_memalign" aligned "" HEAPSWITCH_STATS=default
run "realloc, exact level, call sites sampled" realloc "" HEAPSWITCH_STATS=exact HEAPSWITCH_SAMPLE=64k
run "realloc to size 0" realloc0 free HEAPSWITCH_STATS=default
run "realloc to size 0, exact level, call sites sampled" realloc0 free HEAPSWITCH_STATS=exact HEAPSWITCH_SAMPLE=64k
if [ "$failures" -ne 0 ]; then
    echo "slow_share under $HEAPSWITCH_BACKEND: $failures failure(s)"
    exit 1
fi
echo "slow_share under $HEAPSWITCH_BACKEND: passed"
