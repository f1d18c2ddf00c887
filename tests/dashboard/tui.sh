# heapswitch top's terminal UI, driven through a private tmux server: two
# workloads under two backends, their rows and rates, sorting, filtering,
# the detail, A/B (more in ab_view.sh) and help views, resize to 80x24,
# quitting, and the ASCII fallback of a non-UTF-8 locale.
. "$(dirname "$0")/common.sh"
. "$abs_top_srcdir/tests/tmux.sh"

command -v tmux >/dev/null 2>&1 || { echo "SKIP: no tmux"; exit 77; }
backend_b=$(other_backend)
[ -n "$backend_b" ] || { echo "SKIP: neither jemalloc nor mimalloc built"; exit 77; }

cleanup_hook() { tmux_stop; }

tag_a=A$$
tag_b=B$$
start_workload system "$tag_a"
pid_a=$last_pid
start_workload "$backend_b" "$tag_b"
pid_b=$last_pid

line_of() { grep -n "^ *$1 " "$work/screen" | head -n 1 | cut -d: -f1; }
# The ALLOC/s cell (5th column at 120 columns) of a pid's row.
rate_of() { awk -v pid="$1" '$1 == pid { print $5; exit }' "$work/screen"; }
# Both processes have a known, non-zero allocation rate.
rates_known() {
    for pid in $pid_a $pid_b; do
        case $(rate_of "$pid") in '' | 0 | -) return 1 ;; esac
    done
}
# first_of A B: A's row is above B's.
first_of() { [ -n "$(line_of "$1")" ] && [ -n "$(line_of "$2")" ] && [ "$(line_of "$1")" -lt "$(line_of "$2")" ]; }
both_rows() { has "^ *$pid_a " && has "^ *$pid_b "; }
# The whole screen fits COLUMNSxLINES.
fits() { [ "$(wc -l <"$work/screen")" -le "$2" ] && awk -v w="$1" 'length > w { bad = 1 } END { exit bad }' "$work/screen"; }

# Both processes listed, each with a figure.
both_listed() { has "^ *$pid_a .*[1-9]" && has "^ *$pid_b .*[1-9]"; }

# The pane runs top, then says how it ended and stays open.
start_top() {
    tmux_session "$1" "$2" "env $3 TERM=screen-256color $TOP top -d 0.5 -p $pid_a,$pid_b; echo top-exited:\$?; sleep 60"
}

start_top 120 40 "LANG=C.UTF-8 LC_ALL=C.UTF-8"
expect_within 20 "both processes listed" both_listed
expect "header with the totals" has 'processes: 2 .*allocs/s: .*live: '
expect "status line with the sort column" has 'sort: ALLOC/s'
expect "non-zero allocs/s for both" rates_known

# sorting: N sorts by pid, biggest first; R reverses
if [ "$pid_a" -lt "$pid_b" ]; then low=$pid_a high=$pid_b; else low=$pid_b high=$pid_a; fi
keys N
expect "N: status names the PID column" has 'sort: PID'
expect "N: sort by PID, biggest first" first_of "$high" "$low"
keys R
expect "R: status says reversed" has 'reversed'
expect "R: order reversed" first_of "$low" "$high"

# < and > move the sort column; space pauses, p resumes
keys '>'
expect "> moves the sort column right (STATE)" has 'sort: STATE'
keys '<'
expect "< moves it left (PID)" has 'sort: PID'
keys Space
expect "space: paused" has 'PAUSED'
keys p
expect "p: running again" lacks 'PAUSED'

# filtering: / then text then Enter; / Escape clears
keys /
keys "$tag_b" Enter
expect "filter: status shows it" has "filter: $tag_b"
expect "filter: the other process hidden" lacks "^ *$pid_a "
expect "filter: the matching process shown" has "^ *$pid_b "
keys /
keys Escape
expect "filter cleared with Esc" both_rows

# detail view: Enter on the first row
keys Home Enter
expect "Enter: detail view" has 'Size classes'
expect "detail: sparkline labels" sh -c "grep -q '^allocs/s' '$work/screen' && grep -q '^live ' '$work/screen'"
expect "detail: backend heap figures" has 'backend heap'
expect "detail: calls by kind" has 'calls: malloc [0-9]'
expect "detail: histogram rows" has '^ *\[16,32) '
expect "detail: UTF-8 bars" has '█'
keys Escape
expect "Esc: back to the table" has 'COMMAND'

# A/B view
keys a
expect "a: A/B view" has '^A/B'
expect "A/B: both backends as groups" has "^METRIC .*system .*$backend_b"
expect "A/B: one program, the workload, two arms, per 1,000 allocation calls" \
    has '^workload: 2 arms, 2 processes; per 1,000 allocation calls'
expect "A/B: the allocation rate as a balance check" has '^allocs/s .*balance: '
expect "A/B: a verdict or how many samples it needs" \
    sh -c "grep -Eq '^CPU/1k allocs .*(x \[|not enough data)' '$work/screen'"
keys g
expect "g: grouped by tag" has "^METRIC .*$tag_a .*$tag_b"
keys a
expect "a again: back to the table" has 'COMMAND'

# resize to 80x24 (COMMAND is past column 80 until top redraws)
tmux_ resize-window -t top -x 80 -y 24
expect "80x24: column titles" has '^ *PID .*ALLOC/s.*LIVE.*COMMAND'
expect "80x24: both rows" both_rows
expect "80x24: 24 lines of at most 80 columns" fits 80 24
expect "80x24: status line at the bottom" sh -c "tail -n 1 '$work/screen' | grep -q 'sort:'"
keys Enter
expect "80x24: detail view fits" has 'Size classes'
keys Escape
expect "80x24: back to the table" has 'COMMAND'

# help, then quit
keys h
expect "h: help" has 'heapswitch top - keys'
keys x
expect "any key: back from help" has 'COMMAND'
keys q
expect "q quits (exit 0)" has 'top-exited:0'

# ASCII fallback: a C locale, the views with bars and sparklines
start_top 120 40 "LANG=C LC_ALL=C"
expect "C locale: listed" has "^ *$pid_a "
keys Enter
# Bars once the detail view has rates to draw (two refreshes).
expect "C locale: detail view drawn" has 'Size classes'
expect "C locale: ASCII bars" has '#'
cp "$work/screen" "$work/ascii"
keys Escape a
expect "C locale: A/B view drawn" has '^A/B'
cat "$work/screen" >>"$work/ascii"
check "C locale: no byte >= 0x80 on the screen" \
    test "$(LC_ALL=C tr -d '\000-\177' <"$work/ascii" | wc -c)" -eq 0
keys q
expect "C locale: q quits" has 'top-exited:0'

# A dumb terminal cannot draw the UI: a clear message and exit 2.
tmux_session 100 20 "env TERM=dumb $TOP top -d 0.5 -p $pid_a; echo top-exited:\$?; sleep 60"
expect "TERM=dumb: refused with a message, exit 2" \
    eval 'has "top-exited:2" && has "cannot move the cursor: use -b"'

finish
