#!/bin/sh
# Runs one test under one backend. The test is named DIR/NAME@BACKEND.bt:
# DIR/NAME is a test program (run with libheapswitch preloaded, except
# the tests named linked*, which link it) or DIR/NAME.sh in the source
# tree (a script that runs real programs itself, with $HSW_PRELOAD).
# Exit 77 (skip) when this build lacks the backend.
set -u
. ./tests/testenv.sh

test_file=$1
spec=$(basename "$test_file" .bt)
name=${spec%@*}
backend=${spec#*@}
dir=$(dirname "$test_file")

if ! hsw_backend_built "$backend"; then
    echo "SKIP: this build has no '$backend' backend"
    exit 77
fi

HEAPSWITCH_BACKEND=$backend
HEAPSWITCH_STRICT=1
HSW_PRELOAD=$LIBHEAPSWITCH
export HEAPSWITCH_BACKEND HEAPSWITCH_STRICT HSW_PRELOAD

if [ -f "$abs_top_srcdir/$dir/$name.sh" ]; then
    exec "${SHELL:-/bin/sh}" "$abs_top_srcdir/$dir/$name.sh"
fi
case $name in
    linked*) exec "$dir/$name" ;;
    *) LD_PRELOAD="$LIBHEAPSWITCH${LD_PRELOAD:+ $LD_PRELOAD}" exec "$dir/$name" ;;
esac
