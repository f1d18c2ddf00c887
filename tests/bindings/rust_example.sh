#!/bin/sh
# examples/rust: the naive and the tuned request handler print the same
# responses (checksum), with or without heapswitch; under the backend every
# request is marked, the naive handler makes thousands of allocations per
# request and the tuned one none (60 requests cost exactly as many
# allocation calls as 30).
set -u
. "$(dirname "$0")/common.sh"
require_python
handler=$CARGO_TARGET_DIR/release/request_handler
require_cargo_build "$handler"

# handler_run NAME MODE REQUESTS: under heapswitch, report in $work/NAME.report.
handler_run() {
    : >"$work/$1.report"
    HEAPSWITCH_STRICT=1 HEAPSWITCH_REPORT="$work/$1.report" LD_PRELOAD="$HSW_PRELOAD" \
        "$handler" --"$2" -r "$3" -l 40 >"$work/$1.out" 2>"$work/$1.err"
    echo $? >"$work/$1.status"
}

env -u LD_PRELOAD "$handler" --naive -r 30 -l 40 >"$work/plain-naive.out" 2>&1
check "naive handler without heapswitch: exit status 0" test $? -eq 0
env -u LD_PRELOAD "$handler" --tuned -r 30 -l 40 >"$work/plain-tuned.out" 2>&1
check "tuned handler without heapswitch: exit status 0" test $? -eq 0
check "naive and tuned render the same responses ($(cat "$work/plain-naive.out"))" \
    cmp -s "$work/plain-naive.out" "$work/plain-tuned.out"

handler_run naive naive 30
handler_run tuned tuned 30
handler_run tuned60 tuned 60
for run in naive tuned tuned60; do
    check "$run under $HEAPSWITCH_BACKEND: exit status 0, nothing on stderr" \
        test "$(cat "$work/$run.status")" -eq 0 -a ! -s "$work/$run.err"
done
check "naive under $HEAPSWITCH_BACKEND: the same output as without heapswitch" \
    cmp -s "$work/plain-naive.out" "$work/naive.out"
check "tuned under $HEAPSWITCH_BACKEND: the same output as without heapswitch" \
    cmp -s "$work/plain-tuned.out" "$work/tuned.out"
check "the report is of $HEAPSWITCH_BACKEND" \
    test "$(report_figure "$work/naive.report" backend)" = "$HEAPSWITCH_BACKEND"
for run in naive tuned; do
    requests=$(report_figure "$work/$run.report" requests)
    check "$run under $HEAPSWITCH_BACKEND: 30 requests counted (got $requests)" test "$requests" = 30
done
naive_allocs=$(report_figure "$work/naive.report" allocs)
check "naive: thousands of allocations per request ($((naive_allocs / 30)))" test $((naive_allocs / 30)) -ge 2000
tuned_allocs=$(report_figure "$work/tuned.report" allocs)
tuned60_allocs=$(report_figure "$work/tuned60.report" allocs)
check "tuned: no allocation per request (30 requests: $tuned_allocs calls, 60: $tuned60_allocs)" \
    test "$tuned_allocs" -eq "$tuned60_allocs"
[ "$failures" -eq 0 ]
