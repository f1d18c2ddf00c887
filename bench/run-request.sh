#!/bin/sh
# make bench (second part): the request-scoped workload (bench/request_scoped)
# under every backend, preloaded directly and through heapswitch, interleaved
# over BENCH_ROUNDS rounds; median requests per second (min-max) and median
# peak RSS. Then the same with a long-lived mix (-k 50: every 50th string
# outlives its request in a 10,000-entry cache), where a bump allocator pays
# for the chunks that long-lived blocks pin. Two ratios: against mimalloc
# preloaded directly, and against mimalloc through heapswitch, which pays
# the same dispatch and counting costs as every hsw-* row (a -stats0 row,
# counting off, against hsw-mimalloc-stats0), so that it compares the
# allocators themselves.
set -u
. ./tests/testenv.sh
rounds=${BENCH_ROUNDS:-5}
program=./bench/request_scoped
[ -x "$program" ] && [ -f "$LIBHEAPSWITCH" ] || { echo "run-request.sh: build first (make bench)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run-request.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

configs="system-direct hsw-system"
[ -n "$JEMALLOC_SO" ] && configs="$configs jemalloc-direct hsw-jemalloc"
[ -n "$MIMALLOC_SO" ] && configs="$configs mimalloc-direct hsw-mimalloc hsw-mimalloc-stats0"
configs="$configs hsw-arena hsw-arena-stats0"

run_one() { # config args...
    config=$1
    shift
    case $config in
        system-direct) set -- env "$@" ;;
        jemalloc-direct) set -- env LD_PRELOAD="$JEMALLOC_SO" "$@" ;;
        mimalloc-direct) set -- env LD_PRELOAD="$MIMALLOC_SO" "$@" ;;
        hsw-*-stats0)
            backend=${config#hsw-}
            set -- env LD_PRELOAD="$LIBHEAPSWITCH" HEAPSWITCH_BACKEND="${backend%-stats0}" HEAPSWITCH_STATS=0 HEAPSWITCH_STRICT=1 "$@" ;;
        hsw-*) set -- env LD_PRELOAD="$LIBHEAPSWITCH" HEAPSWITCH_BACKEND="${config#hsw-}" HEAPSWITCH_STRICT=1 "$@" ;;
    esac
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/out" || { echo "run-request.sh: $config failed" >&2; exit 1; }
    printf '%s %s\n' "$(sed -n 's/.*requests_per_second=\([0-9.]*\).*/\1/p' "$work/out")" "$(cat "$work/rss")"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# rate / base as "1.23x", or "-" without a base (that allocator not built).
ratio() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }

measure() { # label args...
    label=$1
    shift
    rm -f "$work"/*.samples
    round=1
    while [ "$round" -le "$rounds" ]; do
        for config in $configs; do
            run_one "$config" "$program" "$@" >>"$work/$config.samples"
        done
        round=$((round + 1))
    done
    echo
    echo "== $label: $program $*  ($rounds interleaved rounds)"
    printf '%-20s %14s %22s %12s %11s %15s\n' config "requests/s" "min-max" "peak RSS" "vs mimalloc" \
        "vs hsw-mimalloc"
    base=$(cut -d' ' -f1 "$work/mimalloc-direct.samples" 2>/dev/null | median)
    hsw_base=$(cut -d' ' -f1 "$work/hsw-mimalloc.samples" 2>/dev/null | median)
    hsw_base_stats0=$(cut -d' ' -f1 "$work/hsw-mimalloc-stats0.samples" 2>/dev/null | median)
    for config in $configs; do
        rate=$(cut -d' ' -f1 "$work/$config.samples" | median)
        low=$(cut -d' ' -f1 "$work/$config.samples" | sort -n | head -n 1)
        high=$(cut -d' ' -f1 "$work/$config.samples" | sort -n | tail -n 1)
        rss=$(cut -d' ' -f2 "$work/$config.samples" | median)
        # Through heapswitch, against mimalloc with the same counting cost.
        case $config in
            hsw-*-stats0) same_cost=$(ratio "$rate" "$hsw_base_stats0") ;;
            hsw-*) same_cost=$(ratio "$rate" "$hsw_base") ;;
            *) same_cost=- ;;
        esac
        printf '%-20s %14.0f %10.0f-%-11.0f %8s KiB %11s %15s\n' "$config" "$rate" "$low" "$high" "$rss" \
            "$(ratio "$rate" "$base")" "$same_cost"
    done
}

echo "heapswitch request-scoped benchmark; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
measure "request-scoped, 2 threads" -r 20000 -s 2000 -t 2
measure "long-lived mix, 2 threads" -r 20000 -s 2000 -t 2 -k 50

# examples/request_server, naive and tuned, under every backend (it links
# libheapswitch, so there is no "direct" run of it): requests per second,
# allocations per request from its report, peak RSS.
server=./examples/request_server
if [ -x "$server" ] && command -v python3 >/dev/null 2>&1; then
    echo
    echo "== examples/request_server -r 3000 -t 2 (--naive and --tuned; $rounds interleaved rounds)"
    printf '%-9s %-6s %14s %22s %12s %12s\n' backend mode "requests/s" "min-max" "allocs/req" "peak RSS"
    backends="system"
    for b in jemalloc mimalloc arena; do hsw_backend_built "$b" && backends="$backends $b"; done
    round=1
    while [ "$round" -le "$rounds" ]; do
        for mode in naive tuned; do
            for backend in $backends; do
                : >"$work/report"
                HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 HEAPSWITCH_REPORT="$work/report" \
                    /usr/bin/time -f '%M' -o "$work/rss" "$server" --$mode -r 3000 -t 2 >"$work/out" ||
                    { echo "run-request.sh: request_server --$mode under $backend failed" >&2; exit 1; }
                python3 -c '
import json, re, sys
line = json.loads(open(sys.argv[1]).readline())
calls = line["calls"]
out = open(sys.argv[2]).read()
seconds = float(re.search(r"in ([0-9.]+) s", out).group(1))
print(line["requests"] / seconds, (calls["malloc"] + calls["calloc"] + calls["realloc"] + calls["aligned"]) / line["requests"], open(sys.argv[3]).read().strip())' \
                    "$work/report" "$work/out" "$work/rss" >>"$work/server-$backend-$mode.samples"
            done
        done
        round=$((round + 1))
    done
    for mode in naive tuned; do
        for backend in $backends; do
            f=$work/server-$backend-$mode.samples
            printf '%-9s %-6s %14.0f %10.0f-%-11.0f %12.1f %8s KiB\n' "$backend" "$mode" \
                "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f1 "$f" | sort -n | head -n 1)" \
                "$(cut -d' ' -f1 "$f" | sort -n | tail -n 1)" "$(cut -d' ' -f2 "$f" | median)" \
                "$(cut -d' ' -f3 "$f" | median)"
        done
    done
fi
