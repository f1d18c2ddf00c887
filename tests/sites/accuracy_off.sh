#!/bin/sh
# Without HEAPSWITCH_SAMPLE the segment has no sites section.
set -u
unset HEAPSWITCH_SAMPLE
LD_PRELOAD="$HSW_PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}" exec ./tests/sites/accuracy off
