#!/bin/sh
# examples/request_server: --naive and --tuned render the same responses
# under the backend, and the counters tell them apart by allocations per
# request (thousands against a handful), as the dashboard shows them.
set -u
. ./tests/testenv.sh
program=./examples/request_server
report=$(mktemp)
trap 'rm -f "$report" "$report".*' EXIT
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }
failures=0

for mode in naive tuned; do
    : >"$report"
    HEAPSWITCH_REPORT=$report "$program" --$mode -r 200 -t 2 >"$report.$mode" || {
        echo "FAIL: request_server --$mode exited $?"
        exit 1
    }
    per_request=$(python3 -c '
import json, sys
line = json.loads(open(sys.argv[1]).readline())
calls = line["calls"]
allocs = calls["malloc"] + calls["calloc"] + calls["realloc"] + calls["aligned"]
assert line["backend"] == sys.argv[2], line["backend"]
print("%d %d" % (line["requests"], allocs / line["requests"]))' "$report" "$HEAPSWITCH_BACKEND") || {
        echo "FAIL: no usable report line for --$mode"
        failures=$((failures + 1))
        continue
    }
    set -- $per_request
    echo "ok: --$mode under $HEAPSWITCH_BACKEND: $1 requests, $2 allocations per request"
    if [ "$1" -ne 400 ]; then
        echo "FAIL: --$mode marked $1 requests, want 400"
        failures=$((failures + 1))
    fi
    if [ "$mode" = naive ] && [ "$2" -lt 1000 ]; then
        echo "FAIL: --naive makes only $2 allocations per request"
        failures=$((failures + 1))
    fi
    if [ "$mode" = tuned ] && [ "$2" -gt 300 ]; then
        echo "FAIL: --tuned makes $2 allocations per request"
        failures=$((failures + 1))
    fi
done
naive_sum=$(sed 's/.*checksum //' "$report.naive")
tuned_sum=$(sed 's/.*checksum //' "$report.tuned")
if [ "$naive_sum" != "$tuned_sum" ]; then
    echo "FAIL: --naive and --tuned responses differ ($naive_sum, $tuned_sum)"
    failures=$((failures + 1))
else
    echo "ok: both modes rendered the same responses (checksum $naive_sum)"
fi
[ "$failures" -eq 0 ]
