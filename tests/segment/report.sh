#!/bin/sh
# HEAPSWITCH_REPORT: one JSON line per process at exit, appended to a file
# that already exists (the user's lines survive), with pid, ppid, backend,
# tag and the process's exact calls; for every process of a pipeline,
# none leaving a segment behind. Needs python3 to parse the JSON.
set -u
. "$(dirname "$0")/common.sh"

require python3
echo "report under $HEAPSWITCH_BACKEND, tag $TAG"
baseline

report=$tmpdir/report.jsonl
first_line='{"user":"this line was here first"}'
printf '%s\n' "$first_line" >"$report"
HEAPSWITCH_REPORT=$report start_hold "$tmpdir/report.out" run 100 5
wait "$hold_pid"
expect_eq "report: helper exit status unchanged" "$?" 5
wait_line "$tmpdir/report.out" pid
helper=$line_pid
printf 'b\na\nc\n' >"$tmpdir/abc"
LD_PRELOAD=$HSW_PRELOAD HEAPSWITCH_TAG=$TAG HEAPSWITCH_REPORT=$report \
    sh -c 'echo $$ >"$1/shell.pid"; cat "$1/abc" | sort | cat >"$1/sorted"; exit 6' sh "$tmpdir"
expect_eq "report: pipeline exit status unchanged" "$?" 6
shell=$(cat "$tmpdir/shell.pid")
expect_eq "report: pipeline output" "$(tr '\n' ' ' <"$tmpdir/sorted")" "a b c "
expect_eq "report: the user's first line survives" "$(head -n 1 "$report")" "$first_line"
# One summary line per JSON line: pid ppid backend tag malloc, or "invalid".
python3 -c '
import json, sys
for number, text in enumerate(open(sys.argv[1]), 1):
    if number == 1:
        continue
    try:
        line = json.loads(text)
        print(line["pid"], line["ppid"], line["backend"], line["tag"], line["calls"]["malloc"])
    except Exception as error:
        print("invalid", number, repr(error).replace(" ", "_"))
' "$report" >"$tmpdir/report.summary"
count=$(wc -l <"$tmpdir/report.summary")
if [ "$count" -ge 3 ]; then
    ok "report: $count lines appended (helper, sort, cat and the shells)"
else
    fail "report: $count lines appended, want at least 3 (helper, sort, cat):"
    sed 's/^/    | /' "$report"
fi
invalid=$(grep -c '^invalid' "$tmpdir/report.summary")
expect_eq "report: lines that are not valid JSON (with pid, backend, tag, calls.malloc)" "$invalid" 0
grep '^invalid' "$tmpdir/report.summary" | sed 's/^/    | /'
bad_backend=$(awk -v b="$HEAPSWITCH_BACKEND" '$1 != "invalid" && $3 != b' "$tmpdir/report.summary" | wc -l)
expect_eq "report: lines with another backend" "$bad_backend" 0
bad_tag=$(awk -v t="$TAG" '$1 != "invalid" && $4 != t' "$tmpdir/report.summary" | wc -l)
expect_eq "report: lines with another tag" "$bad_tag" 0
no_malloc=$(awk '$1 != "invalid" && !($5 > 0)' "$tmpdir/report.summary" | wc -l)
expect_eq "report: lines with calls.malloc = 0" "$no_malloc" 0
helper_line=$(awk -v p="$helper" '$1 == p' "$tmpdir/report.summary")
if [ -n "$helper_line" ]; then
    ok "report: a line for the helper, pid $helper"
    # shellcheck disable=SC2086
    set -- $helper_line
    expect_eq "report: the helper's calls.malloc (100 pairs + $exit_malloc)" "$5" $((exit_malloc + 100))
else
    fail "report: no line with the helper's pid $helper"
fi
children=$(awk -v p="$shell" '$1 != "invalid" && $2 == p' "$tmpdir/report.summary" | wc -l)
if [ "$children" -ge 2 ]; then
    ok "report: lines for the shell's children (sort, cat: ppid $shell)"
else
    fail "report: $children lines with ppid $shell, want sort's and cat's"
fi
# The shell itself exits normally (exit 6), so it has a line too.
if awk -v p="$shell" '$1 == p' "$tmpdir/report.summary" | grep -q .; then
    ok "report: a line for the shell, pid $shell"
else
    fail "report: no line for the 'sh -c' process, pid $shell, which exited with status 6 (/bin/sh is $(readlink -f /bin/sh))"
fi
# Every process of the pipeline is gone (the shell waited for each, and
# each removes its segment before it exits): none may leave a segment.
left=$("$SEGREAD" 2>/dev/null | grep " tag=$TAG " | sed 's/ threads=.*//')
if [ -z "$left" ]; then
    ok "report: no segment left behind by the pipeline's processes"
else
    fail "report: segments left behind by processes that exited:"
    printf '%s\n' "$left" | sed 's/^/    | /'
fi

finish
