#!/bin/sh
# Processes in pid namespaces of their own, as containers run them,
# sharing one segment directory (HEAPSWITCH_DIR) with a reader on the
# host (docs/containers.md). Two writers that are both pid 1 in their
# namespaces publish two distinct segments; the host's readers (the
# reader library, `heapswitch stat`, `top -b`, `export`) show each under
# its host pid, with its labels and its own RSS (compared with
# /proc/PID/status); a SIGKILLed one is found dead and removed from the
# host; a reader in a third namespace shows the others as unresolved;
# forged segments (a lock held outside the namespace the segment claims,
# an unlocked copy) are refused or found dead, never matched to a live
# process. The writer runs under the backend the runner names; root only
# (unshare --pid), skipped otherwise.
set -u
. ./tests/testenv.sh
. "$abs_top_srcdir/tests/checks.sh"
: "${HEAPSWITCH_BACKEND:?set by the runner}" "${HSW_PRELOAD:?set by the runner}"
unset HEAPSWITCH_TAG HEAPSWITCH_STATS HEAPSWITCH_REPORT HEAPSWITCH_KEEP HEAPSWITCH_LABELS \
    HEAPSWITCH_DIR LD_PRELOAD

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: pid namespaces need root here (unshare --pid --fork --mount-proc)"
    exit 77
fi
if ! unshare --pid --fork --mount-proc true >/dev/null 2>&1; then
    echo "SKIP: unshare --pid --fork --mount-proc is not permitted on this machine"
    exit 77
fi

HOLD=$abs_top_builddir/tests/segment/hold
SEGREAD=$abs_top_builddir/tests/tools/segread
HSW=$abs_top_builddir/dashboard/heapswitch
PYTHON=/usr/bin/python3
work=$(mktemp -d /tmp/hsw-namespaces.XXXXXX)
dir=$work/segments
mkdir -m 700 "$dir"
started=

cleanup() {
    for p in $started; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}

# field KEY LINE: the value of KEY=... in a segread line.
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# start NAME LABELS [VARIABLE=VALUE]: `hold wait` as pid 1 of a new pid
# namespace, its segment in $dir; sets host_pid (the hold process as the
# host sees it).
start() {
    unshare --pid --fork --mount-proc env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$dir" \
        HEAPSWITCH_LABELS="$2" ${3:-} "$HOLD" wait 1000 >"$work/$1.out" 2>"$work/$1.err" &
    unshare_pid=$!
    started="$started $unshare_pid"
    host_pid=
    tries=0
    while [ $tries -lt 100 ] && ! grep -qs '^pid ' "$work/$1.out"; do
        sleep 0.1
        tries=$((tries + 1))
    done
    host_pid=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | tr -d ' ')
    started="$started $host_pid"
}

start a "pod=web-a,namespace=shop"
a_pid=$host_pid
# b samples its call sites (every allocation: HEAPSWITCH_SAMPLE=1).
start b "pod=web-b,namespace=shop" HEAPSWITCH_SAMPLE=1
b_pid=$host_pid
expect_eq "both writers are pid 1 in their namespaces" \
    "$(sed -n 's/^pid //p' "$work/a.out") $(sed -n 's/^pid //p' "$work/b.out")" "1 1"
check "two host pids ($a_pid, $b_pid)" test -n "$a_pid" -a -n "$b_pid" -a "$a_pid" != "$b_pid"
check "no warning from either writer" test ! -s "$work/a.err" -a ! -s "$work/b.err"

a_ns=$(stat -L -c %i "/proc/$a_pid/ns/pid")
b_ns=$(stat -L -c %i "/proc/$b_pid/ns/pid")
expect_eq "two segments, named with each namespace" "$(ls "$dir" | sort | tr '\n' ' ')" \
    "$(printf 'heapswitch-0-1-%s\nheapswitch-0-1-%s\n' "$a_ns" "$b_ns" | sort | tr '\n' ' ')"

# vm_rss PID: VmRSS in bytes, from /proc/PID/status.
vm_rss() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }
# near A B: within 2% of each other (the two reads are not simultaneous).
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= b / 50) }'; }

HEAPSWITCH_DIR=$dir "$SEGREAD" >"$work/scan" 2>"$work/scan.err"
for who in a b; do
    eval "pid=\$${who}_pid ns=\$${who}_ns"
    line=$(grep "^pid=$pid " "$work/scan")
    check "reader: $who seen under its host pid $pid" test -n "$line"
    expect_eq "reader: $who runs" "$(field state "$line")" running
    expect_eq "reader: $who is pid 1 in namespace $ns" \
        "$(field ns_pid "$line") $(field pid_namespace "$line")" "1 $ns"
    expect_eq "reader: $who's labels" "$(field labels "$line")" "pod=web-$who,namespace=shop"
    expect_eq "reader: $who's backend" "$(field backend "$line")" "$HEAPSWITCH_BACKEND"
    rss=$(field rss "$line")
    host_rss=$(vm_rss "$pid")
    check "reader: $who's RSS $rss is its own, VmRSS $host_rss of /proc/$pid/status" \
        near "$rss" "$host_rss"
done
check "reader: nothing refused" test ! -s "$work/scan.err"

# heapswitch stat --json, top -b and export, with --dir.
"$HSW" stat --dir "$dir" --json -i 0.2 >"$work/stat.json" 2>"$work/stat.err"
expect_eq "stat --json: exit status" "$?" 0
"$PYTHON" - "$work/stat.json" "$a_pid" "$b_pid" >"$work/stat.check" 2>&1 <<'PY'
import json, sys
processes = {p["pid"]: p for p in json.load(open(sys.argv[1]))["processes"]}
for who, pid in (("a", int(sys.argv[2])), ("b", int(sys.argv[3]))):
    p = processes[pid]
    assert p["labels"] == {"pod": "web-" + who, "namespace": "shop"}, p["labels"]
    assert p["state"] == "running" and p["rss_bytes"] > 0, p
print("ok")
PY
check "stat --json: both host pids, running, with their labels and an RSS" \
    grep -qx ok "$work/stat.check"
# Call sites from the host: the stacks b's process recorded, symbolized
# through the host's /proc/PID (the pid its lock holder has here).
"$HSW" sites --dir "$dir" --json "$b_pid" >"$work/sites.json" 2>"$work/sites.err"
expect_eq "sites --json of b from the host: exit status" "$?" 0
check "sites of b from the host: its 1,000 pairs' site, named with file and line" \
    grep -q '"site":"pairs (hold\.c:[0-9][0-9]*) < main:[0-9][0-9]*","samples":1000,' "$work/sites.json"
"$HSW" top -b -n 1 --dir="$dir" --filter web-b >"$work/top" 2>&1
check "top -b --filter web-b: b's row, with its labels" grep -q "^ *$b_pid running .*pod=web-b" "$work/top"
check "top -b --filter web-b: not a's" test -z "$(grep "^ *$a_pid " "$work/top")"
"$HSW" export --dir "$dir" --textfile "$work/metrics.prom" >/dev/null 2>&1
for who in a b; do
    eval "pid=\$${who}_pid"
    check "export: $who's RSS sample carries its host pid and labels" \
        grep -q "^heapswitch_rss_bytes{pid=\"$pid\",.*,backend=\"$HEAPSWITCH_BACKEND\",tag=\"\",pod=\"web-$who\",namespace=\"shop\"} [1-9]" \
        "$work/metrics.prom"
done
if command -v promtool >/dev/null 2>&1; then
    check "export: promtool accepts the labelled metrics" \
        sh -c "promtool check metrics <'$work/metrics.prom' >/dev/null 2>&1"
fi

# A reader in a third pid namespace cannot see the lock holders: the
# segments are unresolved there, never shown under a pid of its own.
unshare --pid --fork --mount-proc env HEAPSWITCH_DIR="$dir" "$SEGREAD" \
    >"$work/inside" 2>"$work/inside.err"
check "another namespace: no process shown" test ! -s "$work/inside"
expect_eq "another namespace: both segments unresolved" \
    "$(grep -c 'unresolved: pid 1 of pid namespace' "$work/inside.err")" 2

# Forged segments, made from a copy of b's. patch FILE PID NAMESPACE
# writes the header's pid (offset 44) and pid namespace (offset 1216).
patch() {
    "$PYTHON" -c 'import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(44); f.write(struct.pack("<i", int(sys.argv[2])))
    f.seek(1216); f.write(struct.pack("<Q", int(sys.argv[3])))' "$@"
}
# 1. Locked by a host process, claiming b's namespace.
forged=$dir/heapswitch-0-5-$b_ns
cp "$dir/heapswitch-0-1-$b_ns" "$forged" && chmod 600 "$forged" && patch "$forged" 5 "$b_ns"
flock -x "$forged" sleep 60 &
flock_pid=$!
started="$started $flock_pid"
sleep 0.3
# 2. An unlocked copy in b's namespace under another pid.
copy=$dir/heapswitch-0-7-$b_ns
cp "$dir/heapswitch-0-1-$b_ns" "$copy" && chmod 600 "$copy" && patch "$copy" 7 "$b_ns"
HEAPSWITCH_DIR=$dir "$SEGREAD" -r >"$work/forged" 2>"$work/forged.err"
check "forged, locked outside its namespace: refused" \
    grep -q "heapswitch-0-5-$b_ns: records pid namespace $b_ns but its lock is held by pid [0-9]*, which is not in it" \
    "$work/forged.err"
check "forged, unlocked copy: found dead and removed" \
    grep -q "heapswitch-0-7-$b_ns: killed: pid 7 of pid namespace $b_ns (removed)" "$work/forged.err"
check "forged, unlocked copy: gone from the directory" test ! -e "$copy"
expect_eq "forged: only the two real processes shown" \
    "$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$work/forged" | sort -n | tr '\n' ' ')" \
    "$(printf '%s\n%s\n' "$a_pid" "$b_pid" | sort -n | tr '\n' ' ')"
kill "$flock_pid" 2>/dev/null
wait "$flock_pid" 2>/dev/null
rm -f "$forged"

# SIGKILL of a: dead from the host, removed by a scan that removes; b stays.
kill -9 "$a_pid"
sleep 0.3
HEAPSWITCH_DIR=$dir "$SEGREAD" -r >"$work/after" 2>"$work/after.err"
check "after kill -9: a found dead and removed" \
    grep -q "heapswitch-0-1-$a_ns: killed: pid 1 of pid namespace $a_ns (removed)" "$work/after.err"
check "after kill -9: a's segment is gone" test ! -e "$dir/heapswitch-0-1-$a_ns"
check "after kill -9: b still shown, running" grep -q "^pid=$b_pid state=running " "$work/after"
check "after kill -9: b's segment is still there" test -e "$dir/heapswitch-0-1-$b_ns"

# b exits normally: its segment is removed by the writer itself.
kill -USR1 "$b_pid"
tries=0
while [ $tries -lt 50 ] && [ -e "$dir/heapswitch-0-1-$b_ns" ]; do
    sleep 0.1
    tries=$((tries + 1))
done
check "b exited: its segment removed" test ! -e "$dir/heapswitch-0-1-$b_ns"

[ "$failures" -eq 0 ]
