# heapswitch top -b: text, JSON lines and CSV output, -p, --sort, the
# exact counts of a known process, an ended process marked then dropped,
# bad input, and no terminal without -b.
. "$(dirname "$0")/common.sh"

command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }

tag=tb$$
start_workload system "$tag"
busy=$last_pid

# -- JSON: one object per refresh, the busy process with its figures.
timeout 20 "$TOP" top -b -n 2 -d 0.5 --json >"$work/json" 2>"$work/json.err"
check "--json exits 0" test $? -eq 0
check "--json prints one line per refresh" test "$(wc -l <"$work/json")" -eq 2
check "--json: the workload with its tag, backend, rates and live bytes" \
    python3 - "$work/json" "$busy" "$tag" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objects = [json.loads(line) for line in lines]
pid, tag = int(sys.argv[2]), sys.argv[3]
rows = [p for p in objects[-1]["processes"] if p["pid"] == pid]
if not rows:
    sys.exit("pid %d not listed" % pid)
p = rows[0]
problems = []
if p["tag"] != tag: problems.append("tag %r" % p["tag"])
if p["backend"] != "system": problems.append("backend %r" % p["backend"])
if not (p["allocs_per_second"] or 0) > 0: problems.append("allocs/s %r" % p["allocs_per_second"])
if not p["live_bytes"] > 0: problems.append("live %r" % p["live_bytes"])
if problems: sys.exit("; ".join(problems))
PY

# -- A known number of calls: hold makes exactly N malloc/free pairs, plus
# its own few calls, measured first (tests/hold.sh): the command must
# show exactly that, not a call more (counted twice) or less.
[ -x "$HOLD" ] || { echo "FAIL: $HOLD is not built (make check builds it)"; exit 99; }
hold_baseline "$work"
check "baseline: hold's own calls measured ($base_malloc malloc, $base_free free)" \
    test -n "$base_malloc" -a -n "$base_free" -a -n "$base_requested"
pairs=12345
LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_KEEP=0 HEAPSWITCH_TAG=tbh$$ \
    "$HOLD" wait $pairs >"$work/hold.out" 2>&1 &
track $!
if wait_for_line "$work/hold.out" '^pid ' 10; then
    hold=$(sed -n 's/^pid //p' "$work/hold.out")
    timeout 20 "$TOP" top -b -n 1 -d 0.2 --json -p "$hold" >"$work/hold.json"
    check "--json -p: exactly the held process, its exact calls and bytes requested" \
        python3 - "$work/hold.json" "$hold" $((base_malloc + pairs)) $((base_free + pairs)) \
        $((base_requested + $(pair_bytes $pairs))) <<'PY'
import json, sys
o = json.loads(open(sys.argv[1]).read())
pid, malloc, free, requested = (int(a) for a in sys.argv[2:6])
ps = o["processes"]
if [p["pid"] for p in ps] != [pid]:
    sys.exit("listed %r" % [p["pid"] for p in ps])
calls = ps[0]["calls"]
want = {"malloc": malloc, "calloc": 0, "realloc": 0, "free": free, "aligned": 0}
if calls != want:
    sys.exit("calls %r, want %r" % (calls, want))
if ps[0]["bytes_requested"] != requested:
    sys.exit("bytes requested %r, want %r" % (ps[0]["bytes_requested"], requested))
PY
    timeout 20 "$TOP" top -b -n 2 -d 0.2 --csv -p "$hold" >"$work/csv"
    check "--csv: one header line" test "$(grep -c '^time,pid,' "$work/csv")" -eq 1
    check "--csv: a row per refresh" test "$(grep -c ",$hold,running," "$work/csv")" -eq 2
    # malloc and free are the 14th and 17th fields.
    check "--csv: the exact calls in each row" test "$(awk -F, -v p="$hold" \
        '$2 == p { print $14 "," $17 }' "$work/csv" | sort -u)" = \
        "$((base_malloc + pairs)),$((base_free + pairs))"

    # It exits: listed as exited, then dropped (after top's few seconds).
    # Waited for, each step with a generous bound; top runs on meanwhile.
    timeout 120 "$TOP" top -b -n 200 -d 0.5 --json -p "$hold" >"$work/gone.json" &
    watcher=$!
    track $watcher
    # The last complete refresh no longer lists it, an earlier one did as exited.
    dropped() {
        last=$(tail -n 1 "$work/gone.json")
        case $last in '{'*'}') ;; *) return 1 ;; esac
        case $last in *"\"pid\":$hold,"*) return 1 ;; esac
        grep -q "\"pid\":$hold,\"state\":\"exited\"" "$work/gone.json"
    }
    if wait_for_line "$work/gone.json" "\"pid\":$hold,\"state\":\"running\"" 20; then
        kill -USR1 "$hold" 2>/dev/null
        wait_until 60 dropped
    fi
    kill "$watcher" 2>/dev/null
    wait "$watcher" 2>/dev/null
    check "an ended process: marked exited, then dropped" \
        python3 - "$work/gone.json" "$hold" <<'PY'
import json, sys
states = []
# Complete lines only: top was stopped, perhaps in the middle of one.
for line in open(sys.argv[1]).read().split("\n")[:-1]:
    ps = [p for p in json.loads(line)["processes"] if p["pid"] == int(sys.argv[2])]
    states.append(ps[0]["state"] if ps else None)
if not states or states[0] != "running" or "exited" not in states or states[-1] is not None:
    sys.exit("states %r" % states)
PY
else
    fail "hold did not start"
fi

# -- Text: a header line per refresh, then the table; -p and --sort.
timeout 20 "$TOP" top -b -n 2 -d 0.3 -p "$busy" --sort live >"$work/text"
check "text: exits 0" test $? -eq 0
check "text: a header line with the time per refresh" \
    test "$(grep -c '^heapswitch top - [0-9-]* [0-9:]* - ' "$work/text")" -eq 2
check "text: the column titles" grep -q '^ *PID .*ALLOC/s.*COMMAND' "$work/text"
check "text: the workload's row, tagged" grep -q "^ *$busy .* $tag " "$work/text"
check "text: -p shows no other process" \
    test "$(grep -c '^ *[0-9][0-9]* ' "$work/text")" -eq 2

# -- Bad input: one message naming the problem, exit 2, at once.
bad() {
    description=$1
    shift
    timeout 5 "$TOP" top "$@" >"$work/bad.out" 2>"$work/bad.err" </dev/null
    status=$?
    if [ $status -eq 2 ] && [ ! -s "$work/bad.out" ] &&
        head -n 1 "$work/bad.err" | grep -q '^heapswitch top: '; then
        ok "$description: exit 2 ($(head -n 1 "$work/bad.err"))"
    else
        fail "$description: status $status, stderr: $(cat "$work/bad.err")"
    fi
}
bad "unknown option" -b --bogus
bad "non-numeric -d" -b -d abc
bad "-d 0" -b -d 0
bad "-d out of range" -b -d 99999
bad "-d too small" -b -d 0.001
bad "-d without a value" -b -d
bad "non-numeric -n" -b -n many
bad "-n 0" -b -n 0
bad "bad -p" -b -p 12x
bad "unknown --sort column" -b --sort nothing
bad "stray argument" -b 123
bad "no terminal without -b" -n 1
check "no terminal: the message says to use -b" grep -q 'use -b' "$work/bad.err"

timeout 5 "$TOP" top --help >"$work/help"
check "--help exits 0" test $? -eq 0
check "--help lists the keys" grep -q 'F10' "$work/help"

finish
