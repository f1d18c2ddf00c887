#!/bin/sh
# The README's quick start ends in examples/demo.sh: without a terminal it
# prints its plain-text report. Run briefly (-s 2), it must exit 0 and
# report both modes under both backends, with the naive mode's thousands
# of allocations per request and the tuned mode's none; the same for
# examples/rust when cargo was found.
set -u
. ./tests/testenv.sh
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT
failures=0
check() { # LABEL COMMAND...
    label=$1
    shift
    if "$@"; then echo "ok: $label"; else echo "FAIL: $label"; failures=$((failures + 1)); fi
}

"$abs_top_srcdir/examples/demo.sh" -s 2 </dev/null >"$out" 2>&1
status=$?
sed 's/^/    | /' "$out"
check "demo exits 0 without a terminal" [ "$status" -eq 0 ]
# Two backends (system and the first other one built), two modes each.
check "two naive rows, two tuned rows" \
    sh -c "[ \$(grep -Ec '^[a-z]+ +naive ' '$out') -eq 2 ] && [ \$(grep -Ec '^[a-z]+ +tuned ' '$out') -eq 2 ]"
check "a system row" grep -Eq '^system +naive ' "$out"
check "naive: thousands of allocations per request" \
    sh -c "grep -E '^[a-z]+ +naive ' '$out' | awk '\$4 < 1000 { bad = 1 } END { exit bad }'"
check "tuned: no allocation per request" \
    sh -c "grep -E '^[a-z]+ +tuned ' '$out' | awk '\$4 != 0 { bad = 1 } END { exit bad }'"
# examples/rust, when configure found cargo: its rows are indented.
if [ -n "$CARGO" ]; then
    check "Rust: two naive rows with thousands of allocations per request" \
        sh -c "[ \$(grep -E '^  [a-z]+ +naive ' '$out' | awk '\$3 >= 1000' | wc -l) -eq 2 ]"
    check "Rust: two tuned rows with no allocation per request" \
        sh -c "[ \$(grep -E '^  [a-z]+ +tuned ' '$out' | awk '\$3 == 0' | wc -l) -eq 2 ]"
    check "Rust: the same checksum in every run" grep -q 'every run printed the same checksum' "$out"
else
    check "Rust: skipped with a reason" grep -q 'examples/rust: skipped, configure found no cargo' "$out"
fi
[ "$failures" -eq 0 ] && echo "demo: all checks passed" && exit 0
echo "demo: $failures check(s) failed"
exit 1
