#!/bin/sh
# Nothing under /dev/shm is trusted. The reader refuses, with a one-line
# reason, symlinks, files readable by others, files of another owner,
# truncated, oversized and corrupted segments, and segments named for
# another process; it never follows, modifies or removes them, and still
# lists the good ones. Another user neither sees nor reads our segments.
# A writer whose name was planted before it started (a symlink, a FIFO,
# a directory, someone else's file) runs on normally with one warning
# and touches nothing; a stale file of its own user is replaced.
#
# Three tests share this file, each with its own result:
#   security         the reader, on names planted by this user
#   security_owners  files of another owner and another user's view: needs
#                    real root, setpriv(1) and a pid namespace (else SKIP)
#   security_writer  the writer, its name planted before it starts: needs
#                    a pid namespace, for predictable pids (else SKIP)
# (security_owners.sh and security_writer.sh only source this file.)
set -u
. "$(dirname "$0")/common.sh"

nobody=65534
as_nobody() { setpriv --reuid=$nobody --regid=$nobody --clear-groups "$@"; }

# patch FILE OFFSET BYTES: overwrites bytes in place (BYTES: printf escapes).
patch() {
    # shellcheck disable=SC2059
    printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# new_fake [UID]: a planted name for a pid no process can have; sets
# fake and fake_name.
fake_count=0
new_fake() {
    fake_count=$((fake_count + 1))
    fake=$((fake_pid_base + fake_count))
    fake_name=heapswitch-${1:-$uid}-$fake
    plant "$fake_name"
}

# expect_refused NAME REASON: the reader must refuse NAME, saying REASON.
expect_refused() { printf '%s\t%s\n' "$1" "$2" >>"$tmpdir/expected"; }

# The writer tests plant names for pids 2..$last_planted_pid.
last_planted_pid=300

# ---------------------------------------------------------------------
# The reader, on planted and damaged segments
# ---------------------------------------------------------------------
# The scan of everything planted (listed in $tmpdir/expected): exit 0,
# the good segments listed, one line per refused name, and segread -p
# refusing each with the same reason.
verify_scan() {
    timeout 30 "$SEGREAD" >"$tmpdir/scan.out" 2>"$tmpdir/scan.err"
    expect_eq "scan: segread exit status" "$?" 0
    grep -q "^pid=$live state=running .* tag=$TAG " "$tmpdir/scan.out"
    expect_eq "scan: lists the live segment of $live" "$?" 0
    grep -q "^pid=$kept state=exited .* tag=$TAG " "$tmpdir/scan.out"
    expect_eq "scan: lists the exited segment of $kept" "$?" 0
    if grep -e "heapswitch-$uid-$live:" -e "heapswitch-$uid-$kept:" "$tmpdir/scan.err"; then
        fail "scan: a good segment was refused"
    else
        ok "scan: no good segment refused"
    fi
    while IFS='	' read -r name reason; do
        lines=$(grep -c "^problem $name: " "$tmpdir/scan.err")
        line=$(grep "^problem $name: " "$tmpdir/scan.err")
        if [ "$lines" = 1 ] && printf '%s\n' "$line" | grep -q -F -e "$reason"; then
            ok "scan: refused: $line"
        else
            fail "scan: $name: want one line 'problem $name: ...$reason...', got $lines:"
            printf '%s\n' "$line" | sed 's/^/    | /'
        fi
        case $name in
            heapswitch-$uid-*)
                timeout 10 "$SEGREAD" -p "${name##*-}" >"$tmpdir/p.out" 2>"$tmpdir/p.err"
                status=$?
                if [ "$status" = 1 ] && [ ! -s "$tmpdir/p.out" ] &&
                    [ "$(wc -l <"$tmpdir/p.err")" = 1 ] && grep -q -F -e "$reason" "$tmpdir/p.err"; then
                    ok "segread -p ${name##*-}: $(cat "$tmpdir/p.err")"
                else
                    fail "segread -p ${name##*-}: status $status, want 1 and one line with '$reason':"
                    sed 's/^/    | /' "$tmpdir/p.out" "$tmpdir/p.err"
                fi
                ;;
        esac
    done <"$tmpdir/expected"
    expected=$(wc -l <"$tmpdir/expected")
    cut -f 1 "$tmpdir/expected" | sed 's/^/problem /; s/$/:/' >"$tmpdir/patterns"
    mine=$(grep -c -F -f "$tmpdir/patterns" "$tmpdir/scan.err")
    expect_eq "scan: problem lines about the planted names" "$mine" "$expected"
}

# The segments each reader section starts from: a live one ($live,
# $live_file) and a kept, exited one ($kept, $kept_file, copied to $good).
start_segments() {
    : >"$tmpdir/expected"
    start_hold "$tmpdir/live.out" wait 100
    if ! wait_line "$tmpdir/live.out" pid; then
        fail "the helper did not start"
        return 1
    fi
    live=$line_pid
    live_file=$(segment_file "$live")
    HEAPSWITCH_KEEP=1 start_hold "$tmpdir/kept.out" run 100
    wait "$hold_pid"
    wait_line "$tmpdir/kept.out" pid
    kept=$line_pid
    kept_file=$(segment_file "$kept")
    read_pid "$kept"
    expect_eq "control: a kept segment of ours is accepted" "$(field state "$seg_line")" exited
    good=$tmpdir/good
    cp "$kept_file" "$good"
}

section_reader() {
    start_segments || return

    # A symlink to a valid segment of ours: refused all the same.
    target=$tmpdir/target
    cp "$good" "$target" && chmod 600 "$target" && cp "$target" "$tmpdir/target.orig"
    new_fake
    link_name=$fake_name
    ln -s "$target" "$SHM/$fake_name"
    expect_refused "$fake_name" "is a symbolic link"

    new_fake
    cp "$good" "$SHM/$fake_name" && chmod 644 "$SHM/$fake_name"
    expect_refused "$fake_name" "readable by others (mode 644)"
    new_fake
    cp "$good" "$SHM/$fake_name" && chmod 640 "$SHM/$fake_name"
    expect_refused "$fake_name" "readable by others (mode 640)"

    # Truncated and oversized copies, of the live segment.
    new_fake
    head -c 1000 "$live_file" >"$SHM/$fake_name" && chmod 600 "$SHM/$fake_name"
    expect_refused "$fake_name" "implausible size 1000"
    new_fake
    head -c 40000 "$live_file" >"$SHM/$fake_name" && chmod 600 "$SHM/$fake_name"
    expect_refused "$fake_name" "core size 49152 in a file of 40000 bytes"
    new_fake
    { cat "$live_file" && head -c 20000 "$live_file"; } >"$SHM/$fake_name" && chmod 600 "$SHM/$fake_name"
    live_size=$(stat -c %s "$live_file")
    expect_refused "$fake_name" "is $((live_size + 20000)) bytes but records $live_size"

    # Valid copies with one field damaged (offsets of lib/segment_layout.h).
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 0 '\377'
    expect_refused "$fake_name" "bad magic"
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 8 '\003\000\000\000'
    expect_refused "$fake_name" "segment layout 3."
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 16 '\101\000\000\000'
    expect_refused "$fake_name" "bad header size 65"
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 20 '\100\000\000\000'
    expect_refused "$fake_name" "bad slot size 64"
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 24 '\377\377\000\000'
    expect_refused "$fake_name" "bad slot count 65535"
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 24 '\200\000\000\000'
    expect_refused "$fake_name" "does not match its layout"
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 32 '\000\020\000\000\000\000\000\000'
    expect_refused "$fake_name" "4096 recorded"
    new_fake
    cp "$good" "$SHM/$fake_name" && patch "$SHM/$fake_name" 40 '\007\000\000\000'
    expect_refused "$fake_name" "bad state 7"
    new_fake
    cp "$good" "$SHM/$fake_name" &&
        patch "$SHM/$fake_name" 112 "$(printf '%064d' 0 | tr 0 A)"
    expect_refused "$fake_name" "a text field is not terminated"
    # Valid, but named for another pid.
    new_fake
    cp "$good" "$SHM/$fake_name"
    expect_refused "$fake_name" "records pid $kept but is named for pid $fake"
    # Not regular files (a FIFO must not block the reader).
    new_fake
    mkdir -m 700 "$SHM/$fake_name"
    expect_refused "$fake_name" "not a regular file"
    new_fake
    mkfifo -m 600 "$SHM/$fake_name"
    expect_refused "$fake_name" "not a regular file"
    verify_scan

    # segread -r removes nothing it refused, follows nothing.
    "$SEGREAD" -r >/dev/null 2>&1
    expect_eq "segread -r: exit status" "$?" 0
    while IFS='	' read -r name reason; do
        if [ ! -e "$SHM/$name" ] && [ ! -L "$SHM/$name" ]; then
            fail "segread -r removed the refused $name ($reason)"
        fi
    done <"$tmpdir/expected"
    ok "segread -r: checked that the refused names are all still there"
    check "symlink: the target is unchanged" cmp -s "$target" "$tmpdir/target.orig"
    expect_eq "symlink: the target's mode is unchanged" "$(stat -c %a "$target")" 600
    expect_eq "symlink: still a link to the target" "$(readlink "$SHM/$link_name")" "$target"

    # The same segment, refused for its mode alone, then accepted again.
    chmod 644 "$kept_file"
    read_pid "$kept"
    expect_grep "control: mode 644 refused" "$tmpdir/segread.err" "readable by others"
    chmod 600 "$kept_file"
    read_pid "$kept"
    expect_eq "control: mode 600 accepted again" "$(field state "$seg_line")" exited
    stop_hold "$live"
    rm -f "$kept_file"
}

# ---------------------------------------------------------------------
# Files of another owner, and another, unprivileged user (real root only)
# ---------------------------------------------------------------------
section_owners() {
    start_segments || return

    new_fake
    cp "$good" "$SHM/$fake_name" && chown $nobody "$SHM/$fake_name"
    expect_refused "$fake_name" "owned by uid $nobody, named for uid $uid"
    new_fake $nobody
    cp "$good" "$SHM/$fake_name" && chown $nobody "$SHM/$fake_name"
    expect_refused "$fake_name" "claims uid $uid but is owned by uid $nobody"

    verify_scan

    # The same segment, refused for its owner alone, then accepted again.
    chown $nobody "$kept_file"
    read_pid "$kept"
    expect_grep "control: owner $nobody refused" "$tmpdir/segread.err" "owned by uid $nobody"
    chown "$uid" "$kept_file"
    read_pid "$kept"
    expect_eq "control: owner $uid accepted again" "$(field state "$seg_line")" exited

    # Another user: sees and reads none of ours.
    as_nobody "$SEGREAD" >"$tmpdir/nobody.out" 2>"$tmpdir/nobody.err"
    expect_eq "user $nobody: segread exit status" "$?" 0
    if grep -q -e "^pid=$live " -e "tag=$TAG " "$tmpdir/nobody.out"; then
        fail "user $nobody: segread lists our segments:"
        grep -e "^pid=$live " -e "tag=$TAG " "$tmpdir/nobody.out" | sed 's/^/    | /'
    else
        ok "user $nobody: segread lists none of ours"
    fi
    if grep -q "heapswitch-$uid-" "$tmpdir/nobody.err"; then
        fail "user $nobody: segread tried to read ours:"
        grep "heapswitch-$uid-" "$tmpdir/nobody.err" | head -5 | sed 's/^/    | /'
    else
        ok "user $nobody: segread did not even try ours"
    fi
    as_nobody "$SEGREAD" -p "$live" >/dev/null 2>&1
    expect_eq "user $nobody: segread -p $live fails" "$?" 1
    if as_nobody cat "$live_file" >/dev/null 2>&1; then
        fail "user $nobody can read $live_file"
    else
        ok "user $nobody cannot read $live_file (cat fails)"
    fi
    if as_nobody cat "$kept_file" >/dev/null 2>&1; then
        fail "user $nobody can read $kept_file"
    else
        ok "user $nobody cannot read $kept_file (cat fails)"
    fi

    # Its own process: its own segment, readable by it, listed for root.
    # Not through as_nobody: $! must be the helper (setpriv and env exec).
    setpriv --reuid=$nobody --regid=$nobody --clear-groups \
        env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_TAG="$TAG" "$HOLD" wait 50 \
        >"$tmpdir/nobody-hold.out" 2>"$tmpdir/nobody-hold.err" &
    started_pids="$started_pids $!"
    if wait_line "$tmpdir/nobody-hold.out" pid; then
        npid=$line_pid
        expect_eq "user $nobody: the helper's pid is the one started" "$npid" "$!"
        nfile=$SHM/heapswitch-$nobody-$npid
        expect_eq "user $nobody: its segment's owner and mode" "$(stat -c '%u %a' "$nfile" 2>&1)" "$nobody 600"
        line=$(as_nobody "$SEGREAD" -p "$npid" 2>&1)
        expect_eq "user $nobody: reads its own segment" "$(field tag "$line") $(field state "$line")" "$TAG running"
        line=$("$SEGREAD" 2>/dev/null | grep "^pid=$npid ")
        expect_eq "root: lists user $nobody's segment" "$(field tag "$line")" "$TAG"
        # It plants names of ours: root's reader refuses them.
        new_fake
        as_nobody ln -s "$nfile" "$SHM/$fake_name"
        read_pid "$fake"
        expect_grep "user $nobody's symlink named for us is refused" "$tmpdir/segread.err" "is a symbolic link"
        new_fake
        as_nobody cp "$nfile" "$SHM/$fake_name"
        read_pid "$fake"
        expect_grep "user $nobody's file named for us is refused" "$tmpdir/segread.err" \
            "owned by uid $nobody, named for uid $uid"
        stop_hold "$npid"
        expect_eq "user $nobody: exit status" "$hold_status" 0
        if [ -e "$nfile" ]; then
            fail "user $nobody: $nfile left after exit"
            rm -f "$nfile"
        else
            ok "user $nobody: its segment is gone after exit"
        fi
        check "user $nobody: no stderr" test ! -s "$tmpdir/nobody-hold.err"
    else
        fail "user $nobody: the helper did not start:"
        sed 's/^/    | /' "$tmpdir/nobody-hold.err"
    fi
    stop_hold "$live"
    rm -f "$kept_file"
}

# ---------------------------------------------------------------------
# The writer, with its name planted before it starts. In a new pid
# namespace the pids are predictable: names are planted for all of
# 2..$last_planted_pid, with a handful of processes.
# ---------------------------------------------------------------------
# Outside the initial pid namespace a writer's name ends in -<namespace
# inode> (lib/segment_place.h); the writer sections run in a new one.
ns_suffix=
if [ "${1-}" = --section ] && [ "$$" = 1 ]; then
    ns_suffix=-$(stat -L -c %i /proc/self/ns/pid)
fi
planted_names=
i=2
while [ "$i" -le "$last_planted_pid" ]; do
    planted_names="$planted_names $SHM/heapswitch-$uid-$i$ns_suffix"
    i=$((i + 1))
done

# run_planted LABEL KIND [VAR=value...]: runs the helper preloaded (exit
# status 3); sets run_pid. Checks it ran normally, within 5 s, and had
# a planted name; with a KIND other than "stale", one warning line.
run_planted() {
    label=$1
    kind=$2
    shift 2
    timeout 5 env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_TAG="$TAG" "$@" "$HOLD" run 50 3 \
        >"$tmpdir/w.out" 2>"$tmpdir/w.err"
    status=$?
    if [ "$status" = 124 ]; then
        fail "$label: the program hung (killed after 5 s); its stderr:"
        sed 's/^/    | /' "$tmpdir/w.err"
        run_pid=
        return
    else
        expect_eq "$label: the program's exit status is unchanged" "$status" 3
    fi
    run_pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$tmpdir/w.out")
    if is_number "$run_pid" && [ "$run_pid" -ge 2 ] && [ "$run_pid" -le "$last_planted_pid" ]; then
        ok "$label: the program ran as pid $run_pid, a planted name"
    else
        fail "$label: the program's pid '$run_pid' is not one of the planted 2..$last_planted_pid"
    fi
    if [ "$kind" = stale ]; then
        check "$label: no stderr" test ! -s "$tmpdir/w.err"
    else
        name="$SHM/heapswitch-$uid-$run_pid$ns_suffix"
        if [ "$(wc -l <"$tmpdir/w.err")" = 1 ] &&
            grep -q -x -e "heapswitch: cannot [a-z]* $name ([A-Z0-9]*); counting and publishing are off for this process" "$tmpdir/w.err"; then
            ok "$label: one warning line: $(cat "$tmpdir/w.err")"
        else
            fail "$label: want exactly one line 'heapswitch: cannot ... $name (...); counting and publishing are off for this process', got:"
            sed 's/^/    | /' "$tmpdir/w.err"
        fi
    fi
    entries=$(ls -A "$SHM" | wc -l)
    expect_eq "$label: nothing else created in $SHM" "$entries" "$((last_planted_pid - 1))"
}

clear_shm() { rm -rf "$SHM"/heapswitch-*; }

section_writer() {
    if [ "$$" != 1 ]; then
        fail "writer: not in a new pid namespace (pid $$)"
        return
    fi
    wtarget=$HSW_SEG_WTARGET

    # Symlinks to a file of ours (copied from a stage made outside, then
    # given this namespace's names by one process: pids are counted).
    cp -P "$HSW_SEG_STAGE"/heapswitch-* "$SHM"/
    /usr/bin/python3 -c 'import os, sys
for name in os.listdir(sys.argv[1]):
    if name.startswith("heapswitch-"):
        os.rename(os.path.join(sys.argv[1], name), os.path.join(sys.argv[1], name + sys.argv[2]))' \
        "$SHM" "$ns_suffix"
    run_planted "planted symlink" link
    if [ -n "$run_pid" ]; then
        name=$SHM/heapswitch-$uid-$run_pid$ns_suffix
        expect_eq "planted symlink: the target is untouched" "$(cat "$wtarget") $(stat -c '%a %s' "$wtarget")" "precious 644 9"
        expect_eq "planted symlink: the link is still there" "$(readlink "$name")" "$wtarget"
    fi

    clear_shm
    # shellcheck disable=SC2086
    mkfifo -m 666 $planted_names
    # As another user would plant them.
    # shellcheck disable=SC2086
    [ "$HSW_SEG_REAL_ROOT" = 1 ] && chown $nobody $planted_names
    run_planted "planted FIFO" fifo
    [ -n "$run_pid" ] && check "planted FIFO: still a FIFO" test -p "$SHM/heapswitch-$uid-$run_pid$ns_suffix"

    clear_shm
    # shellcheck disable=SC2086
    mkdir -m 777 $planted_names
    run_planted "planted directory" directory
    [ -n "$run_pid" ] && check "planted directory: still an empty directory" \
        rmdir "$SHM/heapswitch-$uid-$run_pid$ns_suffix"
    [ -n "$run_pid" ] && mkdir -m 777 "$SHM/heapswitch-$uid-$run_pid$ns_suffix"

    clear_shm
    # A stale file of our own user (no lock held): replaced by a segment.
    for name in $planted_names; do printf 'stale\n' >"$name"; done
    # shellcheck disable=SC2086
    chmod 600 $planted_names
    run_planted "stale file of ours" stale HEAPSWITCH_KEEP=1
    if [ -n "$run_pid" ]; then
        read_pid "$run_pid"
        expect_eq "stale file of ours: replaced by a valid segment" \
            "$(field state "$seg_line") $(field tag "$seg_line")" "exited $TAG"
    fi
    clear_shm
}

# A planted file of another user (real root only, in a pid namespace).
section_writer_owners() {
    if [ "$$" != 1 ]; then
        fail "writer: not in a new pid namespace (pid $$)"
        return
    fi
    for name in $planted_names; do printf 'precious\n' >"$name"; done
    # shellcheck disable=SC2086
    chown $nobody $planted_names && chmod 600 $planted_names
    run_planted "planted file of user $nobody" foreign
    [ -n "$run_pid" ] && expect_eq "planted file of user $nobody: untouched" \
        "$(cat "$SHM/heapswitch-$uid-$run_pid$ns_suffix") $(stat -c '%u %a' "$SHM/heapswitch-$uid-$run_pid$ns_suffix")" \
        "precious $nobody 600"
    clear_shm
}

if [ "${1-}" = --section ]; then
    enter_section "$2"
    "section_$2"
    finish
fi

# Whether this user can make a pid namespace (for predictable pids).
pid_namespace() {
    [ -n "$unshare_cmd" ] &&
        $unshare_cmd --mount --pid --fork --mount-proc true >/dev/null 2>&1
}

# The symlinks' target, and the links, for the writer sections: made
# here, as the sections have pids to spare for one cp only. Named for
# uid 0: root, or the user mapped to root in the namespace.
stage_links() {
    HSW_SEG_WTARGET=$tmpdir/wtarget
    printf 'precious\n' >"$HSW_SEG_WTARGET" && chmod 644 "$HSW_SEG_WTARGET"
    HSW_SEG_STAGE=$tmpdir/stage
    mkdir "$HSW_SEG_STAGE"
    i=2
    while [ "$i" -le "$last_planted_pid" ]; do
        ln -s "$HSW_SEG_WTARGET" "$HSW_SEG_STAGE/heapswitch-0-$i"
        i=$((i + 1))
    done
    export HSW_SEG_STAGE HSW_SEG_WTARGET
}

echo "$test_name under $HEAPSWITCH_BACKEND, tag $TAG"
case $test_name in
    security)
        if [ -n "$unshare_cmd" ]; then
            in_namespace -- reader
        else
            echo "note: no private /dev/shm (unshare not permitted): planting in the shared one"
            section_reader
        fi
        ;;
    security_owners)
        if [ "$HSW_SEG_REAL_ROOT" != 1 ]; then
            echo "SKIP: files of another owner and another user's view need real root"
            exit 77
        fi
        require setpriv
        if ! as_nobody test -x "$SEGREAD" -a -r "$HSW_PRELOAD" -a -x "$HOLD"; then
            echo "SKIP: user $nobody cannot run $SEGREAD, $HOLD or read $HSW_PRELOAD"
            exit 77
        fi
        if ! pid_namespace; then
            echo "SKIP: cannot make a pid namespace (unshare not permitted)"
            exit 77
        fi
        in_namespace -- owners
        in_namespace --pid --fork --mount-proc -- writer_owners
        ;;
    security_writer)
        if ! pid_namespace; then
            echo "SKIP: planted writer names need a pid namespace (unshare not permitted)"
            exit 77
        fi
        stage_links
        in_namespace --pid --fork --mount-proc -- writer
        ;;
    *)
        echo "FAIL: unknown test $test_name"
        exit 99
        ;;
esac

finish
