# heapswitch top's A/B view in a real terminal (a private tmux server):
# two request servers (examples/request_server, which marks requests)
# under two tags, and backends when a second one is built, plus an
# unrelated process under the library with the second server's backend
# and tag. Only the request servers are compared, per request, with
# "not enough data" first and a verdict with its interval later; the
# unrelated process is listed apart; the allocation rate is a balance
# check, never a verdict; the keys g, k and w change the arms, the
# program key and the window.
. "$(dirname "$0")/common.sh"
. "$abs_top_srcdir/tests/tmux.sh"

command -v tmux >/dev/null 2>&1 || { echo "SKIP: no tmux"; exit 77; }
SERVER=$abs_top_builddir/examples/request_server
[ -x "$SERVER" ] || { echo "SKIP: examples/request_server not built"; exit 77; }
backend_b=$(other_backend)
[ -n "$backend_b" ] || backend_b=system

cleanup_hook() { tmux_stop; }

tag_a=A$$
tag_b=B$$
# start BACKEND TAG COMMAND...: its pid in $last_pid, once its segment exists
start() {
    backend=$1 tag=$2
    shift 2
    "$HSW" run -b "$backend" -t "$tag" -- "$@" >/dev/null 2>&1 &
    last_pid=$!
    track "$last_pid"
    tries=100
    while [ "$tries" -gt 0 ] && [ ! -e "/dev/shm/heapswitch-$(id -u)-$last_pid" ]; do
        sleep 0.1
        tries=$((tries - 1))
    done
}
start system "$tag_a" "$SERVER" --naive -s 600
pid_a=$last_pid
start "$backend_b" "$tag_b" "$SERVER" --naive -s 600
pid_b=$last_pid
start "$backend_b" "$tag_b" sleep 600
pid_other=$last_pid

# expect_line DESCRIPTION PATTERN SECONDS: the screen has a line matching
# PATTERN (ERE) within SECONDS.
expect_line() { expect_within "$3" "$1" has_ere "$2"; }

# 1.5 s between refreshes: the first verdict needs several intervals, so
# "not enough data" stays on the screen for several seconds.
tmux_session 130 45 \
    "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color $TOP top -d 1.5 -p $pid_a,$pid_b,$pid_other; echo top-exited:\$?; sleep 60"
expect_line "top shows the three processes" "processes: 3 \(3 running\)" 10
keys a
expect_line "a: the A/B view, by program" "^A/B within each program \(k: executable\), arms by backend" 5
expect_line "the request servers compared: 2 arms, 2 processes, per request" \
    "^request_server: 2 arms, 2 processes; per request \(marked\)" 5
expect_line "not enough data at first, and how many more samples" \
    "^CPU/request .*not enough data: [0-9]+ more" 5

if [ "$backend_b" != system ]; then
    expect "arms: the two backends" grep -Eq "^METRIC +system +$backend_b +$backend_b vs system" "$work/screen"
    expect "the unrelated process listed apart" grep -Eq "^  sleep: $backend_b only, 1 process$" "$work/screen"
fi
expect "only the two servers in the comparison: one process per arm" \
    grep -Eq "^processes +1 +1 *$" "$work/screen"
expect "the unrelated process under 'Not compared'" \
    sh -c "sed -n '/^Not compared/,\$p' '$work/screen' | grep -q '^  sleep: '"
expect "per request: no CPU per 1,000 calls row" sh -c "! grep -q '^CPU/1k allocs' '$work/screen'"
expect "the window shown" grep -q "window 60 s" "$work/screen"

expect_line "a verdict with its interval, on CPU per request" \
    "^CPU/request .* [0-9.]+x \[[0-9.]+-[0-9.]+\] ([^ ]+ better|no difference)" 90
# The comparison as drawn, for the log.
sed -n '/^request_server:/,/^samples/p' "$work/screen"
expect "requests/s compared too" grep -Eq "^requests/s .*(x \[|not enough data)" "$work/screen"
expect "RSS, heap resident, fragmentation per arm" \
    sh -c "grep -q '^RSS ' '$work/screen' && grep -q '^heap resident ' '$work/screen' && grep -q '^fragmentation ' '$work/screen'"
expect "the allocation rate: a balance check" grep -Eq "^allocs/s .*balance: " "$work/screen"
expect "the allocation rate: never better or worse" sh -c "! grep -Eq '^allocs/s .*better' '$work/screen'"
expect "sample counts shown" grep -Eq "^samples +[1-9][0-9]* +[1-9][0-9]*" "$work/screen"

keys g
expect_line "g: arms by tag" "^METRIC +$tag_a +$tag_b +$tag_b vs $tag_a" 5
expect "g: the unrelated process still apart" grep -Eq "^  sleep: $tag_b only, 1 process$" "$work/screen"
expect "g: still one process per arm" grep -Eq "^processes +1 +1 *$" "$work/screen"

keys w
expect_line "w: a longer window" "window 120 s" 5
keys k
# Tags without a separator are their own prefixes: every program has one arm.
expect_line "k: by executable and tag prefix, nothing left to compare" \
    "No program runs under two arms" 5
expect "k: the servers listed apart by tag prefix" \
    sh -c "grep -q '^  request_server \[$tag_a\]: $tag_a only' '$work/screen' && grep -q '^  request_server \[$tag_b\]: $tag_b only' '$work/screen'"
keys k
expect_line "k: by command line, the servers compared again" \
    "request_server --naive -s 600: 2 arms, 2 processes" 5
expect "k: the sleep's command line apart" grep -q "^  sleep 600: $tag_b only" "$work/screen"

keys h
expect_line "h: the help names the A/B keys" "^  k .*program" 5
keys x
expect_line "back from help to the A/B view" "^A/B within each program" 5
keys a
expect_line "a again: back to the table" "COMMAND" 5
keys q
expect_line "q quits (exit 0)" "top-exited:0" 5

finish
