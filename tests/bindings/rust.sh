#!/bin/sh
# bindings/rust: its example `marks` (request_done(), RequestGuard,
# request() and an Arena) marks its requests exactly under the backend,
# and runs unchanged without heapswitch. make check builds it with cargo.
set -u
. "$(dirname "$0")/common.sh"
require_python
marks=$CARGO_TARGET_DIR/release/examples/marks
require_cargo_build "$marks"
check_marks "Rust RequestGuard" 4 "$marks"
check "Rust Arena under $HEAPSWITCH_BACKEND: heapswitch's explicit arena" \
    grep -q 'arena from heapswitch: true' "$work/once.err"
[ "$failures" -eq 0 ]
