# Helpers for the segment tests (tests/segment/*.sh), sourced by each.
# The runner (tests/run-backend-test.sh) exports HEAPSWITCH_BACKEND,
# HEAPSWITCH_STRICT and HSW_PRELOAD and runs the script from the build
# directory, where ./tests/testenv.sh gives the paths.
#
# Every check prints one "ok: ..." or "FAIL: ..." line and the script
# goes on; finish exits 1 if any check failed. Every process the script
# starts is tracked and stopped, and every segment and file it creates is
# removed, also when it fails or is interrupted. Each run labels its
# processes with a unique HEAPSWITCH_TAG and only ever removes segments
# carrying that tag, or names it planted itself.

if [ ! -f ./tests/testenv.sh ]; then
    echo "FAIL: run from the build directory (no ./tests/testenv.sh)"
    exit 99
fi
. ./tests/testenv.sh

: "${HEAPSWITCH_BACKEND:?set by the runner}" "${HSW_PRELOAD:?set by the runner}"
HEAPSWITCH_STRICT=${HEAPSWITCH_STRICT:-1}
export HEAPSWITCH_BACKEND HEAPSWITCH_STRICT HSW_PRELOAD
# Ours alone decide: none of these may leak in from the caller.
unset HEAPSWITCH_TAG HEAPSWITCH_STATS HEAPSWITCH_REPORT HEAPSWITCH_KEEP LD_PRELOAD

HOLD=$abs_top_builddir/tests/segment/hold
SEGREAD=$abs_top_builddir/tests/tools/segread
SHM=/dev/shm
uid=$(id -u)
test_name=$(basename "$0" .sh)
# One tag for a whole run, also inside the namespaces it re-enters.
TAG=${HSW_SEG_TAG:-seg-$test_name-$HEAPSWITCH_BACKEND-$$}
HSW_SEG_TAG=$TAG
export HSW_SEG_TAG

. "$abs_top_srcdir/tests/checks.sh"
. "$abs_top_srcdir/tests/hold.sh"
started_pids=
planted=

# expect_eq LABEL ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}

is_number() {
    case $1 in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac
}

# expect_range LABEL VALUE LOW HIGH: LOW <= VALUE < HIGH.
expect_range() {
    if is_number "$2" && [ "$2" -ge "$3" ] && [ "$2" -lt "$4" ]; then
        ok "$1 ($2 in [$3, $4))"
    else
        fail "$1: got '$2', want at least $3 and below $4"
    fi
}

# expect_grep LABEL FILE PATTERN: FILE has a line matching the basic regex.
expect_grep() {
    if grep -q -e "$3" "$2"; then
        ok "$1"
    else
        fail "$1: no line matching '$3' in:"
        sed 's/^/    | /' "$2"
    fi
}

# The value of KEY in a segread line ("key=value key=value ...").
field() {
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

require() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "SKIP: $1 is not installed"
        exit 77
    }
}

for program in "$HOLD" "$SEGREAD"; do
    if [ ! -x "$program" ]; then
        echo "FAIL: $program is not built (make check builds it)"
        exit 99
    fi
done

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/hsw-$test_name.XXXXXX") || exit 99

# start_hold OUT ARGS...: runs the hold helper preloaded, in the
# background, stdout to OUT, stderr to OUT.err; sets hold_pid. Variables
# assigned before the call (VAR=value start_hold ...) reach the helper.
start_hold() {
    out=$1
    shift
    LD_PRELOAD=$HSW_PRELOAD HEAPSWITCH_TAG=$TAG "$HOLD" "$@" >"$out" 2>"$out.err" &
    hold_pid=$!
    started_pids="$started_pids $hold_pid"
}

# wait_line FILE WORD: waits (at most 10 s) for the line "WORD PID" in
# FILE; sets line_pid. Fails if it does not come.
wait_line() {
    line_pid=
    tries=0
    while [ "$tries" -lt 200 ]; do
        line_pid=$(sed -n "s/^$2 \\([0-9][0-9]*\\)\$/\\1/p" "$1" 2>/dev/null | head -n 1)
        [ -n "$line_pid" ] && return 0
        sleep 0.05
        tries=$((tries + 1))
    done
    return 1
}

# stop_hold PID: asks a waiting helper to exit normally; sets hold_status.
stop_hold() {
    kill -USR1 "$1" 2>/dev/null
    wait "$1"
    hold_status=$?
}

# segment_file PID: the path a process of ours publishes.
segment_file() { echo "$SHM/heapswitch-$uid-$1"; }

# read_pid PID: segread -p PID; sets seg_line (stdout) and seg_status;
# its stderr goes to $tmpdir/segread.err.
read_pid() {
    seg_line=$("$SEGREAD" -p "$1" 2>"$tmpdir/segread.err")
    seg_status=$?
}

# baseline: hold's own calls besides its pairs (tests/hold.sh), and its
# final counts at exit as well: sets base_malloc, base_free and
# base_requested (read while it waits) and exit_malloc, exit_free (kept
# after its exit).
baseline() {
    exit_malloc= exit_free=
    hold_baseline "$tmpdir"
    HEAPSWITCH_KEEP=1 start_hold "$tmpdir/base-exit.out" run 0
    wait "$hold_pid"
    if wait_line "$tmpdir/base-exit.out" pid; then
        read_pid "$line_pid"
        exit_malloc=$(field malloc "$seg_line")
        exit_free=$(field free "$seg_line")
        rm -f "$(segment_file "$line_pid")"
    fi
    # A handful at most: more would mean calls counted that hold never made.
    expect_range "baseline: hold's own malloc calls (no pairs)" "$base_malloc" 0 4
    expect_range "baseline: hold's own free calls (no pairs)" "$base_free" 0 4
    expect_range "baseline: hold's own final malloc calls (no pairs)" "$exit_malloc" 0 4
    is_number "$base_requested" || fail "baseline: bytes requested '$base_requested'"
}

# Names planted by the test (in $SHM), removed at the end.
plant() { planted="$planted $*"; }

# Stops what we started, then removes the segments carrying our tag (the
# only ones we may remove: pids get reused) and the names we planted.
cleanup() {
    for pid in $started_pids; do
        kill -USR1 "$pid" 2>/dev/null
    done
    for pid in $started_pids; do
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 40 ]; do
            sleep 0.05
            tries=$((tries + 1))
        done
        kill -9 "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    "$SEGREAD" 2>/dev/null | while read -r line; do
        if [ "$(field tag "$line")" = "$TAG" ]; then
            rm -f "$(segment_file "$(field pid "$line")")"
        fi
    done
    for name in $planted; do
        rm -rf "${SHM:?}/${name:?}"
    done
    rm -rf "$tmpdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

section=
finish() {
    what="$test_name${section:+ (section $section, in its namespace)} under $HEAPSWITCH_BACKEND"
    if [ "$failures" -ne 0 ]; then
        echo "$what: $failures check(s) failed"
        exit 1
    fi
    echo "$what: all checks passed"
    exit 0
}

# Pids that no process can have (above pid_max), for planted names.
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 4194304)
fake_pid_base=$((pid_max + 1 + ($$ % 10000) * 100))

# ---------------------------------------------------------------------
# Namespaces. unshare_cmd is how this user may make a new mount
# namespace: plain as root, else in a user namespace that maps the user
# to root (where it exists). Empty when neither works.
# ---------------------------------------------------------------------
# HSW_SEG_NO_NAMESPACE=1 pretends there is none (to try the fallbacks).
unshare_cmd=
# (Not probed again inside a section: that would use up pids there.)
if [ "${HSW_SEG_NO_NAMESPACE-}" != 1 ] && [ "${1-}" != --section ] &&
    command -v unshare >/dev/null 2>&1; then
    if [ "$uid" -eq 0 ] &&
        unshare --mount --propagation private /bin/sh -c \
            'mount -t tmpfs -o size=64k hsw-probe /dev/shm' >/dev/null 2>&1; then
        unshare_cmd="unshare"
    elif unshare --user --map-root-user --mount --propagation private /bin/sh -c \
        'mount -t tmpfs -o size=64k hsw-probe /dev/shm' >/dev/null 2>&1; then
        unshare_cmd="unshare --user --map-root-user"
    fi
fi

# Whether we are root for real (not only inside a user namespace):
# chown to another user and setpriv need it. Sections inherit it.
if [ "${1-}" != --section ]; then
    HSW_SEG_REAL_ROOT=0
    if [ "$uid" -eq 0 ] && [ "$unshare_cmd" != "unshare --user --map-root-user" ]; then
        HSW_SEG_REAL_ROOT=1
    fi
    export HSW_SEG_REAL_ROOT
fi

# in_namespace [UNSHARE OPTIONS...] -- SECTION: runs this script again
# as "$0 --section SECTION" in a new mount namespace (plus the options)
# whose /dev/shm is a private, empty tmpfs; its ok/FAIL lines go to our
# stdout and its failures count as one of ours. Returns its status.
in_namespace() {
    options=
    while [ "$1" != -- ]; do
        options="$options $1"
        shift
    done
    # shellcheck disable=SC2086
    $unshare_cmd --mount --propagation private $options \
        /bin/sh "$0" --section "$2"
    section_status=$?
    case $section_status in
        0) ;;
        77) echo "(section $2 skipped)" ;;
        *) failures=$((failures + 1)) ;;
    esac
    return "$section_status"
}

# The start of section $1, inside its namespace.
enter_section() {
    section=$1
    mount -t tmpfs -o mode=1777,size=4m hsw-segment-test "$SHM" || {
        echo "FAIL: cannot mount a private tmpfs on $SHM"
        exit 99
    }
}
