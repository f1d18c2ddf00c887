# heapswitch stat: a known process appears with its tag and its exact
# calls, --json and --csv are well-formed, a PID without a segment is an
# error, bad input.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"
. "$abs_top_srcdir/tests/hold.sh"
# Short enough for the text table's TAG column.
TAG=st$(($$ % 100000))

# hold's own calls besides its 40 pairs, measured without the command.
hold_baseline "$work"
if [ -z "$base_malloc" ] || [ -z "$base_free" ]; then
    fail "baseline: could not read hold's own calls: $(cat "$work/baseline.out")"
    finish
fi

"$HSW" run -t "$TAG" -- "$HOLD" wait 40 >"$work/hold.out" 2>"$work/hold.err" &
track $!
if ! wait_for 10 grep -qs '^pid ' "$work/hold.out"; then
    fail "hold did not start: $(cat "$work/hold.err")"
    finish
fi
pid=$(sed -n 's/^pid //p' "$work/hold.out")
wait_for 5 "$HSW" stat -i 0.1 "$pid" >/dev/null 2>&1

expect_status 0 "stat PID" "$HSW" stat -i 0.2 "$pid"
check "the text table shows pid $pid with tag $TAG" \
    grep -q "^ *$pid .*$TAG" "$work/out"
expect_status 0 "stat (every process)" "$HSW" stat -i 0.2
check "every process: $pid is listed" grep -q "^ *$pid .*$TAG" "$work/out"

expect_status 0 "stat --json PID" "$HSW" stat --json -i 0.2 "$pid"
cp "$work/out" "$work/stat.json"
if have_python; then
    if python3 - "$work/stat.json" "$pid" "$TAG" $((base_malloc + 40)) $((base_free + 40)) <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
found = [r for r in data["processes"] if r["pid"] == int(sys.argv[2])]
assert len(found) == 1, "pid not in the JSON"
assert found[0]["tag"] == sys.argv[3], found[0]["tag"]
# hold made 40 malloc/free pairs before it printed its pid, and its own
# few calls: exactly these, no call counted twice.
want = {"malloc": int(sys.argv[4]), "calloc": 0, "realloc": 0, "free": int(sys.argv[5]),
        "aligned": 0}
assert found[0]["calls"] == want, (found[0]["calls"], want)
PY
    then ok "--json is valid JSON with the process, its tag and its exact calls"
    else fail "--json: $(head -c 400 "$work/stat.json")"
    fi
else
    check "--json mentions the tag (no python3 to parse it)" grep -q "\"$TAG\"" "$work/stat.json"
fi
expect_status 0 "stat --csv PID" "$HSW" stat --csv -i 0.2 "$pid"
check "--csv: a header and the process" sh -c "head -n 1 '$work/out' | grep -q '^time,pid,' &&
    grep -q ',$pid,.*$TAG' '$work/out'"
# malloc and free are the 14th and 17th fields.
check "--csv: the exact calls ($((base_malloc + 40)) malloc, $((base_free + 40)) free)" \
    test "$(awk -F, -v p="$pid" '$2 == p { print $14 "," $17 }' "$work/out")" = \
    "$((base_malloc + 40)),$((base_free + 40))"

kill -USR1 "$pid" 2>/dev/null
wait_for 5 sh -c "! kill -0 $pid 2>/dev/null"

# A PID without a segment: this shell is not under libheapswitch.
expect_error 1 "a PID without a segment exits 1" "$HSW" stat -i 0.1 $$
expect_error 1 "a PID that does not exist exits 1" "$HSW" stat -i 0.1 2147483646

# Bad input: one line, exit 2.
expect_error 2 "unknown option" "$HSW" stat --frobnicate
expect_error 2 "a PID that is not a number" "$HSW" stat abc
expect_error 2 "a negative PID" "$HSW" stat -5
expect_error 2 "-i that is not a number" "$HSW" stat -i abc
expect_error 2 "-i 0" "$HSW" stat -i 0
expect_error 2 "-i without a value" "$HSW" stat -i
expect_error 2 "an unknown --sort column" "$HSW" stat --sort nothing
expect_status 0 "--help" "$HSW" stat --help

finish
