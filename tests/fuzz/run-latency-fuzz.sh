#!/bin/sh
# The libFuzzer target of the latency section's parser,
# heapswitch_parse_latency() (tests/fuzz/latency.c), run as
# tests/fuzz/run-fuzz.sh runs the segment parser's: same options, same
# skip (77) when the fuzzer was not built. Sections are 66 KiB: inputs
# up to that size (FUZZ_ARGS may say otherwise).
FUZZ_TARGET=latency
FUZZ_ARGS="-max_len=67584 ${FUZZ_ARGS:-}"
export FUZZ_TARGET FUZZ_ARGS
exec ${SHELL:-/bin/sh} "$(dirname "$0")/run-fuzz.sh" "$@"
