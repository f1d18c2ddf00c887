#!/bin/sh
# The libFuzzer target of the sites section's reader, heapswitch_parse_sites()
# (tests/fuzz/sites.c), run as tests/fuzz/run-fuzz.sh runs the segment
# parser's: same options, same skip (77) when the fuzzer was not built.
FUZZ_TARGET=sites
export FUZZ_TARGET
exec ${SHELL:-/bin/sh} "$(dirname "$0")/run-fuzz.sh" "$@"
