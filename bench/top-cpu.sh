#!/bin/sh
# The cost of watching: CPU of `heapswitch top` (batch, and the UI in tmux
# when tmux is installed) with 200 idle processes under libheapswitch,
# from /proc/PID/stat (utime + stime over wall time); then 1000 processes,
# checking that every one is listed. Target: under 1% of a core.
#
# Run from the top build directory. Figures only: this fails on a broken
# setup, never on a slow result.
#   BENCH_PROCESSES=200 BENCH_MANY=1000 BENCH_SECONDS=30
set -u
if [ ! -f ./tests/testenv.sh ]; then
    echo "top-cpu.sh: run from the top build directory" >&2
    exit 1
fi
. ./tests/testenv.sh
HSW=${HSW_COMMAND:-$abs_top_builddir/dashboard/heapswitch}
processes=${BENCH_PROCESSES:-200}
many=${BENCH_MANY:-1000}
seconds=${BENCH_SECONDS:-30}
tag=benchtop$$
socket=hswbench$$
hz=$(getconf CLK_TCK)
pids=

cleanup() {
    tmux -L "$socket" kill-server >/dev/null 2>&1
    [ -n "$pids" ] && kill $pids 2>/dev/null
    wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# start N: N idle processes under the library (sleep allocates a little).
start() {
    i=0
    while [ "$i" -lt "$1" ]; do
        LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_TAG=$tag sleep 600 &
        pids="$pids $!"
        i=$((i + 1))
    done
    sleep 1
}

# ticks PID: utime + stime of a running process, in clock ticks.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null; }
now() { awk '{ print $1 }' /proc/uptime; }

# measure PID: samples it until it exits; prints "cpu% seconds".
measure() {
    started=$(now)
    last=0
    last_time=$started
    while t=$(ticks "$1") && [ -n "$t" ]; do
        last=$t
        last_time=$(now)
        sleep 0.2
    done
    awk -v t="$last" -v hz="$hz" -v a="$started" -v b="$last_time" \
        'BEGIN { w = b - a; printf "%.2f%% of a core (%.2f s CPU over %.1f s)\n", (w > 0 ? 100 * t / hz / w : 0), t / hz, w }'
}

count_listed() {
    timeout 60 "$HSW" top -b -n 1 -d 1 --json | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
print(sum(1 for p in o["processes"] if p["tag"] == sys.argv[1] and p["state"] == "running"))' "$tag"
}

echo "starting $processes idle processes under libheapswitch..."
start "$processes"
echo "listed: $(count_listed) of $processes"

"$HSW" top -b -d 1 -n "$seconds" >/dev/null &
batch=$!
printf "top -b -d 1 -n %s, %s processes: " "$seconds" "$processes"
measure $batch
wait $batch

if command -v tmux >/dev/null 2>&1; then
    tmux -L "$socket" -f /dev/null new-session -d -x 120 -y 40 \
        "exec env LANG=C.UTF-8 $HSW top -d 1 -n $seconds"
    tui=$(tmux -L "$socket" list-panes -F '#{pane_pid}' | head -n 1)
    printf "top (UI in tmux 120x40) -d 1 -n %s, %s processes: " "$seconds" "$processes"
    measure "$tui"
    tmux -L "$socket" kill-server >/dev/null 2>&1
fi

echo "starting $((many - processes)) more ($many in all)..."
start $((many - processes))
listed=$(count_listed)
echo "listed: $listed of $many $( [ "$listed" = "$many" ] && echo '(all)' || echo '(MISSING SOME)')"
"$HSW" top -b -d 1 -n 10 >/dev/null &
batch=$!
printf "top -b -d 1 -n 10, %s processes: " "$many"
measure $batch
wait $batch
