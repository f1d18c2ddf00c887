# Latency through the real Prometheus server: three processes with a known
# slow share (tests/latency/slow_share, 1 malloc in 50 a 64 MiB one), one
# per backend, each tagged; `heapswitch export` serves them; a private
# prometheus scrapes it; histogram_quantile through its HTTP API must put
# each backend's p50 among the small calls and its p99 among the large
# ones, per backend (sum by backend), per tag, and across the fleet.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"
. "$abs_top_srcdir/tests/cli/export_common.sh"

for tool in prometheus curl python3; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (Debian: apt-get install prometheus curl python3)"
        exit 77
    fi
done

backends=
for backend in system jemalloc mimalloc; do
    hsw_backend_built $backend && backends="$backends $backend"
done
for backend in $backends; do
    HEAPSWITCH_BACKEND=$backend HEAPSWITCH_TAG=$TAG-$backend HEAPSWITCH_LATENCY=16 \
        LD_PRELOAD=$LIBHEAPSWITCH "$abs_top_builddir/tests/latency/slow_share" 60000 hold \
        >"$work/$backend.out" 2>&1 &
    track $!
done
for backend in $backends; do
    tries=0
    until grep -q holding "$work/$backend.out" 2>/dev/null || [ $tries -ge 600 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    check "$backend: the workload ran and holds" grep -q holding "$work/$backend.out"
done

start_exporter
# A private prometheus on a free port, scraping the exporter every second.
cat >"$work/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: heapswitch
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF2
try=0
while :; do
    web=$(( ( $(od -An -N2 -tu2 /dev/urandom) % 20000 ) + 30000 ))
    prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
        --web.listen-address="127.0.0.1:$web" >"$work/prometheus.log" 2>&1 &
    prometheus_pid=$!
    track $prometheus_pid
    tries=0
    until curl -sf "http://127.0.0.1:$web/-/ready" >/dev/null 2>&1 || [ $tries -ge 300 ] ||
        ! kill -0 $prometheus_pid 2>/dev/null; do
        sleep 0.1
        tries=$((tries + 1))
    done
    curl -sf "http://127.0.0.1:$web/-/ready" >/dev/null 2>&1 && break
    try=$((try + 1))
    if [ $try -ge 5 ]; then
        fail "prometheus did not start: $(tail -n 5 "$work/prometheus.log")"
        finish
    fi
done
ok "prometheus scrapes the exporter (web on 127.0.0.1:$web)"

# query EXPR: "label value" lines of an instant query's result.
query() {
    curl -sf "http://127.0.0.1:$web/api/v1/query" --data-urlencode "query=$1" |
        python3 -c '
import json, sys
answer = json.load(sys.stdin)
for series in answer["data"]["result"]:
    labels = series["metric"]
    print(labels.get("backend", labels.get("tag", "all")), series["value"][1])'
}

selector="heapswitch_call_latency_seconds_bucket{kind=\"alloc\",tag=~\"$TAG-.*\"}"
by_backend() { # Q: the quantile by backend
    query "histogram_quantile($1, sum by (backend, le) ($selector))"
}
# Until every backend's series are in (a scrape or two).
tries=0
until [ "$(by_backend 0.5 | wc -l)" -eq "$(echo $backends | wc -w)" ] || [ $tries -ge 300 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
by_backend 0.5 >"$work/p50"
by_backend 0.99 >"$work/p99"
for backend in $backends; do
    p50=$(sed -n "s/^$backend //p" "$work/p50")
    p99=$(sed -n "s/^$backend //p" "$work/p99")
    echo "histogram_quantile by backend: $backend p50 ${p50}s p99 ${p99}s"
    check "$backend: p50 among the small calls (${p50}s < 1 us)" \
        python3 -c "import sys; sys.exit(not 0 < float('$p50') < 1e-6)"
    check "$backend: p99 among the 64 MiB calls, 8 times p50 or more (${p99}s)" \
        python3 -c "import sys; sys.exit(not float('$p99') >= 8 * float('$p50'))"
done
# The same by tag, and one figure for the whole fleet.
query "histogram_quantile(0.99, sum by (tag, le) ($selector))" >"$work/tags"
check "by tag: one p99 per tagged process" test "$(wc -l <"$work/tags")" -eq "$(echo $backends | wc -w)"
query "histogram_quantile(0.99, sum by (le) ($selector))" >"$work/fleet"
fleet=$(sed -n 's/^all //p' "$work/fleet")
check "the fleet's p99 is a slow call (${fleet}s >= 1 us)" \
    python3 -c "import sys; sys.exit(not float('$fleet') >= 1e-6)"
# _count and _sum beside the buckets.
check "_count and _sum per process" test "$(query "count(heapswitch_call_latency_seconds_count{kind=\"alloc\",tag=~\"$TAG-.*\"}) + count(heapswitch_call_latency_seconds_sum{kind=\"alloc\",tag=~\"$TAG-.*\"})" | sed -n 's/^all //p')" = "$(($(echo $backends | wc -w) * 2))"
finish
