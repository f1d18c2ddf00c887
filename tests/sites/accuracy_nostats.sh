#!/bin/sh
# tests/sites/accuracy with counting off (HEAPSWITCH_STATS=0): the
# segment is still created, for the sites, and the estimates hold.
set -u
HEAPSWITCH_STATS=0 HEAPSWITCH_SAMPLE=4k LD_PRELOAD="$HSW_PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}" \
    exec ./tests/sites/accuracy
