#!/bin/sh
# HEAPSWITCH_BACKEND and HEAPSWITCH_STRICT: an unknown or unavailable
# backend gives one warning line naming the valid ones and falls back to
# system; with HEAPSWITCH_STRICT=1 it exits with status 1 instead.
set -u
. ./tests/testenv.sh

program=tests/api/backend_name
failures=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# run EXPECTED_STATUS EXPECTED_STDOUT STDERR_PATTERN [VAR=VALUE...]
run() {
    want_status=$1 want_out=$2 pattern=$3
    shift 3
    env -u HEAPSWITCH_BACKEND -u HEAPSWITCH_STRICT "$@" \
        LD_PRELOAD="$LIBHEAPSWITCH" "$program" --print >"$out" 2>"$err"
    status=$?
    lines=$(wc -l <"$err")
    if [ "$status" != "$want_status" ] || [ "$(cat "$out")" != "$want_out" ]; then
        echo "FAIL: $*: status $status (want $want_status), stdout '$(cat "$out")' (want '$want_out')"
        failures=$((failures + 1))
    elif [ -n "$pattern" ] && { [ "$lines" -ne 1 ] || ! grep -q -- "$pattern" "$err"; }; then
        echo "FAIL: $*: stderr should be one line matching '$pattern', was:"
        cat "$err"
        failures=$((failures + 1))
    elif [ -z "$pattern" ] && [ -s "$err" ]; then
        echo "FAIL: $*: unexpected stderr:"
        cat "$err"
        failures=$((failures + 1))
    else
        echo "ok: $* -> status $status, $(cat "$out")"
    fi
}

valid="valid: system"
run 0 system ""
run 0 system "" HEAPSWITCH_BACKEND=
run 0 system "" HEAPSWITCH_BACKEND=system
run 0 system "HEAPSWITCH_BACKEND='tcmalloc' is not a backend ($valid.*); using system" \
    HEAPSWITCH_BACKEND=tcmalloc
run 0 system "HEAPSWITCH_BACKEND='SYSTEM' is not a backend" HEAPSWITCH_BACKEND=SYSTEM
run 1 "" "HEAPSWITCH_BACKEND='tcmalloc' is not a backend ($valid.*); exiting because HEAPSWITCH_STRICT=1" \
    HEAPSWITCH_BACKEND=tcmalloc HEAPSWITCH_STRICT=1
run 0 system "is not a backend" HEAPSWITCH_BACKEND=tcmalloc HEAPSWITCH_STRICT=0
run 0 system "ignoring HEAPSWITCH_STRICT='sometimes'" HEAPSWITCH_STRICT=sometimes
run 0 arena "" HEAPSWITCH_BACKEND=arena
run 0 arena "ignoring HEAPSWITCH_ARENA_CHUNK='3M'" HEAPSWITCH_BACKEND=arena HEAPSWITCH_ARENA_CHUNK=3M
run 0 arena "" HEAPSWITCH_BACKEND=arena HEAPSWITCH_ARENA_CHUNK=256K
# The counting level and the refresher thread: one line for a bad value.
for backend in system jemalloc mimalloc arena; do
    hsw_backend_built "$backend" || continue
    run 0 "$backend" "ignoring HEAPSWITCH_STATS='sometimes' (expected default, exact, or 0/off)" \
        HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STATS=sometimes
    run 0 "$backend" "" HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STATS=exact
    run 0 "$backend" "ignoring HEAPSWITCH_REFRESH_THREAD='2'" \
        HEAPSWITCH_BACKEND=$backend HEAPSWITCH_REFRESH_THREAD=2
    # Call-site sampling: sizes with k/M/G, 0 off; anything else one line.
    for bad in 512x -1 1.5M lots; do
        run 0 "$backend" "ignoring HEAPSWITCH_SAMPLE='$bad' (expected a mean interval in bytes" \
            HEAPSWITCH_BACKEND=$backend HEAPSWITCH_SAMPLE=$bad
    done
    for good in 0 512k 64K 8192 1M; do
        run 0 "$backend" "" HEAPSWITCH_BACKEND=$backend HEAPSWITCH_SAMPLE=$good
    done
    run 0 "$backend" "" HEAPSWITCH_BACKEND=$backend HEAPSWITCH_SAMPLE=64k HEAPSWITCH_STATS=0
done
for backend in jemalloc mimalloc; do
    if hsw_backend_built "$backend"; then
        run 0 "$backend" "" HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1
    else
        run 1 "" "HEAPSWITCH_BACKEND='$backend' .*exiting" HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1
    fi
done

# Strict mode stops even a program that never allocates, before main().
env HEAPSWITCH_BACKEND=nope HEAPSWITCH_STRICT=1 LD_PRELOAD="$LIBHEAPSWITCH" /bin/true 2>/dev/null
status=$?
if [ "$status" -ne 1 ]; then
    echo "FAIL: /bin/true under a strict bad backend exited $status, want 1"
    failures=$((failures + 1))
fi

[ "$failures" -eq 0 ]
