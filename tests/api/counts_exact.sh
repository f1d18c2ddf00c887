#!/bin/sh
# tests/api/counts at the exact counting level: the usable bytes of every
# block counted at every call, checked to the byte under every backend.
set -u
HEAPSWITCH_STATS=exact LD_PRELOAD="$HSW_PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}" exec ./tests/api/counts
