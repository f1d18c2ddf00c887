# heapswitch sites on real sampling (HEAPSWITCH_SAMPLE), under the backend
# of the test's name (tests/siteview/real@BACKEND.bt): request_server
# --naive's sites named by function and file:line with allocations per
# request, its estimated allocations against its exact count, --folded;
# python3's sites named inside its interpreter.
# Run alone (as make check-sanitize does): the system backend.
backend=${HEAPSWITCH_BACKEND:-system}
. ./tests/testenv.sh || exit 99
preload=${HSW_PRELOAD:-$LIBHEAPSWITCH}
. "$abs_top_srcdir/tests/cli/common.sh"

SERVER=$abs_top_builddir/examples/request_server

# start NAME COMMAND...: a sampled process under $backend; its pid in $pid.
start() {
    name=$1
    shift
    env HEAPSWITCH_BACKEND="$backend" HEAPSWITCH_SAMPLE=64k "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    track $pid
    if ! wait_for 20 test -e "/dev/shm/heapswitch-$(id -u)-$pid"; then
        fail "$name published no segment: $(head -c 300 "$work/$name.err")"
        finish
    fi
    # until it has sampled something
    wait_for 20 sh -c "'$HSW' sites --json $pid 2>/dev/null | grep -q '\"site\"'"
}

start server "$SERVER" --naive -s 120
expect_status 0 "sites -i 1 of request_server --naive ($backend)" "$HSW" sites -i 1 --limit 40 --json "$pid"
if have_python; then
    if python3 - "$work/out" <<'PY' >"$work/py.out" 2>&1; then
import json, sys
data = json.load(open(sys.argv[1]))
named = {}
for site in data["sites"]:
    frames = [f for f in site["stack"] if not f["system"]]
    if frames:
        named.setdefault(frames[0]["function"], frames[0])
assert "handle_naive" in named, sorted(named)
assert "concat" in named, sorted(named)
for function in ("handle_naive", "concat"):
    frame = named[function]
    assert frame["file"].endswith("request_server.c") and frame["line"] > 0, frame
per_request = sum(s.get("allocations_per_request", 0) for s in data["sites"])
assert per_request > 100, per_request
print("%d sites; %.0f allocations per request in all" % (len(data["sites"]), per_request))
PY
        ok "  handle_naive and concat named with request_server.c:LINE; $(cat "$work/py.out")"
    else
        fail "  the sites of request_server: $(tail -3 "$work/py.out")"
    fi
fi

# The same moment for both reads: the process is stopped between them.
kill -STOP "$pid"
"$HSW" sites --json "$pid" >"$work/sites.json" 2>"$work/err"
"$HSW" stat --json -i 0.1 "$pid" >"$work/stat.json" 2>>"$work/err"
kill -CONT "$pid"
if have_python; then
    if python3 - "$work/sites.json" "$work/stat.json" <<'PY' >"$work/py.out" 2>&1; then
import json, sys
sites = json.load(open(sys.argv[1]))
calls = json.load(open(sys.argv[2]))["processes"][0]["calls"]
estimated = sum(s["allocations"] for s in sites["sites"])
exact = calls["malloc"] + calls["calloc"] + calls["realloc"] + calls["aligned"]
ratio = estimated / exact
print("estimated %.0f, counted %d: %.3f, %d samples" % (estimated, exact, ratio, sites["samples"]))
assert 0.8 < ratio < 1.25, ratio
PY
        ok "  allocations: $(cat "$work/py.out")"
    else
        fail "  allocations against the exact count: $(tail -3 "$work/py.out")"
    fi
fi

expect_status 0 "sites --folded" "$HSW" sites --folded "$pid"
check "  every line 'FRAME;...;FRAME COUNT'" sh -c "! grep -Ev '^[^;]+(;[^;]+)+ [0-9]+\$' '$work/out'"
check "  a stack through work into handle_naive" grep -q "^request_server;.*;work;handle_naive" "$work/out"
kill "$pid"

# python3: its own functions, from its dynamic symbols or debug information.
if [ -x /usr/bin/python3 ]; then
    start python env LD_PRELOAD="$preload" /usr/bin/python3 -c '
import json, time
end = time.time() + 120
while time.time() < end:
    json.dumps([{"id": i, "tags": [str(i)] * 3} for i in range(2000)])
    time.sleep(0.01)'
    expect_status 0 "sites of python3 ($backend)" "$HSW" sites --stacks "$pid"
    check "  frames named inside the interpreter" grep -Eq "(_PyEval_EvalFrameDefault|PyList_|PyObject_|PyUnicode_)" "$work/out"
    kill "$pid"
fi
finish
