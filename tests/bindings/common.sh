# Helpers for the bindings' tests (tests/bindings/*.sh), each run under
# every backend by tests/run-backend-test.sh from the build directory, with
# HEAPSWITCH_BACKEND and HSW_PRELOAD set. A marking program takes
# REQUESTS STATUS, prints the same stdout with or without heapswitch, says
# "backend: NAME ..." on stderr ("backend: none ..." without heapswitch)
# and exits with STATUS.

if [ ! -f ./tests/testenv.sh ]; then
    echo "FAIL: run from the build directory (no ./tests/testenv.sh)"
    exit 99
fi
. ./tests/testenv.sh
. "$abs_top_srcdir/tests/checks.sh"

: "${HEAPSWITCH_BACKEND:?set by the runner}" "${HSW_PRELOAD:?set by the runner}"
unset HEAPSWITCH_TAG HEAPSWITCH_STATS HEAPSWITCH_REPORT HEAPSWITCH_KEEP LD_PRELOAD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

require_python() {
    command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed (it reads the reports)"; exit 77; }
}

require_cargo_build() {
    if [ -z "$CARGO" ]; then
        echo "SKIP: no Rust toolchain: configure found no cargo (./bootstrap installs Debian's rustc and cargo; or set CARGO)"
        exit 77
    fi
    for program in "$@"; do
        [ -x "$program" ] || { echo "FAIL: $program was not built (make check builds it with $CARGO)"; exit 1; }
    done
}

# report_figure FILE KEY: a figure of the single report line in FILE:
# requests, allocs (malloc + calloc + realloc + aligned), malloc, backend.
report_figure() {
    python3 - "$1" "$2" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
if len(lines) != 1:
    sys.exit("want one report line, got %d" % len(lines))
line = json.loads(lines[0])
calls = line["calls"]
figures = {"requests": line["requests"], "malloc": calls["malloc"], "backend": line["backend"],
           "allocs": calls["malloc"] + calls["calloc"] + calls["realloc"] + calls["aligned"]}
print(figures[sys.argv[2]])
PY
}

# run_marked NAME REQUESTS COMMAND...: runs COMMAND REQUESTS 7 under
# heapswitch; stdout, stderr, status and report in $work/NAME.*.
run_marked() {
    run_name=$1 run_requests=$2
    shift 2
    : >"$work/$run_name.report"
    HEAPSWITCH_STRICT=1 HEAPSWITCH_REPORT="$work/$run_name.report" LD_PRELOAD="$HSW_PRELOAD" \
        "$@" "$run_requests" 7 >"$work/$run_name.out" 2>"$work/$run_name.err"
    echo $? >"$work/$run_name.status"
}

# check_marks LABEL PER_REQUEST COMMAND...: the binding is a no-op without
# heapswitch (same stdout and exit status, "backend: none") and, under the
# backend, marks exactly the requests made (REQUESTS and twice as many);
# with PER_REQUEST (not "-"), each request adds exactly that many malloc
# calls.
check_marks() {
    label=$1 per_request=$2
    shift 2
    env -u LD_PRELOAD "$@" 30 7 >"$work/plain.out" 2>"$work/plain.err"
    plain_status=$?
    check "$label without heapswitch: exit status 7 (got $plain_status)" test "$plain_status" -eq 7
    check "$label without heapswitch: the binding sees no heapswitch ($(cat "$work/plain.err"))" \
        grep -q '^backend: none' "$work/plain.err"
    run_marked once 30 "$@"
    run_marked twice 60 "$@"
    check "$label under $HEAPSWITCH_BACKEND: exit status 7 (got $(cat "$work/once.status"))" \
        test "$(cat "$work/once.status")" -eq 7
    check "$label under $HEAPSWITCH_BACKEND: the same output as without heapswitch" \
        cmp -s "$work/plain.out" "$work/once.out"
    check "$label under $HEAPSWITCH_BACKEND: the binding names the backend ($(cat "$work/once.err"))" \
        grep -q "^backend: $HEAPSWITCH_BACKEND " "$work/once.err"
    check "$label under $HEAPSWITCH_BACKEND: nothing else on stderr" \
        test "$(grep -vc '^backend: ' "$work/once.err")" -eq 0
    once_requests=$(report_figure "$work/once.report" requests)
    twice_requests=$(report_figure "$work/twice.report" requests)
    check "$label under $HEAPSWITCH_BACKEND: 30 requests counted (got $once_requests)" \
        test "$once_requests" = 30
    check "$label under $HEAPSWITCH_BACKEND: 60 requests counted (got $twice_requests)" \
        test "$twice_requests" = 60
    if [ "$per_request" != - ]; then
        once_malloc=$(report_figure "$work/once.report" malloc)
        twice_malloc=$(report_figure "$work/twice.report" malloc)
        extra=$((twice_malloc - once_malloc))
        check "$label under $HEAPSWITCH_BACKEND: 30 more requests, $((30 * per_request)) more malloc calls (got $extra)" \
            test "$extra" -eq $((30 * per_request))
    fi
}
