# Helpers for the real-program tests: run a command plainly and under
# libheapswitch ($HSW_PRELOAD, with $HEAPSWITCH_BACKEND set by the runner)
# and compare what they print.

cleanup_files=
register_cleanup() { cleanup_files="$cleanup_files $*"; }
trap 'rm -f $cleanup_files' EXIT

require() {
    command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 is not installed"; exit 77; }
}

# compare_with_plain LABEL COMMAND ARGS...: fails if the outputs or exit
# statuses differ, or if the run under heapswitch wrote anything on stderr
# apart from the line the Python test prints about its backend.
compare_with_plain() {
    label=$1
    shift
    plain_out=$(mktemp) hsw_out=$(mktemp) hsw_err=$(mktemp)
    register_cleanup "$plain_out" "$hsw_out" "$hsw_err"
    env -u LD_PRELOAD "$@" >"$plain_out" 2>/dev/null
    plain_status=$?
    LD_PRELOAD="$HSW_PRELOAD" "$@" >"$hsw_out" 2>"$hsw_err"
    hsw_status=$?
    if [ "$plain_status" -ne "$hsw_status" ]; then
        echo "FAIL: $label: status $hsw_status under $HEAPSWITCH_BACKEND, $plain_status plain"
        cat "$hsw_err"
        exit 1
    fi
    if ! cmp -s "$plain_out" "$hsw_out"; then
        echo "FAIL: $label: output differs under $HEAPSWITCH_BACKEND"
        diff "$plain_out" "$hsw_out" | head -20
        exit 1
    fi
    if grep -v '^backend: ' "$hsw_err" | grep -q .; then
        echo "FAIL: $label: stderr under $HEAPSWITCH_BACKEND:"
        cat "$hsw_err"
        exit 1
    fi
    if grep -q '^backend: ' "$hsw_err" && ! grep -q "^backend: $HEAPSWITCH_BACKEND\$" "$hsw_err"; then
        echo "FAIL: $label: $(grep '^backend: ' "$hsw_err"), want $HEAPSWITCH_BACKEND"
        exit 1
    fi
    echo "ok: $label under $HEAPSWITCH_BACKEND ($(wc -c <"$hsw_out") bytes of identical output)"
}
