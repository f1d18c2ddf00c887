# Helpers for the tests of `heapswitch top` (tests/dashboard/*.sh), sourced
# by each. They run from the build directory.
#
# Every check prints one "ok: ..." or "FAIL: ..." line and the script goes
# on; finish exits 1 if any failed. Every process a script starts goes
# through track and is stopped on exit (also on failure or interruption);
# files live in $work, removed on exit.

if [ ! -f ./tests/testenv.sh ]; then
    echo "FAIL: run from the build directory (no ./tests/testenv.sh)"
    exit 99
fi
. ./tests/testenv.sh

# `heapswitch top` under test: HSW_COMMAND overrides it (e.g. a copy built
# with sanitizers); the workloads always start through this build's.
HSW=$abs_top_builddir/dashboard/heapswitch
TOP=${HSW_COMMAND:-$HSW}
HOLD=$abs_top_builddir/tests/segment/hold
WORKLOAD=$abs_top_builddir/examples/workload
unset HEAPSWITCH_BACKEND HEAPSWITCH_STRICT HEAPSWITCH_TAG HEAPSWITCH_STATS \
    HEAPSWITCH_REPORT HEAPSWITCH_KEEP LD_PRELOAD
test_name=$(basename "$0" .sh)

. "$abs_top_srcdir/tests/checks.sh"
. "$abs_top_srcdir/tests/hold.sh"
started_pids=
work=$(mktemp -d "${TMPDIR:-/tmp}/heapswitch-top-$test_name.XXXXXX") || exit 99
# track PID: stopped at exit.
track() { started_pids="$started_pids $1"; }

# Hooks a script may add to the cleanup (e.g. killing its tmux server).
cleanup_hook() { :; }
cleanup() {
    cleanup_hook
    for pid in $started_pids; do
        kill -USR1 "$pid" 2>/dev/null
        kill "$pid" 2>/dev/null
    done
    for pid in $started_pids; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# wait_for_line FILE PATTERN SECONDS: until FILE has a line matching.
wait_for_line() {
    tries=$(($3 * 10))
    while [ "$tries" -gt 0 ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# wait_until SECONDS COMMAND...: until COMMAND succeeds (every 0.1 s).
wait_until() {
    tries=$(($1 * 10))
    shift
    while [ "$tries" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# start_workload BACKEND TAG [REQUESTS]: a busy process; its pid in $last_pid.
start_workload() {
    "$HSW" run -b "$1" -t "$2" -- "$WORKLOAD" "${3:-100000000}" 1 >/dev/null 2>&1 &
    last_pid=$!
    track "$last_pid"
    # until it publishes its segment (generous: the machine may be loaded)
    tries=200
    while [ "$tries" -gt 0 ] && [ ! -e "/dev/shm/heapswitch-$(id -u)-$last_pid" ]; do
        sleep 0.1
        tries=$((tries - 1))
    done
}

# A backend other than system that this build has, or nothing.
other_backend() {
    for backend in jemalloc mimalloc; do
        if hsw_backend_built "$backend"; then
            echo "$backend"
            return
        fi
    done
}

finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    exit 0
}
