# Helpers for the tests of the heapswitch command (tests/cli/*.sh),
# sourced by each. They run from the build directory.
#
# Every check prints one "ok: ..." or "FAIL: ..." line and the script goes
# on; finish exits 1 if any failed. Every process a script starts goes
# through track, and is stopped on exit (also on failure or interruption);
# every file lives in $work, removed on exit.

if [ ! -f ./tests/testenv.sh ]; then
    echo "FAIL: run from the build directory (no ./tests/testenv.sh)"
    exit 99
fi
. ./tests/testenv.sh

# The command under test: HSW_COMMAND overrides it (e.g. a copy built
# elsewhere).
HSW=${HSW_COMMAND:-$abs_top_builddir/dashboard/heapswitch}
HOLD=$abs_top_builddir/tests/segment/hold
WORKLOAD=$abs_top_builddir/examples/workload
# Ours alone decide: none of these may leak in from the caller.
unset HEAPSWITCH_BACKEND HEAPSWITCH_STRICT HEAPSWITCH_TAG HEAPSWITCH_STATS \
    HEAPSWITCH_REPORT HEAPSWITCH_KEEP LD_PRELOAD
test_name=$(basename "$0" .sh)
TAG=cli-$test_name-$$

. "$abs_top_srcdir/tests/checks.sh"
started_pids=
work=$(mktemp -d "${TMPDIR:-/tmp}/heapswitch-cli-$test_name.XXXXXX") || exit 99

track() { started_pids="$started_pids $1"; }

cleanup() {
    # USR1 first: hold exits normally on it (removing its segment); for the
    # others it is as fatal as TERM. Then TERM, then KILL, each bounded.
    for signal in USR1 TERM KILL; do
        alive=
        for pid in $started_pids; do
            kill -0 "$pid" 2>/dev/null || continue
            kill -$signal "$pid" 2>/dev/null
            alive="$alive $pid"
        done
        [ -n "$alive" ] || break
        i=0
        while [ $i -lt 20 ]; do
            still=
            for pid in $alive; do
                kill -0 "$pid" 2>/dev/null && still=1
            done
            [ -n "$still" ] || break
            sleep 0.1
            i=$((i + 1))
        done
    done
    # What a signal left behind: the segments of the processes started here.
    for pid in $started_pids; do
        rm -f "${HEAPSWITCH_DIR:-/dev/shm}/heapswitch-$(id -u)-$pid"
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    exit 0
}

# expect_status WANT DESCRIPTION COMMAND...: runs COMMAND (stderr to
# $work/err, stdout to $work/out), checks its exit status.
expect_status() {
    want=$1
    description=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" = "$want" ]; then
        ok "$description (exit $got)"
    else
        fail "$description: exit $got, expected $want; stderr: $(head -c 300 "$work/err")"
    fi
}

# expect_error WANT DESCRIPTION COMMAND...: as expect_status, and stderr
# must begin with one line "heapswitch[ NAME]: ..." (a usage error may add
# the "Try ..." line).
expect_error() {
    expect_status "$@"
    first=$(head -n 1 "$work/err")
    case $first in
        "heapswitch"*": "*) ok "  one-line error: $first" ;;
        *) fail "  no error message on stderr for: $2" ;;
    esac
}

# wait_for SECONDS COMMAND...: retries COMMAND every 0.1 s until it
# succeeds or SECONDS pass.
wait_for() {
    limit=$(($1 * 10))
    shift
    i=0
    while [ $i -lt $limit ]; do
        if "$@"; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

have_python() { command -v python3 >/dev/null 2>&1; }
