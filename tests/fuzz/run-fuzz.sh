#!/bin/sh
# Runs the libFuzzer target of the segment parser, tests/fuzz/segment-fuzzer
# (built by make when configure found clang with libFuzzer), for a bounded
# time from the seeds of tests/fuzz/make-seeds, regenerated into a
# temporary directory. Builds nothing. Skipped (77) when the fuzzer was
# not built. Fails on any crash, timeout, out-of-memory, sanitizer report
# or failed check of the target, after printing the report and a hex dump
# of the input (kept as tests/fuzz/found-*). Prints the final stats.
# Run from the top build directory (as make check and make fuzz-long do).
#
# Environment:
#   FUZZ_SECONDS  how long to fuzz (default 20; make fuzz-long: 600)
#   FUZZ_CORPUS   a directory to keep the corpus in across runs (default:
#                 a temporary one)
#   FUZZ_ARGS     more libFuzzer options, e.g. -seed=N to replay a run
#   FUZZ_TARGET   segment (default: heapswitch_parse), report
#                 (heapswitch_report_parse; tests/fuzz/run-report-fuzz.sh)
#                 or sites (heapswitch_parse_sites; run-sites-fuzz.sh)
#                 latency: the latency section's parser
#                 (heapswitch_parse_latency; tests/fuzz/run-latency-fuzz.sh)
set -u

case ${FUZZ_TARGET:-segment} in
segment)
    fuzzer=tests/fuzz/segment-fuzzer make_seeds=tests/fuzz/make-seeds
    seeds_option= parser=heapswitch_parse found=tests/fuzz/found- ;;
report)
    fuzzer=tests/fuzz/report-fuzzer make_seeds=tests/fuzz/report-mutate
    seeds_option=--seeds parser=heapswitch_report_parse found=tests/fuzz/found-report- ;;
sites)
    fuzzer=tests/fuzz/sites-fuzzer make_seeds=tests/fuzz/sites-mutate
    seeds_option=--seeds parser=heapswitch_parse_sites found=tests/fuzz/found-sites- ;;
latency)
    fuzzer=tests/fuzz/latency-fuzzer make_seeds=tests/fuzz/latency-mutate
    seeds_option=--seeds parser=heapswitch_parse_latency found=tests/fuzz/found-latency- ;;
*)
    echo "ERROR: FUZZ_TARGET must be segment, report, sites or latency, not '$FUZZ_TARGET'" >&2
    exit 99 ;;
esac
seconds=${FUZZ_SECONDS:-20}

if [ ! -x "$fuzzer" ]; then
    echo "SKIP: $fuzzer not built: configure found no clang with libFuzzer" \
        "(Debian packages: clang libclang-rt-14-dev; or set FUZZ_CC)"
    exit 77
fi
if [ ! -x "$make_seeds" ]; then
    echo "ERROR: $make_seeds not built (run from the top build directory)" >&2
    exit 99
fi
case $seconds in
'' | *[!0-9]* | 0)
    echo "ERROR: FUZZ_SECONDS must be a positive number of seconds, not '$seconds'" >&2
    exit 99
    ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapswitch-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
mkdir "$tmp/seeds" || exit 99
# shellcheck disable=SC2086 # seeds_option is empty or one word
"$make_seeds" $seeds_option "$tmp/seeds" || {
    echo "ERROR: $make_seeds failed" >&2
    exit 99
}
corpus=${FUZZ_CORPUS:-$tmp/corpus}
mkdir -p "$corpus" || exit 99
log=$tmp/fuzz.log

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

echo "fuzzing $parser for ${seconds}s: $fuzzer $corpus $tmp/seeds"
# libFuzzer's own exit codes for errors would be 77 (a skip for make
# check) and 70: make every failure 1. The outer timeout is a backstop
# only: -max_total_time ends the run, -timeout catches a slow input.
status=0
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
timeout -k 10 $((seconds + 120)) "$fuzzer" \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$found" ${FUZZ_ARGS:-} \
    "$corpus" "$tmp/seeds" >"$log" 2>&1 || status=$?

grep -E '^INFO: Seed:|INITED|DONE|^Done [0-9]+ runs|^stat::' "$log"

report='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|segment fuzzer:|report fuzzer:|sites fuzzer:|latency fuzzer:|deadly signal'
if [ "$status" -eq 0 ] && ! grep -Eq "$report" "$log" && grep -q '^Done [0-9]* runs' "$log"; then
    echo "PASS: no crash, no sanitizer report"
    exit 0
fi

echo "FAIL: the fuzzer exited with status $status; its output, less progress lines:"
grep -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)[[:space:]]' "$log"
for input in "$found"*; do
    [ -f "$input" ] || continue
    echo
    echo "input $input ($(wc -c <"$input") bytes), replay with: $fuzzer $input"
    od -A x -t x1z "$input" | head -n 200
done
exit 1
