# heapswitch export under hostile or heavy load: a client sending its
# request a byte at a time and one sending nothing do not hold up the
# others and are cut off after the timeout (never before); 500 requests
# at once are each answered in full or refused cleanly, within the
# connection limit; 500 idle connections never take more than the limit,
# are all closed after the timeout, and a request queued behind them is
# served. The server is up and serving normally after each. No timed
# verdicts: every wait is for a condition, with a generous bound.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"
. "$abs_top_srcdir/tests/cli/export_common.sh"

# load.py MODE PORT OUTPUT [N]: clients; OUTPUT gets "key value" lines.
#   slow   sends a request that never ends, a byte every 0.2 s; writes
#          OUTPUT.connected once connected, then "cut SECONDS BYTES" when the
#          server closes (or "uncut" after 120 s)
#   idle   N connections that send nothing: OUTPUT.connected once all are
#          connected, then "closed K", "min_seconds S" when the server has
#          closed them all (or after 120 s)
#   burst  N connections, each sending GET /metrics at once: "complete K"
#          (a whole 200 answer, Content-Length bytes of body), "refused K"
#          (refused, reset or closed before any byte), "broken K" (anything
#          else), each line "broken: why" too
cat >"$work/load.py" <<'PY'
import errno, selectors, socket, sys, time
mode, port, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
report = open(output, "w")

def connect():
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    return s

if mode == "slow":
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    started = time.monotonic()
    open(output + ".connected", "w").close()
    sent = 0
    request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "
    s.settimeout(0.2)
    while time.monotonic() - started < 120:
        byte = request[sent:sent + 1] or b"a"
        try:
            s.send(byte)
            sent += 1
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    else:
        print("uncut", file=report)
        sys.exit(0)
    print("cut %.3f %d" % (time.monotonic() - started, sent), file=report)
    sys.exit(0)

sel = selectors.DefaultSelector()
state = {}
started = time.monotonic()
for i in range(count):
    s = connect()
    state[s] = {"answer": b"", "sent": mode == "idle", "connected": False,
                "start": time.monotonic()}
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
closed, min_seconds, results = 0, None, {"complete": 0, "refused": 0, "broken": 0}
connected = False
while state and time.monotonic() - started < 300:
    if mode == "idle" and not connected and all(st["connected"] for st in state.values()):
        connected = True
        open(output + ".connected", "w").close()
    for key, events in sel.select(timeout=1):
        s, st = key.fileobj, state[key.fileobj]
        error = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        verdict = None
        if error != 0:
            verdict = "refused" if not st["answer"] else "broken"
        elif events & selectors.EVENT_WRITE and not st["sent"]:
            try:
                s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                st["sent"] = True
                sel.modify(s, selectors.EVENT_READ)
            except OSError:
                verdict = "refused"
        elif events & selectors.EVENT_WRITE and mode == "idle":
            st["connected"] = True
            sel.modify(s, selectors.EVENT_READ)
        elif events & selectors.EVENT_READ:
            try:
                got = s.recv(65536)
            except OSError:
                got = None
            if got:
                st["answer"] += got
                continue
            if mode == "idle":
                closed += 1
                elapsed = time.monotonic() - st["start"]
                min_seconds = elapsed if min_seconds is None else min(min_seconds, elapsed)
                verdict = "closed"
            elif not st["answer"]:
                verdict = "refused"
            else:
                head, _, body = st["answer"].partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = [l.split(b":", 1)[1].strip() for l in lines
                          if l.lower().startswith(b"content-length:")]
                if (lines[0] == b"HTTP/1.1 200 OK" and length and int(length[0]) == len(body)
                        and b"\nheapswitch_up 1\n" in body):
                    verdict = "complete"
                else:
                    verdict = "broken"
                    print("broken: %r" % st["answer"][:200], file=report)
        if verdict is not None:
            if verdict in results:
                results[verdict] += 1
            sel.unregister(s)
            s.close()
            del state[s]
if mode == "idle":
    print("closed %d" % closed, file=report)
    print("open %d" % len(state), file=report)
    print("min_seconds %.3f" % (min_seconds or 0), file=report)
else:
    for key, value in results.items():
        print("%s %d" % (key, value), file=report)
    print("unanswered %d" % len(state), file=report)
PY
load() { python3 "$work/load.py" "$@"; }
value() { sed -n "s/^$1 //p" "$2"; }
# The exporter's open sockets, its listening one included.
sockets_of() {
    n=0
    for fd in /proc/$1/fd/*; do
        case $(readlink "$fd" 2>/dev/null) in socket:*) n=$((n + 1)) ;; esac
    done
    echo $n
}
# A normal request answered in full.
served() {
    HTTP_TIMEOUT=120 python3 "$work/http.py" $port "$work/get" get /metrics &&
        test "$(status_of "$work/get")" = "HTTP/1.1 200 OK" &&
        grep -q '^heapswitch_up 1' "$work/get"
}

if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 1100 ] &&
    ! ulimit -n 1100 2>/dev/null; then
    echo "SKIP: 500 connections need 1100 descriptors (ulimit -n is $(ulimit -n))"
    exit 77
fi

# -- A byte at a time, and nothing at all -------------------------------
timeout=10
start_exporter --timeout $timeout
ok "export listens on 127.0.0.1:$port with --timeout $timeout"
load slow $port "$work/slow" &
slow=$!
track $slow
load idle $port "$work/mute" 1 &
mute=$!
track $mute
wait_for 60 test -e "$work/slow.connected" -a -e "$work/mute.connected"
served
check "served while a slow and a silent client are connected" test $? = 0
check "  the slow client was still sending then (not yet cut)" test ! -s "$work/slow"
wait $slow
wait $mute
cut=$(value cut "$work/slow")
check "the slow client is cut off by the server (after ${cut%% *} s, ${cut##* } bytes)" \
    test -n "$cut"
check "  not before the timeout ($timeout s)" \
    awk -v s="${cut%% *}" -v t=$timeout 'BEGIN { exit !(s >= t - 0.05) }'
check "the silent client is closed by the server ($(tr '\n' ' ' <"$work/mute"))" \
    test "$(value closed "$work/mute")" = 1
check "  not before the timeout" \
    awk -v s="$(value min_seconds "$work/mute")" -v t=$timeout 'BEGIN { exit !(s >= t - 0.05) }'
served
check "serving normally afterwards" test $? = 0
kill -TERM $server
wait $server

# -- 500 requests at once -----------------------------------------------
most_allowed=16
start_exporter --max-connections $most_allowed --timeout 30
load burst $port "$work/burst" 500
summary=$(tr '\n' ' ' <"$work/burst")
check "500 requests at once: none broken ($summary)" test "$(value broken "$work/burst")" = 0
check "  none left unanswered" test "$(value unanswered "$work/burst")" = 0
check "  answered in full within the limit, the rest refused or queued" \
    test "$(($(value complete "$work/burst") + $(value refused "$work/burst")))" -eq 500
check "  some answered" test "$(value complete "$work/burst")" -ge 1
check "the server is still running" kill -0 $server
served
check "serving normally afterwards" test $? = 0
kill -TERM $server
wait $server

# -- 500 connections that send nothing -----------------------------------
most_allowed=100
timeout=2
start_exporter --max-connections $most_allowed --timeout $timeout
load idle $port "$work/idle" 500 &
idle=$!
track $idle
wait_for 60 test -e "$work/idle.connected"
check "500 connections opened" test -e "$work/idle.connected"
# The server takes connections up to its limit, one socket each.
most=0
i=0
while [ $i -lt 600 ] && kill -0 $idle 2>/dev/null; do
    n=$(($(sockets_of $server) - 1))
    [ $n -gt $most ] && most=$n
    [ $most -ge $most_allowed ] && break
    sleep 0.1
    i=$((i + 1))
done
check "the server holds up to its limit of $most_allowed connections (seen: $most)" \
    test $most -eq $most_allowed
# A request behind them waits in the backlog and is served in its turn.
served
check "a request queued behind them is served" test $? = 0
wait $idle
check "every idle connection is closed by the server ($(tr '\n' ' ' <"$work/idle"))" \
    test "$(value closed "$work/idle")" = 500
check "  none before the timeout" \
    awk -v s="$(value min_seconds "$work/idle")" -v t=$timeout 'BEGIN { exit !(s >= t - 0.05) }'
server_idle() { test "$(sockets_of $server)" -eq 1; }
wait_for 60 server_idle
check "no connection left open in the server ($(sockets_of $server) sockets)" \
    test "$(sockets_of $server)" -eq 1
check "the server is still running" kill -0 $server
served
check "serving normally afterwards" test $? = 0
kill -TERM $server
wait $server
check "SIGTERM: exit 0" test $? = 0

finish
