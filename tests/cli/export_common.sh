# Helpers of the export tests (tests/cli/export*.sh), sourced after
# common.sh: a raw HTTP client, and exporters started on a free port.

if ! have_python; then
    echo "SKIP: the export tests talk HTTP through python3"
    exit 77
fi

# A raw HTTP client: http.py PORT OUTPUT MODE [ARG]; writes the whole
# answer to OUTPUT (empty when there is none).
#   get PATH | method METHOD | raw PYTHON-BYTES-LITERAL | split | close
#   | stall SECONDS
cat >"$work/http.py" <<'PY'
import os, socket, sys, time
port, output, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else ""
host = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1"
s = socket.create_connection((host, port), timeout=float(os.environ.get("HTTP_TIMEOUT", "10")))
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
    open(output + ".connected", "wb").close()
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
    while [ $i -lt 300 ]; do
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

# start_exporter [OPTIONS]: an exporter on a free port of 127.0.0.1 (a
# random high one, tried until one is free): $server, $port.
start_exporter() {
    try=0
    while :; do
        port=$(( ( $(od -An -N2 -tu2 /dev/urandom) % 20000 ) + 30000 ))
        if export_on "127.0.0.1:$port" "$@"; then return 0; fi
        try=$((try + 1))
        if [ $try -ge 10 ] || ! grep -q "in use" "$work/server.err"; then
            fail "export did not start: $(cat "$work/server.err")"
            finish
        fi
    done
}
