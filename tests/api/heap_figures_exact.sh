#!/bin/sh
# tests/api/heap_figures at the exact counting level.
set -u
HEAPSWITCH_STATS=exact LD_PRELOAD="$HSW_PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}" exec ./tests/api/heap_figures
