#!/bin/sh
# make bench: what latency sampling (HEAPSWITCH_LATENCY) adds to a
# malloc+free pair of bench/malloc_pairs, for every backend behind
# heapswitch at the default counting level, in the same run: sampling off
# (HEAPSWITCH_LATENCY=0) against the default rate, one in 256, and one in
# 16 and every call for reference. All configurations run once per round,
# interleaved (forward in odd rounds, reversed in even ones); the table
# gives medians and ranges, and the added ns per pair and per call (a pair
# is two calls: malloc and free) against sampling off. Two measures of a
# run: wall time (malloc_pairs' own ns_per_pair) and the CPU time (user +
# system, from getrusage of the child, through python3) per pair, which a
# loaded machine disturbs less (time on the run queue is not in it).
#
# --callgrind (or BENCH_CALLGRIND=1) counts instructions per pair instead:
# deterministic where timings are noise.
#
# Run from the top build directory (make bench does). Figures only: this
# fails on a broken setup or a crashing run, never on a slow result.
set -u
me=run-latency.sh

usage() {
    cat <<EOF2
usage: sh bench/run-latency.sh [--callgrind]   (from the top build directory)
Environment:
  BENCH_ROUNDS=9          interleaved rounds (samples per configuration)
  BENCH_ITERATIONS=10000000  malloc+free pairs per run (one thread)
  BENCH_CG_ITERATIONS=200000 callgrind mode: runs N and 2N pairs
  BENCH_BACKENDS="system jemalloc mimalloc arena"
EOF2
}

. "$(dirname "$0")/lib.sh"

bench_options "$@"
rounds=${BENCH_ROUNDS:-9}
iterations=${BENCH_ITERATIONS:-10000000}
cg_iterations=${BENCH_CG_ITERATIONS:-200000}
require_count BENCH_ROUNDS "$rounds"
require_count BENCH_ITERATIONS "$iterations"
require_count BENCH_CG_ITERATIONS "$cg_iterations"

bench_load_build
program=./bench/malloc_pairs
[ -x "$program" ] || die "$program not built: run make bench (or make bench/malloc_pairs) first"

bench_clean_environment
backends=
for backend in ${BENCH_BACKENDS:-system jemalloc mimalloc arena}; do
    if hsw_backend_built "$backend"; then
        backends="$backends $backend"
    else
        echo "  skipped: $backend is not in this build"
    fi
done
configs="off default r256 r16 r1"

command_line() { # BACKEND CONFIG then malloc_pairs arguments
    backend=$1 config=$2
    shift 2
    case $config in
        off) rate=0 ;;
        default) rate= ;;
        r256) rate=256 ;;
        r16) rate=16 ;;
        r1) rate=1 ;;
    esac
    echo "LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1${rate:+ HEAPSWITCH_LATENCY=$rate} $program $*"
}

bench_temporary hsw-latency-bench

echo "heapswitch latency sampling: cost per malloc+free pair (bench/malloc_pairs, 1 thread)"
echo "  cpu:      $(cpu_model) ($(nproc) cpus)"
echo "  clock:    $(grep -q ' constant_tsc' /proc/cpuinfo && grep -q ' nonstop_tsc' /proc/cpuinfo && echo 'invariant TSC: rdtsc' || echo 'CLOCK_MONOTONIC')"
echo "  load avg: $(load_average) (at start)"
echo "  configurations: off = HEAPSWITCH_LATENCY=0, default = unset ($(sed -n 's/^#define HSW_LATENCY_DEFAULT_RATE //p' "$abs_top_srcdir/lib/latency.h" 2>/dev/null || echo '?')), r256/r16/r1 = HEAPSWITCH_LATENCY=256/16/1"

if [ "$callgrind" = 1 ]; then
    command -v valgrind >/dev/null 2>&1 || { echo "$me: valgrind not found: skipping"; exit 0; }
    n1=$cg_iterations
    n2=$((2 * cg_iterations))
    echo "  method:   callgrind Ir of -n $n2 minus -n $n1, divided by $n1 (start-up cancels out)"
    echo
    printf '%-9s %10s %10s %8s %10s %8s %10s %8s\n' backend off default added r16 added r1 added
    for backend in $backends; do
        for config in $configs; do
            low=$(callgrind_ir "$(command_line "$backend" "$config" -t 1 -n "$n1" -w 10000 -r 1)" "$program")
            high=$(callgrind_ir "$(command_line "$backend" "$config" -t 1 -n "$n2" -w 10000 -r 1)" "$program")
            ir_per_unit "ir_$config" "$low" "$high" "$n1" "$backend, $config"
        done
        # shellcheck disable=SC2154
        awk -v b="$backend" -v o="$ir_off" -v d="$ir_default" -v s="$ir_r16" -v e="$ir_r1" 'BEGIN {
            printf "%-9s %10.2f %10.2f %+8.2f %10.2f %+8.2f %10.2f %+8.2f\n", b, o, d, d - o, s, s - o, e, e - o }'
    done
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 not found (it measures each run's CPU time)"
# VAR=VALUE... PROGRAM ARGS: runs it with the variables; prints its output
# and the child's user + system CPU seconds (getrusage: microseconds).
cpu_wrapper='
import os, resource, subprocess, sys
env = dict(os.environ)
args = sys.argv[1:]
while args and "=" in args[0].split("/")[0]:
    key, value = args.pop(0).split("=", 1)
    env[key] = value
out = subprocess.run(args, env=env, stdout=subprocess.PIPE, check=True).stdout.decode()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(out.strip(), "cpu_seconds=%.6f" % (usage.ru_utime + usage.ru_stime))'
echo "  method:   $rounds rounds x all configurations, interleaved; -n $iterations pairs per run (-w 0);"
echo "            one discarded warm-up pass first; median (min-max) over the rounds"
jobs=
for backend in $backends; do
    for config in $configs; do
        jobs="$jobs $backend:$config"
    done
done
for job in $jobs; do
    run_line "$(command_line "${job%%:*}" "${job#*:}" -t 1 -n $((iterations / 10 + 1)) -r 1)"
done
# One sample of JOB (BACKEND:CONFIG) in ROUND: wall and CPU ns per pair.
sample() { # JOB ROUND
    line=$(command_line "${1%%:*}" "${1#*:}" -t 1 -n "$iterations" -r 1 -w 0)
    # shellcheck disable=SC2086
    python3 -c "$cpu_wrapper" $line >"$tmp/out" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; die "FAILED: $line"; }
    ns=$(sed -n 's/.*ns_per_pair=\([0-9.]*\).*/\1/p' "$tmp/out")
    cpu=$(sed -n 's/.*cpu_seconds=\([0-9.]*\).*/\1/p' "$tmp/out")
    [ -n "$ns" ] && [ -n "$cpu" ] || die "no ns_per_pair or cpu_seconds in: $(cat "$tmp/out")"
    echo "${1%%:*} ${1#*:} $2 $ns $(awk -v c="$cpu" -v n="$iterations" 'BEGIN { printf "%.3f", c * 1e9 / n }')" >>"$tmp/samples"
}
: >"$tmp/samples"
interleaved_rounds "$rounds" "$jobs" sample

summary() { # BACKEND CONFIG [FIELD]: "median min max" of wall (4) or CPU (5) ns per pair
    awk -v b="$1" -v c="$2" -v f="${3:-4}" '$1 == b && $2 == c { print $f }' "$tmp/samples" | median_min_max
}

for measure in "4 wall" "5 CPU"; do
    field=${measure%% *}
    echo
    echo "== ${measure#* } ns per pair, median (min-max); +ns per call = (median - off median) / 2"
    printf '%-9s  %-22s  %-22s %8s  %-22s %8s  %-22s %8s  %-24s %8s\n' backend off default "+ns/call" \
        r256 "+ns/call" r16 "+ns/call" r1 "+ns/call"
    for backend in $backends; do
        echo "$(summary "$backend" off "$field") $(summary "$backend" default "$field") $(summary "$backend" r256 "$field") $(summary "$backend" r16 "$field") $(summary "$backend" r1 "$field")" |
            awk -v b="$backend" '
                function cell(m, l, h) { return sprintf("%.2f (%.2f-%.2f)", m, l, h) }
                { printf "%-9s  %-22s  %-22s %+8.3f  %-22s %+8.3f  %-22s %+8.3f  %-24s %+8.3f\n", b,
                      cell($1, $2, $3), cell($4, $5, $6), ($4 - $1) / 2, cell($7, $8, $9), ($7 - $1) / 2,
                      cell($10, $11, $12), ($10 - $1) / 2, cell($13, $14, $15), ($13 - $1) / 2 }'
    done
done
echo
echo "== samples in round order (wall/CPU ns per pair)"
for backend in $backends; do
    for config in $configs; do
        printf '  %-9s %-8s%s\n' "$backend" "$config" \
            "$(awk -v b="$backend" -v c="$config" '$1 == b && $2 == c { printf " %s/%s", $4, $5 }' "$tmp/samples")"
    done
done
echo "  load avg at end: $(load_average)"
