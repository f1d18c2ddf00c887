#!/bin/sh
# The life of a process's segment: created at start as
# /dev/shm/heapswitch-UID-PID (0600, ours, at most 64 KiB, locked),
# running with our backend, tag and counts; removed at normal exit, kept
# as "exited" with HEAPSWITCH_KEEP=1, left "dead" by kill -9 and removed
# by `segread -r`; none with HEAPSWITCH_STATS=0; a fresh one for a fork
# child and for a new image after exec. Every count is exact: the helper's
# own calls are measured first (baseline), then each run must show them
# plus its pairs, no more, no less. (HEAPSWITCH_REPORT: report.sh.)
set -u
. "$(dirname "$0")/common.sh"

# ---------------------------------------------------------------------
# kill -9, KEEP and `segread -r`, in a private /dev/shm where possible:
# `segread -r` removes every dead segment it sees, so on the shared
# /dev/shm it would race with other tests (ours under other backends
# too) that look at dead segments.
# ---------------------------------------------------------------------
section_dead() {
    # A live process, then killed.
    start_hold "$tmpdir/killed.out" wait 100
    if ! wait_line "$tmpdir/killed.out" pid; then
        fail "kill -9: the helper did not start"
        return
    fi
    killed=$line_pid
    file=$(segment_file "$killed")
    read_pid "$killed"
    expect_eq "kill -9: before, segread -p shows state" "$(field state "$seg_line")" running
    kill -9 "$killed"
    wait "$killed" 2>/dev/null
    expect_eq "kill -9: exit status" "$?" 137
    check "kill -9: the segment $file stays" test -f "$file"
    read_pid "$killed"
    expect_eq "kill -9: segread -p status" "$seg_status" 0
    expect_eq "kill -9: segread -p shows state" "$(field state "$seg_line")" dead
    expect_eq "kill -9: the dead segment still has our tag" "$(field tag "$seg_line")" "$TAG"
    scan_line=$("$SEGREAD" 2>/dev/null | grep " tag=$TAG " | grep "^pid=$killed ")
    expect_eq "kill -9: segread (scan) shows state" "$(field state "$scan_line")" dead

    # An exited (kept) segment and a live one, which -r must leave alone.
    HEAPSWITCH_KEEP=1 start_hold "$tmpdir/kept.out" run 50
    wait "$hold_pid"
    wait_line "$tmpdir/kept.out" pid
    kept=$line_pid
    start_hold "$tmpdir/alive.out" wait 50
    wait_line "$tmpdir/alive.out" pid
    alive=$line_pid

    "$SEGREAD" -r >"$tmpdir/r.out" 2>"$tmpdir/r.err"
    expect_eq "segread -r: exit status" "$?" 0
    if [ -e "$file" ]; then
        fail "segread -r: the dead segment $file is still there"
    else
        ok "segread -r: removed the dead segment $file"
    fi
    check "segread -r: left the exited (kept) segment of $kept" test -f "$(segment_file "$kept")"
    check "segread -r: left the live segment of $alive" test -f "$(segment_file "$alive")"
    read_pid "$alive"
    expect_eq "segread -r: the live process is still running" "$(field state "$seg_line")" running
    read_pid "$killed"
    expect_eq "after segread -r: segread -p $killed fails" "$seg_status" 1
    stop_hold "$alive"
    rm -f "$(segment_file "$kept")"
}

if [ "${1-}" = --section ]; then
    enter_section "$2"
    "section_$2"
    finish
fi

echo "lifecycle under $HEAPSWITCH_BACKEND, tag $TAG"
# The lock checks and the serialised fallback below need flock(1).
require flock
baseline

# ---------------------------------------------------------------------
# A live process
# ---------------------------------------------------------------------
start_hold "$tmpdir/live.out" wait 200
if wait_line "$tmpdir/live.out" pid; then
    pid=$line_pid
    expect_eq "live: the helper's pid is the one started" "$pid" "$hold_pid"
    file=$(segment_file "$pid")
    # (Names of other users' dead processes with this pid may exist.)
    ours=$("$SEGREAD" 2>/dev/null | grep -c "^pid=$pid .* tag=$TAG ")
    expect_eq "live: exactly one segment of ours for pid $pid" "$ours" 1
    if [ -f "$file" ] && [ ! -L "$file" ]; then
        ok "live: $file is a regular file"
        expect_eq "live: mode" "$(stat -c %a "$file")" 600
        expect_eq "live: owner" "$(stat -c %u "$file")" "$uid"
        # The core, at most 64 KiB, and the latency section (68 KiB).
        expect_range "live: size" "$(stat -c %s "$file")" 4096 $((65536 + 69632 + 1))
    else
        fail "live: no regular file $file"
    fi
    flock -n -s -E 42 "$file" true
    expect_eq "live: the writer holds the lock (flock -n -s fails)" "$?" 42
    read_pid "$pid"
    expect_eq "live: segread -p status" "$seg_status" 0
    expect_eq "live: state" "$(field state "$seg_line")" running
    expect_eq "live: backend" "$(field backend "$seg_line")" "$HEAPSWITCH_BACKEND"
    expect_eq "live: tag" "$(field tag "$seg_line")" "$TAG"
    expect_eq "live: malloc count (200 pairs + $base_malloc)" "$(field malloc "$seg_line")" $((base_malloc + 200))
    expect_eq "live: free count (200 pairs + $base_free)" "$(field free "$seg_line")" $((base_free + 200))
    expect_eq "live: bytes requested" "$(field requested "$seg_line")" \
        $((base_requested + $(pair_bytes 200)))
    expect_range "live: threads" "$(field threads "$seg_line")" 1 2
    lines=$("$SEGREAD" 2>/dev/null | grep -c " tag=$TAG ")
    expect_eq "live: segread (scan) lists one segment with our tag" "$lines" 1

    stop_hold "$pid"
    expect_eq "exit: status" "$hold_status" 0
    check "exit: $file is gone" test ! -e "$file"
    read_pid "$pid"
    expect_eq "exit: segread -p fails" "$seg_status" 1
    expect_grep "exit: segread -p says why" "$tmpdir/segread.err" "publishes no segment"
    check "exit: no stderr from the process" test ! -s "$tmpdir/live.out.err"
else
    fail "live: the helper did not print its pid"
fi

# ---------------------------------------------------------------------
# HEAPSWITCH_KEEP=1: the segment outlives the process, state exited.
# ---------------------------------------------------------------------
HEAPSWITCH_KEEP=1 start_hold "$tmpdir/keep.out" run 300 3
wait "$hold_pid"
expect_eq "keep: exit status unchanged" "$?" 3
if wait_line "$tmpdir/keep.out" pid; then
    file=$(segment_file "$line_pid")
    check "keep: $file stays after exit" test -f "$file"
    read_pid "$line_pid"
    expect_eq "keep: state" "$(field state "$seg_line")" exited
    expect_eq "keep: tag" "$(field tag "$seg_line")" "$TAG"
    expect_eq "keep: final malloc count (300 pairs + $exit_malloc)" "$(field malloc "$seg_line")" $((exit_malloc + 300))
    expect_eq "keep: final free count (300 pairs + $exit_free)" "$(field free "$seg_line")" $((exit_free + 300))
    expect_eq "keep: mode" "$(stat -c %a "$file" 2>/dev/null)" 600
    flock -n -s -E 42 "$file" true
    expect_eq "keep: the lock is free once the writer is gone" "$?" 0
    rm -f "$file"
else
    fail "keep: the helper did not print its pid"
fi

# ---------------------------------------------------------------------
# kill -9 and segread -r
# ---------------------------------------------------------------------
if [ -n "$unshare_cmd" ]; then
    in_namespace -- dead
else
    echo "note: no private /dev/shm (unshare not permitted): kill -9 checks on the shared one"
    # Serialised with the same test under the other backends.
    exec 9>"$abs_top_builddir/tests/segment/.dead-section.lock"
    flock 9
    section_dead
    exec 9>&-
fi

# ---------------------------------------------------------------------
# HEAPSWITCH_STATS=0: no segment, no report, same behaviour.
# ---------------------------------------------------------------------
HEAPSWITCH_STATS=0 HEAPSWITCH_REPORT=$tmpdir/stats0.jsonl start_hold "$tmpdir/stats0.out" wait 100 4
if wait_line "$tmpdir/stats0.out" pid; then
    read_pid "$line_pid"
    if [ ! -e "$(segment_file "$line_pid")" ] && [ "$seg_status" = 1 ]; then
        ok "stats=0: no segment for the live process (segread -p fails)"
    elif [ "$(field state "$seg_line")" != running ] || [ "$(field tag "$seg_line")" != "$TAG" ]; then
        # Kept by an earlier process with the same pid (a test under
        # another backend, run in parallel, may keep its segment after exit).
        ok "stats=0: no segment of ours (one of an earlier process with pid $line_pid is there: $(field state "$seg_line"), tag $(field tag "$seg_line"))"
    else
        fail "stats=0: the live process has a segment: $seg_line"
    fi
    stop_hold "$line_pid"
    expect_eq "stats=0: exit status unchanged" "$hold_status" 4
    check "stats=0: no report written" test ! -e "$tmpdir/stats0.jsonl"
    check "stats=0: no stderr" test ! -s "$tmpdir/stats0.out.err"
else
    fail "stats=0: the helper did not print its pid"
fi

# ---------------------------------------------------------------------
# fork: the child gets its own segment with only its own calls.
# ---------------------------------------------------------------------
start_hold "$tmpdir/fork.out" fork 300 500
if wait_line "$tmpdir/fork.out" parent && parent=$line_pid &&
    wait_line "$tmpdir/fork.out" child && child=$line_pid; then
    if [ "$child" != "$parent" ]; then ok "fork: child $child, parent $parent"; else fail "fork: same pid"; fi
    check "fork: the child has its own segment heapswitch-$uid-$child" test -f "$(segment_file "$child")"
    check "fork: the parent still has its segment" test -f "$(segment_file "$parent")"
    read_pid "$child"
    expect_eq "fork: child state" "$(field state "$seg_line")" running
    expect_eq "fork: child tag" "$(field tag "$seg_line")" "$TAG"
    # 500 pairs after the fork; the parent's 300 and its stdout buffer
    # (allocated before the fork) must not show.
    expect_eq "fork: child malloc count (its own 500 only)" "$(field malloc "$seg_line")" 500
    expect_eq "fork: child free count (its own 500 only)" "$(field free "$seg_line")" 500
    read_pid "$parent"
    expect_eq "fork: parent state" "$(field state "$seg_line")" running
    expect_eq "fork: parent malloc count (its own 300 + $base_malloc, not the child's)" \
        "$(field malloc "$seg_line")" $((base_malloc + 300))
    expect_eq "fork: parent free count" "$(field free "$seg_line")" $((base_free + 300))
    flock -n -s -E 42 "$(segment_file "$child")" true
    expect_eq "fork: the child holds its segment's lock" "$?" 42
    flock -n -s -E 42 "$(segment_file "$parent")" true
    expect_eq "fork: the parent still holds its segment's lock" "$?" 42
    stop_hold "$parent"
    expect_eq "fork: exit status" "$hold_status" 0
    check "fork: the child's segment is gone after its exit" test ! -e "$(segment_file "$child")"
    check "fork: the parent's segment is gone after its exit" test ! -e "$(segment_file "$parent")"
else
    fail "fork: the helper did not print both pids"
    sed 's/^/    | /' "$tmpdir/fork.out" "$tmpdir/fork.out.err"
fi

# ---------------------------------------------------------------------
# exec: the new image (same pid) replaces the old segment with a fresh one.
# ---------------------------------------------------------------------
start_hold "$tmpdir/exec.out" exec 3000 200
if wait_line "$tmpdir/exec.out" first; then
    pid=$line_pid
    read_pid "$pid"
    expect_eq "exec: first image malloc count" "$(field malloc "$seg_line")" $((base_malloc + 3000))
    kill -USR1 "$pid"
    if wait_line "$tmpdir/exec.out" pid; then
        expect_eq "exec: the new image has the same pid" "$line_pid" "$pid"
        ours=$("$SEGREAD" 2>/dev/null | grep -c "^pid=$pid .* tag=$TAG ")
        expect_eq "exec: exactly one segment of ours for pid $pid" "$ours" 1
        read_pid "$pid"
        expect_eq "exec: segread -p status" "$seg_status" 0
        expect_eq "exec: state" "$(field state "$seg_line")" running
        expect_eq "exec: tag" "$(field tag "$seg_line")" "$TAG"
        expect_eq "exec: malloc count is the new image's only" "$(field malloc "$seg_line")" $((base_malloc + 200))
        expect_eq "exec: free count is the new image's only" "$(field free "$seg_line")" $((base_free + 200))
        stop_hold "$pid"
        expect_eq "exec: exit status" "$hold_status" 0
        check "exec: the segment is gone after exit" test ! -e "$(segment_file "$pid")"
        check "exec: no stderr" test ! -s "$tmpdir/exec.out.err"
    else
        fail "exec: the new image did not print its pid"
        sed 's/^/    | /' "$tmpdir/exec.out" "$tmpdir/exec.out.err"
    fi
else
    fail "exec: the helper did not print its pid"
fi

finish
