#!/bin/sh
# tests/sites/accuracy at the exact counting level (other free paths:
# free_counted, and the backends' own counting paths).
set -u
HEAPSWITCH_STATS=exact HEAPSWITCH_SAMPLE=4k LD_PRELOAD="$HSW_PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}" \
    exec ./tests/sites/accuracy
