#!/bin/sh
# The libFuzzer target of the report-line parser, heapswitch_report_parse()
# (tests/fuzz/report.c), run as tests/fuzz/run-fuzz.sh runs the segment
# parser's: same options, same skip (77) when the fuzzer was not built.
FUZZ_TARGET=report
export FUZZ_TARGET
exec ${SHELL:-/bin/sh} "$(dirname "$0")/run-fuzz.sh" "$@"
