#!/bin/sh
# heapswitch top's LABELS column and filter, in a real terminal (a private
# tmux server): two processes with labels in a private HEAPSWITCH_DIR
# (read with --dir), one without; the column shows each one's labels, the
# / filter and --filter match them, and the A/B view's `k` reaches
# "executable + labels".
set -u
. ./tests/testenv.sh
. "$abs_top_srcdir/tests/checks.sh"
unset HEAPSWITCH_TAG HEAPSWITCH_STATS HEAPSWITCH_REPORT HEAPSWITCH_KEEP HEAPSWITCH_LABELS \
    HEAPSWITCH_DIR HEAPSWITCH_BACKEND HEAPSWITCH_STRICT LD_PRELOAD
command -v tmux >/dev/null 2>&1 || { echo "SKIP: no tmux"; exit 77; }

HOLD=$abs_top_builddir/tests/segment/hold
TOP=$abs_top_builddir/dashboard/heapswitch
work=$(mktemp -d /tmp/hsw-top-labels.XXXXXX)
dir=$work/segments
mkdir -m 700 "$dir"
. "$abs_top_srcdir/tests/tmux.sh"
pids=
cleanup() {
    tmux_stop
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start NAME [LABELS]: a process waiting, publishing in $dir; sets pid.
start() {
    env LD_PRELOAD="$LIBHEAPSWITCH" HEAPSWITCH_DIR="$dir" ${2:+HEAPSWITCH_LABELS="$2"} \
        "$HOLD" wait 100 >"$work/$1.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
    tries=0
    while [ $tries -lt 100 ] && ! grep -qs '^pid ' "$work/$1.out"; do
        sleep 0.1
        tries=$((tries + 1))
    done
}
start a "pod=web-a,namespace=shop"
pid_a=$pid
start b "pod=web-b,namespace=shop"
pid_b=$pid
start c
pid_c=$pid

tmux_session 160 30 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $TOP top --dir $dir -d 0.5; echo top-exited:\$?; sleep 60"
expect "three rows" eval 'has "^ *$pid_a " && has "^ *$pid_b " && has "^ *$pid_c "'
expect "a LABELS column" has " LABELS "
expect "a's labels in its row" has "^ *$pid_a .* pod=web-a,namesp"
expect "b's labels in its row" has "^ *$pid_b .* pod=web-b,namesp"
expect "c without labels: -" eval 'grep "^ *$pid_c " "$work/screen" | grep -q " - "'
keys /
keys w e b - b Enter
expect "/ web-b: only b" eval 'has "^ *$pid_b " && lacks "^ *$pid_a " && lacks "^ *$pid_c "'
keys /
keys Escape
expect "Esc clears the filter" eval 'has "^ *$pid_a " && has "^ *$pid_c "'
keys a
expect "the A/B view" has "A/B"
keys k
keys k
keys k
expect "k reaches executable + labels" has "executable + labels"
keys q
keys q
expect "top exits 0" has "top-exited:0"

# --filter from the command line, and a terminal too narrow for LABELS.
tmux_session 80 24 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $TOP top --dir=$dir --filter namespace=shop -d 0.5; echo top-exited:\$?; sleep 60"
expect "--filter namespace=shop: a and b, not c" \
    eval 'has "^ *$pid_a " && has "^ *$pid_b " && lacks "^ *$pid_c "'
expect "80 columns: LABELS dropped first, the command kept" \
    eval 'lacks " LABELS " && has " COMMAND"'
keys q
expect "top exits 0" has "top-exited:0"

[ "$failures" -eq 0 ]
