#!/bin/sh
# tests/sites/accuracy with every call timed by latency sampling too
# (HEAPSWITCH_LATENCY=1): the timed paths must count down, sample and take
# freed blocks off their sites exactly as the untimed ones do.
set -u
HEAPSWITCH_LATENCY=1 HEAPSWITCH_SAMPLE=4k LD_PRELOAD="$HSW_PRELOAD${LD_PRELOAD:+ $LD_PRELOAD}" \
    exec ./tests/sites/accuracy
