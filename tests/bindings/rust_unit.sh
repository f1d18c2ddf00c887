#!/bin/sh
# bindings/rust's own unit tests (cargo test, without heapswitch: marks
# ignored, the arena's fallback), offline, output under the build directory.
set -u
. ./tests/testenv.sh
if [ -z "$CARGO" ]; then
    echo "SKIP: no Rust toolchain: configure found no cargo (./bootstrap installs Debian's rustc and cargo; or set CARGO)"
    exit 77
fi
unset LD_PRELOAD
CARGO_TARGET_DIR=$CARGO_TARGET_DIR exec "$CARGO" test --offline --locked --quiet \
    --manifest-path "$abs_top_srcdir/bindings/rust/Cargo.toml"
