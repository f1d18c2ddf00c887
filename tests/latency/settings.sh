#!/bin/sh
# HEAPSWITCH_LATENCY and HEAPSWITCH_LATENCY_CLOCK under one backend: a bad
# value gives one warning line and the default (the program runs on, its
# output unchanged); 0 and off publish no latency; the rate and clock
# asked for are the ones the segment says; real programs (sort, python3)
# run unchanged with latency at every call.
set -u
. ./tests/testenv.sh

program=$abs_top_builddir/tests/latency/slow_share
failures=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset HEAPSWITCH_STATS HEAPSWITCH_LATENCY HEAPSWITCH_LATENCY_CLOCK LD_PRELOAD

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run STDERR_PATTERN KEY=VALUE... [VAR=VALUE...]: runs slow_share with the
# variables; stderr must be one line matching the pattern (or empty for
# ""); each KEY=VALUE must be in its output.
run() {
    pattern=$1
    expected=$2
    shift 2
    env "$@" LD_PRELOAD="$HSW_PRELOAD" "$program" 3000 >"$work/out" 2>"$work/err"
    status=$?
    if [ $status -ne 0 ]; then
        fail "$*: exit status $status: $(cat "$work/err")"
        return
    fi
    if [ -n "$pattern" ]; then
        if [ "$(wc -l <"$work/err")" -ne 1 ] || ! grep -q -- "$pattern" "$work/err"; then
            fail "$*: stderr should be one line matching '$pattern', was: $(cat "$work/err")"
            return
        fi
    elif [ -s "$work/err" ]; then
        fail "$*: unexpected stderr: $(cat "$work/err")"
        return
    fi
    for pair in $expected; do
        grep -qx -- "$pair" "$work/out" || { fail "$*: no '$pair' in: $(tr '\n' ' ' <"$work/out")"; return; }
    done
    echo "ok: $* -> $expected"
}

# The default: one call in 1024, except under a backend that counts in its
# own fast paths (the arena), where latency is timed only when asked.
if [ "$HEAPSWITCH_BACKEND" = arena ]; then default="present=0"; else default="present=1 rate=1024"; fi
run "" "$default"
run "" "present=1 rate=16" HEAPSWITCH_LATENCY=16
run "" "present=1 rate=1" HEAPSWITCH_LATENCY=1
run "" "present=0" HEAPSWITCH_LATENCY=0
run "" "present=0" HEAPSWITCH_LATENCY=off
run "" "present=1 tsc=0" HEAPSWITCH_LATENCY_CLOCK=monotonic HEAPSWITCH_LATENCY=64
run "" "present=1 rate=64" HEAPSWITCH_LATENCY_CLOCK=auto HEAPSWITCH_LATENCY=64
for bad in abc -1 1.5 16k 1073741825 99999999999999999999 ' 7'; do
    run "ignoring HEAPSWITCH_LATENCY='$bad' (expected N: time one call in N on average" \
        "$default" "HEAPSWITCH_LATENCY=$bad"
done
run "ignoring HEAPSWITCH_LATENCY_CLOCK='rdtsc' (expected auto or monotonic)" "present=1" \
    HEAPSWITCH_LATENCY_CLOCK=rdtsc HEAPSWITCH_LATENCY=64
# With counting off nothing is published: the program cannot read itself.
env HEAPSWITCH_STATS=0 LD_PRELOAD="$HSW_PRELOAD" "$program" 3000 >"$work/out" 2>"$work/err"
if [ $? -eq 1 ] && grep -q "cannot read my own segment" "$work/err"; then
    echo "ok: HEAPSWITCH_STATS=0: no segment, latency included"
else
    fail "HEAPSWITCH_STATS=0: $(cat "$work/out" "$work/err")"
fi

# Real programs, every call timed: the same output as without heapswitch.
seq 20000 | sort -R --random-source=/dev/zero >"$work/input"
sort -n "$work/input" >"$work/plain"
HEAPSWITCH_LATENCY=1 LD_PRELOAD="$HSW_PRELOAD" sort -n "$work/input" >"$work/timed" 2>"$work/err" ||
    fail "sort under HEAPSWITCH_LATENCY=1: $(cat "$work/err")"
cmp -s "$work/plain" "$work/timed" && echo "ok: sort, every call timed: same output" ||
    fail "sort, every call timed: different output"
if command -v python3 >/dev/null 2>&1; then
    script='import json; print(sum(len(json.dumps({"k": list(range(i % 50))})) for i in range(20000)))'
    want=$(python3 -c "$script")
    got=$(HEAPSWITCH_LATENCY=1 LD_PRELOAD="$HSW_PRELOAD" python3 -c "$script" 2>"$work/err")
    [ "$got" = "$want" ] && echo "ok: python3, every call timed: same output" ||
        fail "python3, every call timed: '$got' not '$want' ($(cat "$work/err"))"
fi

if [ "$failures" -ne 0 ]; then
    echo "settings under $HEAPSWITCH_BACKEND: $failures failure(s)"
    exit 1
fi
echo "settings under $HEAPSWITCH_BACKEND: passed"
