#!/bin/sh
# valgrind memcheck on the heapswitch command reading live segments: top in
# batch mode (--json, and --csv), stat --json, and export --once answering
# one GET /metrics, while two processes publish (tests/segment/hold under
# two backends). Any memcheck error or definite leak fails. Skipped (77)
# without valgrind. The command itself is never preloaded with
# libheapswitch, so memcheck sees the reader's and the dashboard's own
# allocations. Runs from the build directory.
set -u
if [ ! -f ./tests/testenv.sh ]; then
    echo "FAIL: run from the build directory (no ./tests/testenv.sh)"
    exit 99
fi
. ./tests/testenv.sh
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIP: valgrind is not installed"
    exit 77
fi
unset HEAPSWITCH_BACKEND HEAPSWITCH_STRICT HEAPSWITCH_TAG HEAPSWITCH_STATS \
    HEAPSWITCH_REPORT HEAPSWITCH_KEEP LD_PRELOAD

# libtool makes dashboard/heapswitch a wrapper script when the reader is
# not installed: valgrind runs the real binary, with the uninstalled
# reader on the library path.
command=$abs_top_builddir/dashboard/heapswitch
if [ -x "$abs_top_builddir/dashboard/.libs/heapswitch" ]; then
    command=$abs_top_builddir/dashboard/.libs/heapswitch
elif [ -x "$abs_top_builddir/dashboard/.libs/lt-heapswitch" ]; then
    command=$abs_top_builddir/dashboard/.libs/lt-heapswitch
fi
LD_LIBRARY_PATH=$abs_top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
HOLD=$abs_top_builddir/tests/segment/hold

failures=0
pids=
work=$(mktemp -d "${TMPDIR:-/tmp}/heapswitch-memcheck.XXXXXX") || exit 99
cleanup() {
    for pid in $pids; do kill -USR1 "$pid" 2>/dev/null; done
    for pid in $pids; do wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ok() { echo "ok: $*"; }
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# wait_for SECONDS COMMAND...
wait_for() {
    limit=$(($1 * 10))
    shift
    i=0
    while [ $i -lt $limit ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# Two publishers: system, and another backend when built.
other=arena
hsw_backend_built jemalloc && other=jemalloc
for backend in system $other; do
    HEAPSWITCH_BACKEND=$backend HEAPSWITCH_TAG=memcheck-$backend LD_PRELOAD=$LIBHEAPSWITCH \
        "$HOLD" wait 5000 >"$work/hold-$backend" 2>&1 &
    pids="$pids $!"
    if ! wait_for 10 grep -qs '^pid ' "$work/hold-$backend"; then
        fail "hold under $backend did not start: $(cat "$work/hold-$backend")"
    fi
done

VALGRIND="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite"

# memcheck NAME ARGS...: runs the command under memcheck, output in
# $work/NAME.out, memcheck's report in $work/NAME.vg.
memcheck() {
    name=$1
    shift
    $VALGRIND --log-file="$work/$name.vg" "$command" "$@" >"$work/$name.out" 2>"$work/$name.err"
    status=$?
    judge "$name" "$status"
}
judge() {
    if [ "$2" = 0 ] && grep -q "ERROR SUMMARY: 0 errors" "$work/$1.vg"; then
        ok "$1: no memcheck errors, no definite leaks"
    else
        fail "$1: exit $2; $(grep -E 'ERROR SUMMARY|definitely lost' "$work/$1.vg")"
        sed -n '/^==[0-9]*== [A-Z]/,$p' "$work/$1.vg" | head -60
        head -c 500 "$work/$1.err"
    fi
}

memcheck top-json top -b -n 3 -d 0.2 --json
if grep -q memcheck-system "$work/top-json.out" && grep -q "memcheck-$other" "$work/top-json.out"; then
    ok "top --json shows both publishers"
else
    fail "top --json does not show both publishers: $(head -c 300 "$work/top-json.out")"
fi
memcheck top-csv top -b -n 2 -d 0.2 --csv
memcheck stat-json stat --json
if grep -q memcheck-system "$work/stat-json.out"; then
    ok "stat --json shows the publishers"
else
    fail "stat --json does not show the publishers: $(head -c 300 "$work/stat-json.out")"
fi
memcheck stat stat

# export --once: one request (curl, or python3), then it exits.
get() {
    if command -v curl >/dev/null 2>&1; then
        curl -s -m 120 -o "$2" "http://127.0.0.1:$1/metrics"
    elif command -v python3 >/dev/null 2>&1; then
        python3 -c 'import sys, urllib.request
open(sys.argv[2], "wb").write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=120).read())' "$1" "$2"
    else
        return 2
    fi
}
if command -v curl >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1; then
    tries=0
    while :; do
        port=$(( ( $(od -An -N2 -tu2 /dev/urandom) % 20000 ) + 30000 ))
        $VALGRIND --log-file="$work/export.vg" "$command" export --listen "127.0.0.1:$port" \
            --once >"$work/export.out" 2>"$work/export.err" &
        server=$!
        if wait_for 30 grep -qs serving "$work/export.err"; then break; fi
        wait $server 2>/dev/null
        tries=$((tries + 1))
        if [ $tries -ge 5 ] || ! grep -q "in use" "$work/export.err"; then
            fail "export did not start: $(head -c 300 "$work/export.err")"
            server=
            break
        fi
    done
    if [ -n "$server" ]; then
        if get "$port" "$work/metrics" && grep -q memcheck-system "$work/metrics"; then
            ok "export --once answered with the publishers"
        else
            fail "export --once: no answer with the publishers"
            kill "$server" 2>/dev/null
        fi
        wait $server
        judge export $?
    fi
else
    echo "skip: export (neither curl nor python3)"
fi

if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
exit 0
