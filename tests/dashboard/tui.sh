# heapswitch top's terminal UI, driven through a private tmux server: two
# workloads under two backends, their rows and rates, sorting, filtering,
# the detail, A/B (more in ab_view.sh) and help views, resize to 80x24,
# quitting, and the ASCII fallback of a non-UTF-8 locale.
. "$(dirname "$0")/common.sh"

command -v tmux >/dev/null 2>&1 || { echo "SKIP: no tmux"; exit 77; }
backend_b=$(other_backend)
[ -n "$backend_b" ] || { echo "SKIP: neither jemalloc nor mimalloc built"; exit 77; }

socket=hswtop$$
tmux_() { tmux -u -L "$socket" -f /dev/null "$@"; }
cleanup_hook() { tmux_ kill-server >/dev/null 2>&1; }

tag_a=A$$
tag_b=B$$
start_workload system "$tag_a"
pid_a=$last_pid
start_workload "$backend_b" "$tag_b"
pid_b=$last_pid

screen() { tmux_ capture-pane -p -t top; }
# until the screen has a line matching PATTERN (up to SECONDS, default 5)
wait_screen() {
    tries=$((${2:-5} * 10))
    while [ "$tries" -gt 0 ]; do
        screen >"$work/screen" 2>/dev/null
        grep -q -- "$1" "$work/screen" && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}
keys() {
    tmux_ send-keys -t top "$@"
    sleep 0.4
    screen >"$work/screen"
}
line_of() { grep -n "^ *$1 " "$work/screen" | head -n 1 | cut -d: -f1; }
# The ALLOC/s cell (5th column at 120 columns) of a pid's row.
rate_of() { awk -v pid="$1" '$1 == pid { print $5; exit }' "$work/screen"; }

# The pane runs top, then says how it ended and stays open.
start_top() {
    tmux_ new-session -d -s top -x "$1" -y "$2" \
        "env $3 TERM=screen-256color $TOP top -d 0.5 -p $pid_a,$pid_b; echo top-exited:\$?; sleep 60"
}

start_top 120 40 "LANG=C.UTF-8 LC_ALL=C.UTF-8"
if wait_screen "^ *$pid_a .*[1-9]" 6 && wait_screen "^ *$pid_b .*[1-9]" 3; then
    ok "both processes listed"
else
    fail "both processes listed: $(cat "$work/screen")"
fi
sleep 1
screen >"$work/screen"
check "header with the totals" grep -q 'processes: 2 .*allocs/s: .*live: ' "$work/screen"
check "status line with the sort column" grep -q 'sort: ALLOC/s' "$work/screen"
ra=$(rate_of "$pid_a")
rb=$(rate_of "$pid_b")
check "non-zero allocs/s for both ($ra, $rb)" \
    sh -c "[ -n '$ra' ] && [ -n '$rb' ] && [ '$ra' != 0 ] && [ '$rb' != 0 ] && [ '$ra' != - ] && [ '$rb' != - ]"

# sorting: N sorts by pid, biggest first; R reverses
if [ "$pid_a" -lt "$pid_b" ]; then low=$pid_a high=$pid_b; else low=$pid_b high=$pid_a; fi
keys N
check "N: sort by PID, biggest first" test "$(line_of "$high")" -lt "$(line_of "$low")"
check "N: status names the PID column" grep -q 'sort: PID' "$work/screen"
keys R
check "R: order reversed" test "$(line_of "$low")" -lt "$(line_of "$high")"
check "R: status says reversed" grep -q 'reversed' "$work/screen"

# < and > move the sort column; space pauses, p resumes
keys '>'
check "> moves the sort column right (STATE)" grep -q 'sort: STATE' "$work/screen"
keys '<'
check "< moves it left (PID)" grep -q 'sort: PID' "$work/screen"
keys Space
check "space: paused" grep -q 'PAUSED' "$work/screen"
keys p
check "p: running again" sh -c "! grep -q 'PAUSED' '$work/screen'"

# filtering: / then text then Enter; / Escape clears
keys /
keys "$tag_b" Enter
check "filter: status shows it" grep -q "filter: $tag_b" "$work/screen"
check "filter: the other process hidden" test -z "$(line_of "$pid_a")"
check "filter: the matching process shown" test -n "$(line_of "$pid_b")"
keys /
keys Escape
sleep 0.2
screen >"$work/screen"
check "filter cleared with Esc" sh -c "grep -q '^ *$pid_a ' '$work/screen' && grep -q '^ *$pid_b ' '$work/screen'"

# detail view: Enter on the first row
keys Home Enter
if wait_screen 'Size classes' 3; then ok "Enter: detail view"; else fail "Enter: detail view"; fi
check "detail: sparkline labels" sh -c "grep -q '^allocs/s' '$work/screen' && grep -q '^live ' '$work/screen'"
check "detail: backend heap figures" grep -q 'backend heap' "$work/screen"
check "detail: calls by kind" grep -q 'calls: malloc [0-9]' "$work/screen"
check "detail: histogram rows" grep -q '^ *\[16,32) ' "$work/screen"
check "detail: UTF-8 bars" grep -q '█' "$work/screen"
keys Escape
check "Esc: back to the table" grep -q 'COMMAND' "$work/screen"

# A/B view
keys a
check "a: A/B view" grep -q '^A/B' "$work/screen"
check "A/B: both backends as groups" grep -q "^METRIC .*system .*$backend_b" "$work/screen"
check "A/B: one program, the workload, two arms, per 1,000 allocation calls" \
    grep -q '^workload: 2 arms, 2 processes; per 1,000 allocation calls' "$work/screen"
check "A/B: the allocation rate as a balance check" grep -q '^allocs/s .*balance: ' "$work/screen"
check "A/B: a verdict or how many samples it needs" \
    grep -Eq '^CPU/1k allocs .*(x \[|not enough data)' "$work/screen"
keys g
check "g: grouped by tag" grep -q "^METRIC .*$tag_a .*$tag_b" "$work/screen"
keys a
check "a again: back to the table" grep -q 'COMMAND' "$work/screen"

# resize to 80x24
tmux_ resize-window -t top -x 80 -y 24
sleep 0.8
screen >"$work/screen"
check "80x24: column titles" grep -q '^ *PID .*ALLOC/s.*LIVE.*COMMAND' "$work/screen"
check "80x24: both rows" sh -c "grep -q '^ *$pid_a ' '$work/screen' && grep -q '^ *$pid_b ' '$work/screen'"
check "80x24: 24 lines of at most 80 columns" sh -c \
    "[ \$(wc -l <'$work/screen') -le 24 ] && awk 'length > 80 { bad = 1 } END { exit bad }' '$work/screen'"
check "80x24: status line at the bottom" sh -c "tail -n 1 '$work/screen' | grep -q 'sort:'"
keys Enter
check "80x24: detail view fits" grep -q 'Size classes' "$work/screen"
keys Escape

# help, then quit
keys h
check "h: help" grep -q 'heapswitch top - keys' "$work/screen"
keys x
check "any key: back from help" grep -q 'COMMAND' "$work/screen"
keys q
if wait_screen 'top-exited:0' 3; then ok "q quits (exit 0)"; else fail "q quits: $(cat "$work/screen")"; fi
tmux_ kill-session -t top 2>/dev/null

# ASCII fallback: a C locale, the views with bars and sparklines
start_top 120 40 "LANG=C LC_ALL=C"
wait_screen "^ *$pid_a " 6
sleep 1
keys Enter
sleep 0.6
screen >"$work/ascii"
keys Escape a
screen >>"$work/ascii"
check "C locale: detail view drawn" grep -q 'Size classes' "$work/ascii"
check "C locale: ASCII bars" grep -q '#' "$work/ascii"
check "C locale: no byte >= 0x80 on the screen" \
    test "$(LC_ALL=C tr -d '\000-\177' <"$work/ascii" | wc -c)" -eq 0
keys q
wait_screen 'top-exited:0' 3 || fail "C locale: q quits"

# A dumb terminal cannot draw the UI: a clear message and exit 2.
tmux_ kill-session -t top 2>/dev/null
tmux_ new-session -d -s top -x 100 -y 20 \
    "env TERM=dumb $TOP top -d 0.5 -p $pid_a; echo top-exited:\$?; sleep 60"
if wait_screen 'top-exited:' 5 && grep -q 'top-exited:2' "$work/screen" &&
    grep -q "cannot move the cursor: use -b" "$work/screen"; then
    ok "TERM=dumb: refused with a message, exit 2"
else
    fail "TERM=dumb: $(cat "$work/screen")"
fi

finish
