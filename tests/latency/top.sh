# Latency in heapswitch top, driven through a private tmux server: two
# workloads under two backends (latency sampled by default); L adds the
# P50 P99 P99.9 MAXLAT columns (durations in every row) and takes them
# away; sorting by p99 shows them; the detail view's latency line and l
# cycling the histogram through alloc latency, free latency and the size
# classes; the A/B view's alloc p50 and p99 rows; stat --json and --csv.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/dashboard/common.sh"
. "$abs_top_srcdir/tests/tmux.sh"
expect_seconds=15

command -v tmux >/dev/null 2>&1 || { echo "SKIP: no tmux"; exit 77; }
backend_b=$(other_backend)
[ -n "$backend_b" ] || { echo "SKIP: neither jemalloc nor mimalloc built"; exit 77; }

cleanup_hook() { tmux_stop; }

tag=L$$
start_workload system "$tag"
pid_a=$last_pid
start_workload "$backend_b" "$tag"
pid_b=$last_pid

# A pid's row has three durations (P50 P99 P99.9) and a maximum.
durations_in_row() {
    grep "^ *$1 " "$work/screen" | grep -Eq '[0-9.]+(ns|us|ms) +[0-9.]+(ns|us|ms) +[0-9.]+(ns|us|ms) +[0-9.]+(ns|us|ms|s)'
}
both_durations() { durations_in_row "$pid_a" && durations_in_row "$pid_b"; }

tmux_session 180 45 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $TOP top -d 0.5 -p $pid_a,$pid_b; echo top-exited:\$?; sleep 60"
expect "both processes listed" sh -c "grep -q '^ *$pid_a ' '$work/screen' && grep -q '^ *$pid_b ' '$work/screen'"
expect "no latency columns at first" lacks 'P99.9'
keys L
expect "L: the latency columns" has 'P50    P99  P99.9 MAXLAT COMMAND'
expect "L: durations in both rows" both_durations
keys L
expect "L again: the columns go" lacks 'P99.9'

# Sorted by p99 from the start: the columns are there without L.
tmux_session 180 45 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $TOP top -d 0.5 --sort p99 -p $pid_a,$pid_b; echo top-exited:\$?; sleep 60"
expect "--sort p99: status names it" has 'sort: P99'
expect "--sort p99: the latency columns shown" both_durations

# The detail view: the latency line, then l through the histograms.
keys Home Enter
expect "detail: the latency line" has 'latency: alloc p50 [0-9.]*[nu]s p99 '
expect "detail: size classes first" has 'Size classes'
keys l
expect "l: the alloc latency histogram" has 'alloc latency ([0-9]* calls timed, 1 in 1024'
expect "l: its rows (range, share, bar)" sh -c "grep -Eq '^ +[0-9.]+(ns|us)- *[0-9.]+(ns|us) +[0-9.]+% #' '$work/screen'"
keys l
expect "l again: the free latency histogram" has 'free latency ([0-9]* calls timed'
keys l
expect "l a third time: the size classes again" has 'Size classes'
keys Escape

# The A/B view: the two backends' arms of one program, with latency rows.
keys a
expect "A/B view: the alloc p50 row" has 'alloc p50'
expect "A/B view: an alloc p50 figure for both arms" sh -c "grep 'alloc p50' '$work/screen' | grep -Eq '[0-9.]+ ns.*[0-9.]+ ns'"
expect "A/B view: the alloc p99 row" has 'alloc p99 '
keys q
expect "q quits" has 'top-exited:0'

# stat --json and --csv: the same figures for scripts.
"$TOP" stat --json "$pid_a" >"$work/stat.json" 2>"$work/stat.err"
check "stat --json: latency of the process" \
    python3 -c "import json,sys; p=json.load(open('$work/stat.json'))['processes'][0]['latency']; sys.exit(not (p['rate'] == 1024 and p['alloc']['samples'] > 0 and 0 < p['alloc']['p50_ns'] <= p['alloc']['p99_ns'] <= p['alloc']['max_ns']))"
"$TOP" stat --csv "$pid_a" >"$work/stat.csv" 2>"$work/stat.err"
check "stat --csv: latency fields" \
    python3 -c "import csv,sys; r=list(csv.DictReader(open('$work/stat.csv')))[0]; sys.exit(not float(r['alloc_p99_ns']) >= float(r['alloc_p50_ns']) > 0)"
finish
