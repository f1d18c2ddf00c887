# heapswitch export: /metrics in Prometheus' format with two tagged
# processes (exact counts: the difference of their known numbers of calls,
# and the reader's own figures), promtool's verdict, other paths and
# methods, garbage and early disconnects, a port in use, bad options,
# SIGTERM/SIGINT. Slow clients and many connections: export_load.sh; the
# textfile: export_textfile.sh.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"

. "$abs_top_srcdir/tests/cli/export_common.sh"

start_exporter
ok "export listens on 127.0.0.1:$port ($(cat "$work/server.err"))"

# Two held processes that make exactly 30 and 1030 malloc/free pairs
# (with the same start-up calls), counting usable bytes exactly.
backend=system
hsw_backend_built jemalloc && backend=jemalloc
for pairs in 30 1030; do
    HEAPSWITCH_STATS=exact "$HSW" run -b $backend -t "$TAG" -- "$HOLD" wait $pairs \
        >"$work/hold$pairs.out" 2>"$work/hold$pairs.err" &
    track $!
done
for pairs in 30 1030; do
    if ! wait_for 30 grep -qs '^pid ' "$work/hold$pairs.out"; then
        fail "hold did not start: $(cat "$work/hold$pairs.err")"
        finish
    fi
done
pid=$(sed -n 's/^pid //p' "$work/hold30.out")
pid2=$(sed -n 's/^pid //p' "$work/hold1030.out")

http $port "$work/metrics" get /metrics
check "GET /metrics: 200" test "$(status_of "$work/metrics")" = "HTTP/1.1 200 OK"
check "Content-Type of the 0.0.4 text format" \
    grep -qi '^Content-Type: text/plain; version=0.0.4' "$work/metrics"
sed '1,/^\r*$/d' "$work/metrics" >"$work/body"
line=$(grep "^heapswitch_calls_total{pid=\"$pid\"," "$work/body" | grep 'kind="malloc"')
case $line in
    *"command=\"hold\""*"backend=\"$backend\""*"tag=\"$TAG\""*)
        ok "heapswitch_calls_total of hold with its tag and backend: $line" ;;
    *) fail "no malloc series for pid $pid: '$line'" ;;
esac
# sample FAMILY PID [KIND]: the value of one series of the page.
sample() {
    grep "^heapswitch_$1{pid=\"$2\"," "$work/body" | grep "${3:+kind=\"$3\"}" |
        sed 's/.* //'
}
for kind in malloc free; do
    a=$(sample calls_total $pid $kind)
    b=$(sample calls_total $pid2 $kind)
    check "$kind calls: exactly 1000 more for 1000 more pairs ($a, $b)" \
        test "$((b - a))" -eq 1000
done
# Sizes 16 + i % 200 for pair i.
want=$(awk 'BEGIN { for (i = 30; i < 1030; i++) s += 16 + i % 200; print s }')
a=$(sample bytes_requested_total $pid)
b=$(sample bytes_requested_total $pid2)
check "bytes requested: exactly $want more ($a, $b)" test "$((b - a))" -eq "$want"
# Each figure as the reader itself gives it (the processes are idle).
for p in $pid $pid2; do
    "$abs_top_builddir/tests/tools/segread" -p $p >"$work/segread" 2>&1
    for pair in malloc:calls_total:malloc calloc:calls_total:calloc \
        realloc:calls_total:realloc free:calls_total:free aligned:calls_total:aligned \
        failures:failures_total: requested:bytes_requested_total: \
        allocated:bytes_allocated_total: freed:bytes_freed_total: requests:requests_total:; do
        key=${pair%%:*}
        rest=${pair#*:}
        family=${rest%%:*}
        kind=${rest#*:}
        want=$(tr ' ' '\n' <"$work/segread" | sed -n "s/^$key=//p")
        got=$(sample $family $p $kind)
        [ -n "$want" ] && [ "$got" = "$want" ] ||
            fail "pid $p: heapswitch_$family${kind:+ $kind} is '$got', the reader says '$want'"
    done
done
ok "every counter of both processes as the reader gives it"
check "one series per process and kind" \
    test "$(grep -c "^heapswitch_calls_total{pid=\"$pid\"," "$work/body")" -eq 5
for family in process_info calls_total failures_total bytes_allocated_total \
    bytes_freed_total bytes_requested_total requests_total cpu_seconds_total live_bytes \
    peak_live_bytes rss_bytes threads; do
    grep -q "^heapswitch_$family{pid=\"$pid\"" "$work/body" ||
        fail "no heapswitch_$family for $pid"
done
check "# TYPE heapswitch_calls_total counter" grep -qx '# TYPE heapswitch_calls_total counter' "$work/body"
check "# TYPE heapswitch_live_bytes gauge" grep -qx '# TYPE heapswitch_live_bytes gauge' "$work/body"
check "heapswitch_up 1" grep -qx 'heapswitch_up 1' "$work/body"
check "a scrape-duration gauge" grep -q '^heapswitch_scrape_duration_seconds [0-9]' "$work/body"
dups=$(grep '^# TYPE' "$work/body" | sort | uniq -d)
check "each # TYPE once${dups:+: $dups}" test -z "$dups"
dups=$(grep '^# HELP' "$work/body" | sort | uniq -d)
check "each # HELP once" test -z "$dups"
if command -v promtool >/dev/null 2>&1; then
    if promtool check metrics <"$work/body" >"$work/promtool" 2>&1; then
        ok "promtool check metrics: clean"
    else
        fail "promtool check metrics: $(cat "$work/promtool")"
    fi
else
    echo "skip: promtool is not installed (apt-get install prometheus)"
fi

http $port "$work/a" split
check "a request in two pieces is answered once complete" \
    test "$(status_of "$work/a")" = "HTTP/1.1 200 OK"

# Other paths and methods.
http $port "$work/a" get /nothing-here
check "404 for another path" test "$(status_of "$work/a")" = "HTTP/1.1 404 Not Found"
http $port "$work/a" method POST
check "405 for POST" test "$(status_of "$work/a")" = "HTTP/1.1 405 Method Not Allowed"
http $port "$work/a" get /
check "/ is an HTML page linking to /metrics" \
    sh -c "head -n 1 '$work/a' | grep -q ' 200 ' && grep -q 'href=\"/metrics\"' '$work/a'"
http $port "$work/a" get '/metrics?x=1'
check "a query string is ignored" test "$(status_of "$work/a")" = "HTTP/1.1 200 OK"
http $port "$work/a" method HEAD
check "HEAD: the headers only" sh -c "head -n 1 '$work/a' | grep -q ' 200 ' &&
    ! grep -q '^heapswitch_up' '$work/a'"

# Garbage, early disconnects, stalls, oversize: the server survives all.
# A TLS hello: closed at once, with a 400 or without an answer.
http $port "$work/a" raw 'b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"'
check "binary garbage: closed (answer: '$(status_of "$work/a")')" \
    sh -c "[ ! -s '$work/a' ] || [ \"\$(head -n 1 '$work/a' | tr -d '\r')\" = 'HTTP/1.1 400 Bad Request' ]"
http $port "$work/a" raw 'b"hello there\r\n\r\n"'
check "a line that is not HTTP: 400" test "$(status_of "$work/a")" = "HTTP/1.1 400 Bad Request"
http $port "$work/a" raw 'b"GET /metrics\r\n\r\n"'
check "no HTTP version: 400" test "$(status_of "$work/a")" = "HTTP/1.1 400 Bad Request"
http $port "$work/a" raw 'b"GET /" + b"a" * 20000'
check "a request line over the size limit: 414" \
    test "$(status_of "$work/a")" = "HTTP/1.1 414 URI Too Long"
http $port "$work/a" raw 'b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"'
check "headers over the size limit: 431" \
    test "$(status_of "$work/a")" = "HTTP/1.1 431 Request Header Fields Too Large"
http $port "$work/a" raw 'b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"'
check "405 for POST with a body" test "$(status_of "$work/a")" = "HTTP/1.1 405 Method Not Allowed"
http $port "$work/a" close
http $port "$work/a" raw 'b"GET /metr"'  &
half=$!
# A client that stalls does not hold up the others.
http $port "$work/b" stall 60 &
stall=$!
track $stall
wait_for 30 test -e "$work/b.connected"
http $port "$work/a" get /metrics
check "still answering while a client stalls, after garbage and disconnects" \
    test "$(status_of "$work/a")" = "HTTP/1.1 200 OK"
check "the server is still running" kill -0 $server
wait $half
# The stalled one is dropped after the per-connection timeout (5 s), well
# before its own 60 s.
wait_for 50 sh -c "! kill -0 $stall 2>/dev/null"
check "a stalled connection is closed by the timeout" sh -c "! kill -0 $stall 2>/dev/null"

# The port is in use.
expect_error 1 "a second exporter on the same port" "$HSW" export --listen "127.0.0.1:$port"
check "  says the address is in use" \
    grep -qx "heapswitch export: address 127.0.0.1:$port is in use" "$work/err"

# An address this host does not have: exit 1 (TEST-NET-1, RFC 5737).
expect_error 1 "an address that is not this host's" "$HSW" export --listen "192.0.2.1:$port"
check "  says so" grep -q "192.0.2.1:$port is not an address of this host" "$work/err"

# Bad --listen values and arguments: exit 2.
for bad in nonsense 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 127.0.0.1:abc 127.0.0.1: \
    ::1:9464 '[::1]' '[::1]9464' '[nonsense]:9464' 1.2.3:9464 300.1.1.1:9464 \
    example.invalid:9464 ''; do
    expect_error 2 "--listen '$bad'" "$HSW" export --listen "$bad"
done
expect_error 2 "--listen without a value" "$HSW" export --listen
check "  says what it needs" grep -q -- "--listen needs ADDRESS:PORT" "$work/err"
expect_error 2 "--listen= with a bad value" "$HSW" export --listen=nonsense
expect_error 2 "an unknown option" "$HSW" export --frobnicate
check "  names it" grep -q "unknown option '--frobnicate'" "$work/err"
expect_error 2 "an unexpected argument" "$HSW" export 9464
for bad in 0 -1 abc 10001 ''; do
    expect_error 2 "--max-connections '$bad'" "$HSW" export --max-connections "$bad"
done
for bad in 0 1.5 abc 3601 ''; do
    expect_error 2 "--timeout '$bad'" "$HSW" export --timeout="$bad"
done
expect_error 2 "--interval without --textfile" "$HSW" export --interval 5
expect_error 2 "--once with a textfile and no server" "$HSW" export --textfile "$work/x.prom" --once
expect_error 2 "--timeout with a textfile and no server" "$HSW" export --textfile "$work/x.prom" --timeout 3
expect_error 2 "--textfile ''" "$HSW" export --textfile ''
expect_error 2 "--interval 0" "$HSW" export --textfile "$work/x.prom" --interval 0
check "no textfile written by a usage error" test ! -e "$work/x.prom"
expect_status 0 "--help" "$HSW" export --help
for option in --listen --once --max-connections --timeout --textfile --interval --help; do
    grep -q -- "$option" "$work/out" || fail "--help does not describe $option"
done

# SIGTERM: exit 0.
kill -TERM $server
wait $server
check "SIGTERM: exit 0 ($?)" test $? = 0

# --once, and SIGINT, on another port (IPv6 loopback if this host has it).
port2=$((port + 1))
if export_on "[::1]:$port2" --once; then
    http $port2 "$work/a" get /metrics ::1
    check "[::1]: --once answered" test "$(status_of "$work/a")" = "HTTP/1.1 200 OK"
elif export_on "127.0.0.1:$port2" --once; then
    echo "skip: no IPv6 loopback ($(cat "$work/server.err"))"
    http $port2 "$work/a" get /metrics
    check "--once answered" test "$(status_of "$work/a")" = "HTTP/1.1 200 OK"
else
    fail "export --once did not start: $(cat "$work/server.err")"
fi
wait_for 5 sh -c "! kill -0 $server 2>/dev/null"
wait $server
check "--once: exits 0 after one answer ($?)" test $? = 0

if export_on "127.0.0.1:$((port + 2))"; then
    http $((port + 2)) "$work/a" get /metrics
    kill -INT $server
    wait $server
    check "SIGINT: exit 0 ($?)" test $? = 0
else
    fail "export did not start: $(cat "$work/server.err")"
fi
# Without --listen it binds the loopback address only (127.0.0.1:9464),
# seen in the kernel's socket table; skipped if that port is taken.
if ! grep -q ':24F8 .* 0A ' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
    "$HSW" export 2>"$work/default.err" &
    default_server=$!
    track $default_server
    wait_for 5 grep -q serving "$work/default.err"
    listeners=$(awk '$4 == "0A" && $2 ~ /:24F8$/ { print $2 }' /proc/net/tcp /proc/net/tcp6)
    check "default --listen is loopback only (listening on: $listeners)" test "$listeners" = "0100007F:24F8"
    kill -TERM $default_server
    wait $default_server
else
    echo "skip: port 9464 is in use here; the default address is not checked"
fi

kill -USR1 "$pid" "$pid2" 2>/dev/null

finish
