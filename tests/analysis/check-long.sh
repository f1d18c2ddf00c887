#!/bin/sh
# make check-long: the long runs, on demand (not part of make check). Under
# every backend this build has, through tests/run-backend-test.sh (so as
# the .bt tests run them): tests/api/torture with a larger workload
# (TORTURE_STEPS, TORTURE_MESSAGES: 20 times the defaults unless set),
# tests/api/fork_storm and tests/api/realloc_chain with LONG=1 (10 rounds
# of 200 children; a chain to 1 MiB and back), and tests/api/threads and
# tests/api/dlopen as they are. Runs from the build directory.
set -u
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
. ./tests/testenv.sh

TORTURE_STEPS=${TORTURE_STEPS:-3000000}
TORTURE_MESSAGES=${TORTURE_MESSAGES:-2000000}
LONG=1
export TORTURE_STEPS TORTURE_MESSAGES LONG

passed=0 failed=0 skipped=0 failures=
logdir=tests/analysis/long-logs
mkdir -p "$logdir" || exit 2
start=$(date +%s)
for backend in system jemalloc mimalloc arena; do
    for name in torture fork_storm realloc_chain threads dlopen; do
        test=tests/api/$name@$backend
        log=$logdir/$name@$backend.log
        t0=$(date +%s)
        ${SHELL:-/bin/sh} "$srcdir/tests/run-backend-test.sh" "$test.bt" >"$log" 2>&1
        status=$?
        t1=$(date +%s)
        case $status in
            0) passed=$((passed + 1)); echo "PASS: $test ($((t1 - t0)) s)" ;;
            77) skipped=$((skipped + 1)); echo "SKIP: $test" ;;
            *) failed=$((failed + 1)); failures="$failures $test"
               echo "FAIL: $test (exit $status, log $log)"; tail -20 "$log" ;;
        esac
    done
done
echo "check-long: $passed passed, $failed failed, $skipped skipped in" \
    "$(($(date +%s) - start)) s (TORTURE_STEPS=$TORTURE_STEPS TORTURE_MESSAGES=$TORTURE_MESSAGES LONG=1)"
[ "$failed" -eq 0 ]
