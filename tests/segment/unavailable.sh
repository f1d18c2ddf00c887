#!/bin/sh
# When the segment cannot be created (/dev/shm read-only, full, out of
# inodes, missing, not writable) a program runs on exactly as without
# heapswitch: same output, same exit status, and one warning line
# "heapswitch: cannot ... /dev/shm/heapswitch-UID-PID (ERRNO); counting
# and publishing are off for this process" on stderr; nothing is left
# in /dev/shm. With HEAPSWITCH_STATS=0, not even the warning.
#
# Two tests share this file, each with its own result: unavailable, and
# unavailable_user (/dev/shm not writable by the user: needs real root
# and setpriv(1), else SKIP; unavailable_user.sh only sources this file).
set -u
. "$(dirname "$0")/common.sh"

nobody=65534

# warning_ok FILE NAME_PATTERN: FILE is exactly one warning line.
warning_ok() {
    [ "$(wc -l <"$1")" = 1 ] &&
        grep -q -x -e "heapswitch: cannot [a-z]* $SHM/$2 ([A-Z0-9]*); counting and publishing are off for this process" "$1"
}

# try KEY MODE ERRNO [RUNNER...]: the checks, with /dev/shm already
# broken as MODE says; RUNNER (e.g. setpriv ...) runs the programs.
try() {
    out=$tmpdir/$1
    mode=$2
    errno=$3
    shift 3
    # sort of a small file
    "$@" env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_TAG="$TAG" sort "$pub/input" \
        >"$out.sort" 2>"$out.sort.err"
    expect_eq "$mode: sort's exit status" "$?" 0
    check "$mode: sort's output is right" cmp -s "$out.sort" "$pub/expected"
    if warning_ok "$out.sort.err" "heapswitch-[0-9]*-[0-9]*"; then
        ok "$mode: sort's stderr is one warning line: $(cat "$out.sort.err")"
    else
        fail "$mode: sort's stderr is not exactly one warning line:"
        sed 's/^/    | /' "$out.sort.err"
    fi
    if grep -q "($errno)" "$out.sort.err"; then
        ok "$mode: the warning names $errno"
    else
        fail "$mode: the warning does not name $errno: $(cat "$out.sort.err")"
    fi

    # A failing program keeps its exit status and its own message.
    "$@" env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_TAG="$TAG" sort -c "$pub/input" \
        >"$out.c" 2>"$out.c.err"
    expect_eq "$mode: sort -c's exit status (as without heapswitch)" "$?" "$plain_c_status"
    grep -v '^heapswitch: ' "$out.c.err" >"$out.c.rest"
    check "$mode: sort -c's own message is unchanged" cmp -s "$out.c.rest" "$tmpdir/plain-c.err"
    grep '^heapswitch: ' "$out.c.err" >"$out.c.ours"
    check "$mode: sort -c has one warning line" warning_ok "$out.c.ours" "heapswitch-[0-9]*-[0-9]*"

    # The helper: a chosen exit status, and the warning names its pid.
    "$@" env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_TAG="$TAG" "$HOLD" run 100 5 \
        >"$out.hold" 2>"$out.hold.err"
    expect_eq "$mode: the helper's exit status" "$?" 5
    hold=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$out.hold")
    runner_uid=$("$@" id -u)
    if warning_ok "$out.hold.err" "heapswitch-$runner_uid-$hold"; then
        ok "$mode: the helper's warning names heapswitch-$runner_uid-$hold"
    else
        fail "$mode: the helper's stderr is not one warning about heapswitch-$runner_uid-$hold:"
        sed 's/^/    | /' "$out.hold.err"
    fi

    # HEAPSWITCH_STATS=0: nothing to warn about.
    "$@" env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_STATS=0 sort "$pub/input" \
        >"$out.stats0" 2>"$out.stats0.err"
    expect_eq "$mode: with HEAPSWITCH_STATS=0, sort's exit status" "$?" 0
    check "$mode: with HEAPSWITCH_STATS=0, the output is right" cmp -s "$out.stats0" "$pub/expected"
    check "$mode: with HEAPSWITCH_STATS=0, no stderr" test ! -s "$out.stats0.err"

    if [ -d "$SHM" ]; then
        left=$(ls -A "$SHM" | grep -v '^filler$' | tr '\n' ' ')
        expect_eq "$mode: nothing left in $SHM" "$left" ""
    fi
}

# The input files (in a directory the other user can read too) and the
# status of sort -c on them without heapswitch.
prepare() {
    # A directory the other user can read too.
    chmod 711 "$tmpdir"
    pub=$tmpdir/pub
    mkdir "$pub" && chmod 755 "$pub"
    printf 'pear\napple\nfig\nbanana\ncherry\n' >"$pub/input"
    printf 'apple\nbanana\ncherry\nfig\npear\n' >"$pub/expected"
    chmod 644 "$pub/input" "$pub/expected"
    sort -c "$pub/input" 2>"$tmpdir/plain-c.err"
    plain_c_status=$?
    if [ "$plain_c_status" = 0 ]; then
        fail "sort -c accepts unsorted input?"
    fi
}

section_unavailable() {
    prepare

    # The section's private tmpfs is on $SHM; each case mounts over it.
    if mount -t tmpfs -o ro,mode=1777 hsw-ro "$SHM"; then
        try ro "read-only" EROFS
        umount "$SHM"
    else
        fail "cannot mount a read-only tmpfs"
    fi

    if mount -t tmpfs -o size=8k,mode=1777 hsw-full "$SHM"; then
        # Full: no block left at all.
        dd if=/dev/zero of="$SHM/filler" bs=1024 count=64 2>/dev/null
        try full "full (size=8k)" ENOSPC
        umount "$SHM"
    else
        fail "cannot mount a tiny tmpfs"
    fi

    if mount -t tmpfs -o size=1m,nr_inodes=1,mode=1777 hsw-inodes "$SHM"; then
        try inodes "no free inode" ENOSPC
        umount "$SHM"
    else
        fail "cannot mount a tmpfs with one inode"
    fi

    # Missing: an empty /dev (no /dev/null either until it is unmounted).
    if mount -t tmpfs -o mode=755 hsw-dev /dev; then
        try missing "missing /dev/shm" ENOENT
        "$SEGREAD" >"$tmpdir/missing.segread" 2>&1
        missing_status=$?
        umount /dev
        expect_eq "missing /dev/shm: segread fails" "$missing_status" 1
    else
        fail "cannot mount an empty tmpfs on /dev"
    fi
}

# /dev/shm not writable by the user: run as another user (real root only).
section_unavailable_user() {
    prepare
    if mount -t tmpfs -o mode=755 hsw-private "$SHM"; then
        try private "not writable by user $nobody" EACCES \
            setpriv --reuid=$nobody --regid=$nobody --clear-groups
        umount "$SHM"
    else
        fail "cannot mount a tmpfs with mode 755"
    fi
}

if [ "${1-}" = --section ]; then
    enter_section "$2"
    "section_$2"
    finish
fi

echo "$test_name under $HEAPSWITCH_BACKEND, tag $TAG"
require sort
if [ -z "$unshare_cmd" ]; then
    echo "SKIP: cannot make a mount namespace (unshare not permitted)"
    exit 77
fi
case $test_name in
    unavailable) in_namespace -- unavailable ;;
    unavailable_user)
        if [ "$HSW_SEG_REAL_ROOT" != 1 ]; then
            echo "SKIP: running as another user needs real root"
            exit 77
        fi
        require setpriv
        in_namespace -- unavailable_user
        ;;
    *)
        echo "FAIL: unknown test $test_name"
        exit 99
        ;;
esac
finish
