#!/bin/sh
# The demo: examples/request_server in its naive and tuned modes, each
# under two backends, side by side for a few seconds. On a terminal the
# live dashboard (heapswitch top) watches them; without one (or with
# --report) a timed plain-text report of the same figures is printed.
# Call sites are sampled (HEAPSWITCH_SAMPLE=512k): in the dashboard, Enter
# on a naive row then `s` shows the functions that make its allocations;
# the report prints the naive server's top sites, taken while it runs.
# Then the same story in Rust (examples/rust, built with cargo when
# configure found it): allocations per request, naive and tuned, under
# the same backends.
#
#   examples/demo.sh [-s SECONDS] [-b BACKEND,BACKEND] [--report]
set -u

usage() {
    echo "usage: examples/demo.sh [-s SECONDS] [-b BACKEND,BACKEND] [--report]" >&2
    exit 2
}

seconds=10
backends=
force_report=no
while [ $# -gt 0 ]; do
    case $1 in
        -s) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
        -b) [ $# -ge 2 ] || usage; backends=$(echo "$2" | tr ',' ' '); shift 2 ;;
        --report) force_report=yes; shift ;;
        -h | --help) usage ;;
        *) echo "demo: unknown argument '$1'" >&2; usage ;;
    esac
done
case $seconds in '' | *[!0-9]* | 0) echo "demo: -s needs a positive number of seconds, not '$seconds'" >&2; exit 2 ;; esac

[ -f ./tests/testenv.sh ] || { echo "demo: run it from the build directory, after ./configure && make" >&2; exit 1; }
. ./tests/testenv.sh
server=./examples/request_server
top=./dashboard/heapswitch
[ -x "$server" ] && [ -f "$LIBHEAPSWITCH" ] || { echo "demo: build first: make" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "demo: needs python3 for its report" >&2; exit 1; }

if [ -z "$backends" ]; then
    backends=system
    for candidate in mimalloc jemalloc arena; do
        if hsw_backend_built "$candidate"; then backends="$backends $candidate"; break; fi
    done
fi
for backend in $backends; do
    hsw_backend_built "$backend" || { echo "demo: this build has no '$backend' backend" >&2; exit 2; }
done

work=$(mktemp -d)
pids=
cleanup() {
    [ -n "$pids" ] && kill $pids 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "heapswitch demo: examples/request_server --naive and --tuned under $(echo $backends | tr ' ' ','), $seconds s"
for backend in $backends; do
    for mode in naive tuned; do
        HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 HEAPSWITCH_TAG=$mode \
            HEAPSWITCH_REPORT="$work/report.jsonl" HEAPSWITCH_SAMPLE=512k \
            "$server" --$mode -s "$seconds" -t 1 >"$work/$backend-$mode.out" &
        pids="$pids $!"
        [ -n "${naive_pid:-}" ] || [ "$mode" != naive ] || naive_pid=$! naive_backend=$backend
    done
done

if [ "$force_report" = no ] && [ -t 0 ] && [ -t 1 ] && [ -x "$top" ] && "$top" top --help >/dev/null 2>&1; then
    # The dashboard, for the run's duration; q leaves it early.
    timeout --foreground "$seconds" "$top" top -d 1
else
    i=0
    while [ "$i" -lt "$seconds" ]; do
        sleep 1
        i=$((i + 1))
        [ -t 1 ] && printf '\r  %d/%d s' "$i" "$seconds"
        # Half-way, while it runs (symbols come from the live process).
        if [ "$i" -eq $(((seconds + 1) / 2)) ] && [ -x "$top" ]; then
            [ -t 1 ] && printf '\r%20s\r' ''
            echo "where request_server --naive's allocations come from ($naive_backend, sampled):"
            "$top" sites --limit 5 "$naive_pid" >"$work/sites.out" 2>&1 || true
            sed 's/^/  /' "$work/sites.out"
        fi
    done
    [ -t 1 ] && printf '\r%20s\r' ''
fi
wait $pids 2>/dev/null
pids=

python3 - "$work/report.jsonl" "$seconds" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
seconds = float(sys.argv[2])
print()
print("%-9s %-6s %11s %11s %13s %13s %11s" % ("backend", "mode", "requests/s", "allocs/req",
      "KiB asked/req", "peak live", "max RSS"))
for row in sorted(rows, key=lambda r: (r["tag"], r["backend"])):
    calls = row["calls"]
    allocs = calls["malloc"] + calls["calloc"] + calls["realloc"] + calls["aligned"]
    requests = max(row["requests"], 1)
    peak = row.get("peak_live_bytes")
    # At the default counting level live bytes are estimates: marked "~".
    mark = "~" if "peak_live_bytes" in row.get("estimated", []) else " "
    peak_text = "-" if peak is None else "%s%7.0f KiB" % (mark, peak / 1024.0)
    print("%-9s %-6s %11.0f %11.0f %13.1f %13s %7.1f MiB" % (row["backend"], row["tag"],
          row["requests"] / seconds, allocs / requests, row["bytes_requested"] / requests / 1024.0,
          peak_text, row["max_rss_bytes"] / 1048576.0))
print()
print("allocs/req and KiB asked/req are exact counts from each process's counters")
print("(~: an estimate, from the allocator's own books);")
print("tests/real/request_server checks that both modes render the same responses.")
PY

# The same story in Rust: examples/rust, marked through bindings/rust,
# naive and tuned, a fixed number of requests under the same backends.
rust_requests=300
handler=$CARGO_TARGET_DIR/release/request_handler
echo
if [ -z "$CARGO" ]; then
    echo "examples/rust: skipped, configure found no cargo (./bootstrap installs Debian's rustc and cargo)"
    exit 0
fi
echo "examples/rust: building with $CARGO (offline)..."
CARGO_TARGET_DIR=$CARGO_TARGET_DIR "$CARGO" build --offline --locked --release --quiet \
    --manifest-path "$abs_top_srcdir/examples/rust/Cargo.toml" || { echo "demo: building examples/rust failed" >&2; exit 1; }
: >"$work/rust.jsonl"
for backend in $backends; do
    for mode in naive tuned; do
        HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 HEAPSWITCH_TAG=$mode HEAPSWITCH_REPORT="$work/rust.jsonl" \
            LD_PRELOAD=$LIBHEAPSWITCH "$handler" --$mode -r $rust_requests >"$work/rust-$backend-$mode.out" ||
            { echo "demo: examples/rust --$mode failed under $backend" >&2; exit 1; }
    done
done
sums=$(cat "$work"/rust-*.out | sort -u | wc -l)
python3 - "$work/rust.jsonl" "$rust_requests" "$sums" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("examples/rust (Rust, requests marked through bindings/rust), %s requests each:" % sys.argv[2])
print("  %-9s %-6s %11s %13s %11s" % ("backend", "mode", "allocs/req", "KiB asked/req", "CPU s"))
for row in sorted(rows, key=lambda r: (r["tag"], r["backend"])):
    calls = row["calls"]
    allocs = calls["malloc"] + calls["calloc"] + calls["realloc"] + calls["aligned"]
    requests = max(row["requests"], 1)
    print("  %-9s %-6s %11.0f %13.1f %11.2f" % (row["backend"], row["tag"], allocs / requests,
          row["bytes_requested"] / requests / 1024.0, row["user_seconds"] + row["system_seconds"]))
print("  every run printed the same checksum" if sys.argv[3] == "1" else "  the runs printed DIFFERENT checksums")
PY
