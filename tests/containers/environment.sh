#!/bin/sh
# The container-related variables under the backend the runner names:
# HEAPSWITCH_LABELS (published when valid; each kind of bad value gets one
# clear warning and no labels), HEAPSWITCH_DIR (a directory that is not
# safe, not absolute, missing or a symbolic link is refused with one
# warning, and nothing is created), and warnings once per process tree
# (HEAPSWITCH_WARNED), still once per process under HEAPSWITCH_STRICT.
set -u
. ./tests/testenv.sh
. "$abs_top_srcdir/tests/checks.sh"
: "${HEAPSWITCH_BACKEND:?set by the runner}" "${HSW_PRELOAD:?set by the runner}"
unset HEAPSWITCH_TAG HEAPSWITCH_STATS HEAPSWITCH_REPORT HEAPSWITCH_KEEP HEAPSWITCH_LABELS \
    HEAPSWITCH_DIR HEAPSWITCH_WARNED LD_PRELOAD

HOLD=$abs_top_builddir/tests/segment/hold
SEGREAD=$abs_top_builddir/tests/tools/segread
work=$(mktemp -d /tmp/hsw-environment.XXXXXX)
dir=$work/segments
mkdir -m 700 "$dir"
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# published LABELS: runs `hold wait` with these labels; sets line (its
# segment as read) and err (its stderr).
published() {
    rm -f "$work/out" "$work/err"
    env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$dir" HEAPSWITCH_LABELS="$1" "$HOLD" wait 10 \
        >"$work/out" 2>"$work/err" &
    pid=$!
    tries=0
    while [ $tries -lt 100 ] && ! grep -qs '^pid ' "$work/out"; do
        sleep 0.1
        tries=$((tries + 1))
    done
    line=$(HEAPSWITCH_DIR=$dir "$SEGREAD" -p "$pid" 2>&1)
    kill -USR1 "$pid"
    wait "$pid"
    err=$(cat "$work/err")
}

published "pod=web-1,namespace=shop,container=server"
expect_eq "valid labels: published" "$(field labels "$line")" "pod=web-1,namespace=shop,container=server"
expect_eq "valid labels: no warning" "$err" ""

# bad LABELS WHY: one warning naming the problem, no labels published.
bad() {
    published "$1"
    expect_eq "HEAPSWITCH_LABELS='$1': no labels published" "$(field labels "$line")" "-"
    if [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] &&
        printf '%s\n' "$err" | grep -q "^heapswitch: ignoring HEAPSWITCH_LABELS: it $2"; then
        ok "HEAPSWITCH_LABELS='$1': one warning ($err)"
    else
        fail "HEAPSWITCH_LABELS='$1': want one warning 'ignoring HEAPSWITCH_LABELS: it $2', got: $err"
    fi
}
bad "1pod=a" "has a label name that starts with a digit"
bad "pod" "is not key=value"
bad "pod-name=a" "has a label name with a character outside"
bad "backend=x" "has a label name heapswitch sets itself"
bad "pid=3" "has a label name heapswitch sets itself"
bad "__name__=x" "has a label name starting with \"__\""
bad "a=1,a=2" "names a label twice"
bad "a=" "has a label with an empty value"
bad "a=b c" "has a value with a character other than printable ASCII"
bad "a=b," "ends with a comma"
bad "a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9" "has more than 8 labels"
long=$(printf '%0128d' 0)
bad "a=$long" "has a value longer than 127 characters"

# HEAPSWITCH_DIR: refused DIR WHY: the program runs (exit status 3), one
# warning matching WHY, nothing created in the directory.
refused() {
    env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$1" "$HOLD" run 10 3 >"$work/out" 2>"$work/err"
    expect_eq "HEAPSWITCH_DIR=$1: the program's exit status" "$?" 3
    if [ "$(wc -l <"$work/err")" = 1 ] && grep -q -e "$2" "$work/err"; then
        ok "HEAPSWITCH_DIR=$1: one warning ($(cat "$work/err"))"
    else
        fail "HEAPSWITCH_DIR=$1: want one warning matching '$2', got: $(cat "$work/err")"
    fi
    if [ -d "$1" ] && [ ! -L "$1" ]; then
        expect_eq "HEAPSWITCH_DIR=$1: nothing created" "$(ls -A "$1")" ""
    fi
}
mkdir -m 777 "$work/open"
chmod 777 "$work/open" # whatever the umask
refused "$work/open" "the segment directory $work/open is writable by others without the sticky bit"
refused "relative/dir" "HEAPSWITCH_DIR='relative/dir' is not an absolute path"
refused "$work/missing" "cannot create $work/missing/heapswitch-[0-9]*-[0-9]* (ENOENT)"
ln -s "$dir" "$work/link"
refused "$work/link" "the segment directory $work/link is a symbolic link (name its target)"
expect_eq "HEAPSWITCH_DIR through a symbolic link: nothing created in its target" "$(ls -A "$dir")" ""
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    mkdir -m 700 "$work/theirs"
    chown nobody "$work/theirs"
    refused "$work/theirs" "the segment directory $work/theirs belongs to another user"
fi
mkdir -m 1777 "$work/sticky"
chmod 1777 "$work/sticky"
env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$work/sticky" HEAPSWITCH_KEEP=1 "$HOLD" run 10 3 \
    >"$work/out" 2>"$work/err"
kept=$(ls "$work/sticky")
expect_eq "HEAPSWITCH_DIR world-writable with the sticky bit: used, no warning" \
    "$(cat "$work/err") $(stat -c '%a' "$work/sticky/$kept" 2>/dev/null)" " 600"

# Real programs with a directory and labels: their output unchanged, no
# warning, and the labels in their HEAPSWITCH_REPORT lines.
printf 'pear\napple\nfig\n' >"$work/input"
env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$dir" HEAPSWITCH_LABELS=app=sort \
    HEAPSWITCH_REPORT="$work/report" sort "$work/input" >"$work/sorted" 2>"$work/err"
expect_eq "sort: output, stderr" "$(tr '\n' ' ' <"$work/sorted")$(cat "$work/err")" "apple fig pear "
if [ -x /usr/bin/python3 ]; then
    env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$dir" HEAPSWITCH_LABELS=app=python \
        HEAPSWITCH_REPORT="$work/report" /usr/bin/python3 -c 'print(sum(len(str(i)) for i in range(100000)))' \
        >"$work/python" 2>"$work/err"
    expect_eq "python3: output, stderr" "$(cat "$work/python")$(cat "$work/err")" 488890
fi
check "the report lines carry the labels" grep -q '"labels":"app=sort"' "$work/report"
[ -x /usr/bin/python3 ] && check "python3's report line too" grep -q '"labels":"app=python"' "$work/report"
expect_eq "nothing left in the directory" "$(ls -A "$dir")" ""

# Once per process tree: a shell and the two programs it runs share one
# bad HEAPSWITCH_BACKEND, warned about once.
unset HEAPSWITCH_STRICT
tree() {
    env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$dir" "$@" sh -c '/bin/true; /bin/true; :' \
        2>&1 | grep -c '^heapswitch: '
}
expect_eq "bad HEAPSWITCH_BACKEND in a tree of 3 processes: warned once" \
    "$(tree HEAPSWITCH_BACKEND=nosuch)" 1
expect_eq "bad HEAPSWITCH_LABELS in a tree of 3 processes: warned once" \
    "$(tree HEAPSWITCH_LABELS=1x=y)" 1
expect_eq "under HEAPSWITCH_STRICT=1: once per process" \
    "$(tree HEAPSWITCH_STRICT=1 HEAPSWITCH_LABELS=1x=y)" 3
got=$(env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$dir" HEAPSWITCH_BACKEND=nosuch \
    sh -c 'HEAPSWITCH_BACKEND=other /bin/true; /bin/true; :' 2>&1 | grep -c '^heapswitch: ')
expect_eq "a child with another bad value: warned about it too" "$got" 2
# Only a line a parent really gave is skipped: a forged list changes nothing.
got=$(env LD_PRELOAD="$HSW_PRELOAD" HEAPSWITCH_DIR="$dir" HEAPSWITCH_BACKEND=nosuch \
    HEAPSWITCH_WARNED=zz,00000000,12345678 /bin/true 2>&1 | grep -c '^heapswitch: ')
expect_eq "HEAPSWITCH_WARNED without this line: warned" "$got" 1

[ "$failures" -eq 0 ]
