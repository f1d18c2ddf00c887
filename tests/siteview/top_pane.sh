# heapswitch top's sites pane, driven through a private tmux server: 's'
# in the detail view shows the sites of tests/siteview/sitegen --grow (one
# site allocating 1000/s, 10 per request), named by function and
# file:line; 'o' cycles the sort; Enter shows the selected site's stack,
# Esc goes back; a process without sampling says so; leaving the detail
# view and 's' again bring back the size classes.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"
. "$abs_top_srcdir/tests/tmux.sh"

command -v tmux >/dev/null 2>&1 || { echo "SKIP: no tmux"; exit 77; }
SITEGEN=$abs_top_builddir/tests/siteview/sitegen
trap 'tmux_stop; cleanup' EXIT

start_sitegen() {
    name=$1
    shift
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
    track $!
    if ! wait_for 10 grep -qs '^pid ' "$work/$name.out"; then
        fail "$name did not start: $(cat "$work/$name.err")"
        finish
    fi
    pid=$(sed -n 's/^pid //p' "$work/$name.out")
}
# The first row under the pane's column titles.
first_site() { sed -n '/ALLOCS.*SITE$/{n;p;q}' "$work/screen"; }
first_site_has() { first_site | grep -q -- "$1"; }

start_sitegen growing "$SITEGEN" --grow
growing=$pid
start_sitegen quiet "$SITEGEN" --no-sites
quiet=$pid
tmux_session 140 40 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $HSW top -d 0.5 -p $growing,$quiet; echo top-exited:\$?; sleep 60" ||
    { echo "SKIP: tmux cannot start a session"; exit 77; }

expect "top lists the generator" has "^ *$growing "
keys Enter
expect "Enter: the detail view, size classes below" has "Size classes"
keys s
expect "s: the sites pane instead of the size classes" has "Call sites, sampled, by allocs/s"
expect "  rates per second once read twice" has "ALLOCS/s"
expect "  the allocating site first, named with file:line" first_site_has "plain_site (sitegen.c:"
expect "  10 allocations per request at that site" first_site_has " 10.00  "
expect "  the C++ site demangled" has "sitegen_demo::Pool<long>::grow("
expect "  the other row" has "\[other\]"
expect "  the size classes are gone" eval 'has "Call sites" && lacks "Size classes"'
keys o
expect "o: sorted by bytes/s" has "by bytes/s"
keys o
expect "o: sorted by live bytes" has "by live bytes"
keys o
expect "o: back to allocs/s" has "by allocs/s"
keys Enter
expect "Enter: the selected site's stack" has "Stack of the selected site"
expect "  innermost frame first" has "#0  plain_site (sitegen.c:"
expect "  down to main" has "#1  main (sitegen.c:"
keys Escape
expect "Esc: back to the sites" has "ALLOCS/s"
keys Down Enter
expect "Down, Enter: another site's stack" has "Stack of the selected site"
expect "  not the first site's" eval 'has "Stack of the selected site" && lacks "#0  plain_site"'
keys Escape
expect "Esc: the table again" has "ALLOCS/s"
keys Escape
expect "Esc again: back to the list" lacks "Call sites"
keys Down
keys Enter
expect "the other process's detail keeps the pane" has "Call sites, sampled"
expect "  a process without sampling says so" has "sampling is off"
keys s
expect "s again: the size classes" has "Size classes"
keys q q
expect "q, q: top exits 0" has "top-exited:0"
finish
