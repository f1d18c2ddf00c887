#!/bin/sh
# heapswitch top, in a private tmux server, shows the allocations per
# request of programs that mark their requests through the bindings:
# examples/rust naive (thousands) and tuned (0), and a Python program
# (a few), each under a different backend.
set -u
. ./tests/testenv.sh
. "$abs_top_srcdir/tests/checks.sh"
unset HEAPSWITCH_BACKEND HEAPSWITCH_STRICT HEAPSWITCH_TAG HEAPSWITCH_STATS HEAPSWITCH_REPORT \
    HEAPSWITCH_KEEP LD_PRELOAD
command -v tmux >/dev/null 2>&1 || { echo "SKIP: no tmux"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }
if [ -z "$CARGO" ]; then
    echo "SKIP: no Rust toolchain: configure found no cargo (./bootstrap installs Debian's rustc and cargo; or set CARGO)"
    exit 77
fi
handler=$CARGO_TARGET_DIR/release/request_handler
[ -x "$handler" ] || { echo "FAIL: $handler was not built (make check builds it with $CARGO)"; exit 1; }
second=arena
hsw_backend_built mimalloc && second=mimalloc

work=$(mktemp -d)
. "$abs_top_srcdir/tests/tmux.sh"
pids=
cleanup() {
    tmux_stop
    [ -n "$pids" ] && kill $pids 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# start BACKEND COMMAND...: runs COMMAND under heapswitch; pid in $last_pid.
start() {
    backend=$1
    shift
    HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 LD_PRELOAD=$LIBHEAPSWITCH "$@" >/dev/null 2>&1 &
    last_pid=$!
    pids="$pids $last_pid"
}
start system "$handler" --naive -r 100000000
naive=$last_pid
start "$second" "$handler" --tuned -r 100000000
tuned=$last_pid
third=system
hsw_backend_built jemalloc && third=jemalloc
python=$(python3 -c 'import sys; print(sys.executable)')
PYTHONPATH=$abs_top_srcdir/bindings/python PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYTHONDONTWRITEBYTECODE
start "$third" "$python" "$abs_top_srcdir/tests/bindings/python_marks.py" 100000000 0
py=$last_pid

tmux_session 140 20 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $abs_top_builddir/dashboard/heapswitch top -d 0.5 -p $naive,$tuned,$py; sleep 60"

# per_request PID: the ALLOC/REQ cell of PID's row, read under its heading.
per_request() {
    awk -v pid="$1" '
        /ALLOC\/REQ/ { end = index($0, "ALLOC/REQ") + 8 }
        end && $1 == pid { cell = substr($0, end - 9, 10); gsub(/ /, "", cell); print cell; exit }' "$work/screen"
}
# cell_matches PID PATTERN: PID's cell matches PATTERN (ERE).
cell_matches() { per_request "$1" | grep -Eq "$2"; }
# Naive: 11,207 allocations per request at 120 lines ("11.2k").
expect_within 20 "top: Rust naive handler under system, thousands of allocations per request" \
    cell_matches "$naive" '^[0-9.]+k$'
echo "    ALLOC/REQ: $(per_request "$naive")"
expect_within 20 "top: Rust tuned handler under $second, 0 allocations per request" cell_matches "$tuned" '^0$'
expect_within 20 "top: Python program under $third, a few allocations per request" \
    cell_matches "$py" '^[0-9]+(\.[0-9]+)?$'
echo "    ALLOC/REQ: $(per_request "$py")"
[ "$failures" -eq 0 ]
