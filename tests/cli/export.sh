# heapswitch export: /metrics in Prometheus' format with a tagged process,
# promtool's verdict, other paths and methods, garbage and early
# disconnects, a port in use, bad --listen values, SIGTERM/SIGINT.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"

if ! have_python; then
    echo "SKIP: export.sh talks HTTP through python3"
    exit 77
fi

# A raw HTTP client: http.py PORT OUTPUT MODE [ARG]; writes the whole
# answer to OUTPUT (empty when there is none).
#   get PATH | method METHOD | raw PYTHON-BYTES-LITERAL | split | close
#   | stall SECONDS
cat >"$work/http.py" <<'PY'
import socket, sys, time
port, output, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else ""
host = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1"
s = socket.create_connection((host, port), timeout=10)
if mode == "get":
    s.sendall(b"GET " + arg.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
elif mode == "method":
    s.sendall(arg.encode() + b" /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
elif mode == "raw":
    s.sendall(eval(arg))
elif mode == "split":
    # The request line, a pause, then the headers: no answer before them.
    s.sendall(b"GET /metrics HTTP/1.1\r\n")
    s.settimeout(0.3)
    try:
        early = s.recv(100)
    except socket.timeout:
        early = b""
    if early:
        open(output, "wb").write(b"EARLY " + early)
        sys.exit(0)
    s.settimeout(10)
    s.sendall(b"Host: x\r\n\r\n")
elif mode == "close":
    s.close()
    open(output, "wb").close()
    sys.exit(0)
elif mode == "stall":
    # Sends nothing: waits (ARG seconds at most) for the server to hang up.
    s.settimeout(float(arg))
answer = b""
try:
    while True:
        got = s.recv(65536)
        if not got:
            break
        answer += got
except (ConnectionResetError, socket.timeout):
    pass
s.close()
open(output, "wb").write(answer)
PY
http() { python3 "$work/http.py" "$@"; }
status_of() { head -n 1 "$1" | tr -d '\r'; }

# export_on LISTEN [OPTIONS]: starts an exporter in the background ($server);
# returns 1 if it exited at once (its stderr in $work/server.err).
export_on() {
    rm -f "$work/server.err"
    "$HSW" export --listen "$@" 2>"$work/server.err" &
    server=$!
    track $server
    i=0
    while [ $i -lt 50 ]; do
        if ! kill -0 $server 2>/dev/null; then
            return 1
        fi
        if grep -q "serving" "$work/server.err" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# A free port: a random high one, tried until one is free.
try=0
while :; do
    port=$(( ( $(od -An -N2 -tu2 /dev/urandom) % 20000 ) + 30000 ))
    if export_on "127.0.0.1:$port"; then break; fi
    try=$((try + 1))
    if [ $try -ge 10 ] || ! grep -q "in use" "$work/server.err"; then
        fail "export did not start: $(cat "$work/server.err")"
        finish
    fi
done
ok "export listens on 127.0.0.1:$port ($(cat "$work/server.err"))"

backend=system
hsw_backend_built jemalloc && backend=jemalloc
"$HSW" run -b $backend -t "$TAG" -- "$HOLD" wait 30 >"$work/hold.out" 2>"$work/hold.err" &
track $!
if ! wait_for 10 grep -qs '^pid ' "$work/hold.out"; then
    fail "hold did not start: $(cat "$work/hold.err")"
    finish
fi
pid=$(sed -n 's/^pid //p' "$work/hold.out")

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
check "  at least hold's 30 mallocs" test "${line##* }" -ge 30
for family in calls_total failures_total bytes_allocated_total bytes_freed_total \
    bytes_requested_total requests_total live_bytes peak_live_bytes rss_bytes threads; do
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
http $port "$work/a" raw 'b"\x00\xff\x16\x03\x01garbage"'
check "binary garbage: 400" test "$(status_of "$work/a")" = "HTTP/1.1 400 Bad Request"
http $port "$work/a" raw 'b"hello there\r\n\r\n"'
check "a line that is not HTTP: 400" test "$(status_of "$work/a")" = "HTTP/1.1 400 Bad Request"
http $port "$work/a" raw 'b"GET /metrics\r\n\r\n"'
check "no HTTP version: 400" test "$(status_of "$work/a")" = "HTTP/1.1 400 Bad Request"
http $port "$work/a" raw 'b"GET /" + b"a" * 20000'
check "a request over the size limit: 431" \
    test "$(status_of "$work/a")" = "HTTP/1.1 431 Request Header Fields Too Large"
http $port "$work/a" close
http $port "$work/a" raw 'b"GET /metr"'  &
half=$!
# A client that stalls does not hold up the others.
http $port "$work/b" stall 30 &
stall=$!
track $stall
sleep 0.3
http $port "$work/a" get /metrics
check "still answering while a client stalls, after garbage and disconnects" \
    test "$(status_of "$work/a")" = "HTTP/1.1 200 OK"
check "the server is still running" kill -0 $server
wait $half
# The stalled one is dropped after the per-connection timeout (5 s).
wait_for 8 sh -c "! kill -0 $stall 2>/dev/null"
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
expect_error 2 "an unknown option" "$HSW" export --frobnicate
expect_error 2 "an unexpected argument" "$HSW" export 9464
expect_status 0 "--help" "$HSW" export --help

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

kill -USR1 "$pid" 2>/dev/null

finish
