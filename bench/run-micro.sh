#!/bin/sh
# make bench: nanoseconds per malloc+free pair (bench/malloc_pairs), each
# backend preloaded directly against the same backend behind heapswitch.
#
# For 1 and 2 threads and every backend this build has, three
# configurations:
#   direct        the backend alone: system = no preload,
#                 jemalloc/mimalloc = LD_PRELOAD of the backend's library
#   heapswitch    LD_PRELOAD=libheapswitch.so HEAPSWITCH_BACKEND=<backend>
#                 (the default counting level)
#   hsw exact     the same with HEAPSWITCH_STATS=exact
#   hsw stats=0   the same with HEAPSWITCH_STATS=0
# The arena, heapswitch's own, has no direct run: its row compares
# counting on with counting off.
# All configurations run once per round, interleaved (forward order in odd
# rounds, reverse in even ones), so that drift of a noisy machine hits all
# of them alike; the table gives the median and the range over the rounds.
#
# --callgrind (or BENCH_CALLGRIND=1) instead counts instructions per pair
# under valgrind: deterministic, so it shows the added instructions even
# when timings are noise.
#
# Run from the top build directory (make bench does). Figures only: this
# fails on a broken setup or a crashing run, never on a slow result.
set -u
me=run-micro.sh

usage() {
    cat <<EOF
usage: sh bench/run-micro.sh [--callgrind]   (from the top build directory)
  --callgrind           count instructions per pair with valgrind instead
Environment:
  BENCH_ROUNDS=7        interleaved rounds (samples per configuration)
  BENCH_ITERATIONS=40000000
                        malloc+free pairs per thread and run
  BENCH_THREADS="1 2"   thread counts to measure
  BENCH_CALLGRIND=1     same as --callgrind
  BENCH_CG_ITERATIONS=200000
                        callgrind mode: runs N and 2N pairs; the difference
                        divided by N is the cost of one pair
EOF
}

. "$(dirname "$0")/lib.sh"

bench_options "$@"

rounds=${BENCH_ROUNDS:-7}
iterations=${BENCH_ITERATIONS:-40000000}
threads_list=${BENCH_THREADS:-1 2}
cg_iterations=${BENCH_CG_ITERATIONS:-200000}
require_count BENCH_ROUNDS "$rounds"
require_count BENCH_ITERATIONS "$iterations"
require_count BENCH_CG_ITERATIONS "$cg_iterations"
[ -n "$threads_list" ] || { echo "$me: BENCH_THREADS is empty" >&2; exit 2; }
for t in $threads_list; do
    is_count "$t" || { echo "$me: BENCH_THREADS='$threads_list': '$t' is not a positive integer" >&2; exit 2; }
done

# ---- The build ------------------------------------------------------------
bench_load_build
program=./bench/malloc_pairs
[ -x "$program" ] || die "$program not built: run make bench (or make bench/malloc_pairs) first"

bench_clean_environment

backends=system
skipped=
for backend in jemalloc mimalloc; do
    if ! hsw_backend_built $backend; then
        skipped="$skipped
  $backend: not in this build"
        continue
    fi
    case $backend in
        jemalloc) so=$JEMALLOC_SO ;;
        mimalloc) so=$MIMALLOC_SO ;;
    esac
    if [ -z "$so" ] || [ ! -f "$so" ]; then
        skipped="$skipped
  $backend: its library to preload directly was not found (configure: ${so:-none})"
        continue
    fi
    backends="$backends $backend"
done

# The arena is heapswitch's own: there is nothing to preload directly.
if hsw_backend_built arena; then
    backends="$backends arena"
fi
configs_of() { # BACKEND
    if [ "$1" = arena ]; then echo "hsw hswx hsw0"; else echo "direct hsw hswx hsw0"; fi
}

# The command (environment assignments, program, arguments) of a
# configuration, as one line: printed as is, and run through env(1).
# Paths cannot hold blanks here: LD_PRELOAD itself splits on them.
command_line() { # BACKEND CONFIG then malloc_pairs arguments
    backend=$1 config=$2
    shift 2
    case $config in
        direct)
            case $backend in
                system) prefix= ;;
                jemalloc) prefix="LD_PRELOAD=$JEMALLOC_SO " ;;
                mimalloc) prefix="LD_PRELOAD=$MIMALLOC_SO " ;;
            esac ;;
        # STRICT: a backend that fails to start exits rather than
        # silently measuring the system allocator instead.
        hsw) prefix="LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 " ;;
        hswx) prefix="LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 HEAPSWITCH_STATS=exact " ;;
        hsw0) prefix="LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 HEAPSWITCH_STATS=0 " ;;
    esac
    echo "$prefix$program $*"
}

bench_temporary hsw-bench

# Checks, before any measurement, that each configuration really gets the
# allocator it is meant to (malloc_pairs -v names the library serving
# malloc and, under heapswitch, the backend).
check_config() { # BACKEND CONFIG
    run_line "$(command_line "$1" "$2" -v -n 1000 -w 0)"
    case $2:$1 in
        direct:system) want="malloc is in .*/libc\.so" ;;
        direct:jemalloc) want="malloc is in .*/libjemalloc\.so" ;;
        direct:mimalloc) want="malloc is in .*/libmimalloc\.so" ;;
        *) want="heapswitch backend: $1\$" ;;
    esac
    grep -q "$want" "$tmp/err" || {
        echo "$me: configuration $2/$1 does not use the expected allocator ('$want'):" >&2
        cat "$tmp/err" >&2
        exit 1
    }
}

# ---- Machine and build details ----------------------------------------------
# Version of the Debian package that owns file $1, if dpkg knows it.
package_of() {
    command -v dpkg-query >/dev/null 2>&1 || { echo "unknown (no dpkg-query)"; return; }
    real=$(readlink -f "$1" 2>/dev/null || echo "$1")
    package=$(dpkg-query -S "$real" 2>/dev/null | sed -n '1s/: .*//p')
    [ -n "$package" ] || package=$(dpkg-query -S "$1" 2>/dev/null | sed -n '1s/: .*//p')
    if [ -n "$package" ]; then
        echo "$package $(dpkg-query -W -f='${Version}' "$package" 2>/dev/null)"
    else
        echo "unknown (not from a package)"
    fi
}

print_details() {
    cpu=$(cpu_model)
    governor=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo "n/a")
    glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)
    libc_so=$(ldd "$program" 2>/dev/null | sed -n 's/^[[:space:]]*libc\.so\.[0-9]* => \([^ ]*\) .*/\1/p')
    echo "== machine"
    echo "  cpu:        ${cpu:-unknown} ($(uname -m))"
    echo "  nproc:      $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
    echo "  governor:   $governor"
    echo "  kernel:     $(uname -sr)"
    echo "  glibc:      $glibc (${libc_so:+$(package_of "$libc_so")})"
    for backend in $backends; do
        case $backend in
            jemalloc) echo "  jemalloc:   $(package_of "$JEMALLOC_SO")  $JEMALLOC_SO" ;;
            mimalloc) echo "  mimalloc:   $(package_of "$MIMALLOC_SO")  $MIMALLOC_SO" ;;
        esac
    done
    echo "  load avg:   $(load_average) (at start)"
    tuning=$(env | grep -E '^(MALLOC_|GLIBC_TUNABLES=|MIMALLOC_|JE_MALLOC_CONF=|_RJEM_MALLOC_CONF=)' | tr '\n' ' ')
    [ -z "$tuning" ] || echo "  NOTE: allocator tuning in the environment: $tuning"
    echo "== build"
    echo "  libheapswitch: $LIBHEAPSWITCH"
    echo "                 $(ls -lL --time-style=+%Y-%m-%dT%H:%M:%S "$LIBHEAPSWITCH" 2>/dev/null | awk '{print $5 " bytes, built " $6}')"
    revision=$(git --no-optional-locks -C "$abs_top_srcdir" describe --always --dirty 2>/dev/null) &&
        echo "  source:        $abs_top_srcdir at $revision"
    [ -z "$skipped" ] || echo "  skipped backends:$skipped"
}

# ---- Callgrind mode ---------------------------------------------------------
if [ "$callgrind" = 1 ]; then
    if ! command -v valgrind >/dev/null 2>&1; then
        echo "$me: valgrind not found: skipping the callgrind benchmark (Debian: apt-get install valgrind)"
        exit 0
    fi
    n1=$cg_iterations
    n2=$((2 * cg_iterations))
    warmup=10000
    echo "heapswitch callgrind microbenchmark: instructions (Ir) per malloc+free pair"
    print_details
    echo "  valgrind:   $(valgrind --version 2>/dev/null)"
    echo "== method"
    echo "  each configuration runs with -n $n1 and -n $n2 (1 thread, -w $warmup);"
    echo "  Ir/pair = (Ir($n2) - Ir($n1)) / $((n2 - n1)): start-up and warm-up cancel out."
    echo "  Ir/pair includes the benchmark loop itself (same in every column)."
    echo "== command lines (valgrind --tool=callgrind goes before $program)"
    for backend in $backends; do
        for config in $(configs_of "$backend"); do
            check_config "$backend" "$config"
            echo "  $(command_line "$backend" "$config" -t 1 -n N -w $warmup -r 1)"
        done
    done
    echo
    printf '%-9s %12s %12s %9s %12s %9s %12s %9s\n' backend direct heapswitch added "hsw exact" added "hsw stats=0" added
    for backend in $backends; do
        for config in $(configs_of "$backend"); do
            low=$(callgrind_ir "$(command_line "$backend" "$config" -t 1 -n "$n1" -w $warmup -r 1)" "$program")
            high=$(callgrind_ir "$(command_line "$backend" "$config" -t 1 -n "$n2" -w $warmup -r 1)" "$program")
            ir_per_unit "ir_$config" "$low" "$high" $((n2 - n1)) "$backend, $config"
        done
        if [ "$backend" = arena ]; then
            # No direct run: "added" is what counting adds to the arena.
            # shellcheck disable=SC2154
            awk -v b="$backend" -v h="$ir_hsw" -v x="$ir_hswx" -v z="$ir_hsw0" 'BEGIN {
                printf "%-9s %12s %12.2f %+9.2f %12.2f %+9.2f %12.2f %9s   (added: counting on vs off)\n", b, "-", h, h - z, x, x - z, z, "-" }'
            continue
        fi
        # shellcheck disable=SC2154
        awk -v b="$backend" -v d="$ir_direct" -v h="$ir_hsw" -v x="$ir_hswx" -v z="$ir_hsw0" 'BEGIN {
            printf "%-9s %12.2f %12.2f %+9.2f %12.2f %+9.2f %12.2f %+9.2f\n", b, d, h, h - d, x, x - d, z, z - d }'
    done
    exit 0
fi

# ---- Timing mode ------------------------------------------------------------
# Every (threads, backend, configuration), in the order of one forward round.
jobs=
for t in $threads_list; do
    for backend in $backends; do
        for config in $(configs_of "$backend"); do
            jobs="$jobs $t:$backend:$config"
        done
    done
done

echo "heapswitch microbenchmark: ns per malloc+free pair (bench/malloc_pairs)"
print_details
echo "== method"
echo "  sizes 16..4096 B log-uniform (fixed table), 64 live blocks per thread;"
echo "  $rounds rounds x $(echo "$jobs" | wc -w) configurations, interleaved (odd rounds forward, even rounds reversed);"
echo "  one run = one sample: wall time of all threads / pairs per thread; median and min-max over rounds;"
echo "  before round 1, one discarded warm-up pass over all configurations (-n $((iterations / 10 + 1)))."
echo "== command lines"
for t in $threads_list; do
    for backend in $backends; do
        for config in $(configs_of "$backend"); do
            echo "  $(command_line "$backend" "$config" -t "$t" -n "$iterations" -r 1)"
        done
    done
done
for backend in $backends; do
    for config in $(configs_of "$backend"); do
        check_config "$backend" "$config"
    done
done

started=$(date +%s)
# Untimed: the first runs after a build or an idle spell come out slow.
for job in $jobs; do
    t=${job%%:*}
    rest=${job#*:}
    run_line "$(command_line "${rest%%:*}" "${rest#*:}" -t "$t" -n $((iterations / 10 + 1)) -r 1)"
done
echo "  warm-up pass done ($(($(date +%s) - started)) s)"
# One sample of JOB (THREADS:BACKEND:CONFIG) in ROUND: ns per pair.
sample() { # JOB ROUND
    t=${1%%:*}
    rest=${1#*:}
    backend=${rest%%:*}
    config=${rest#*:}
    run_line "$(command_line "$backend" "$config" -t "$t" -n "$iterations" -r 1)"
    ns=$(sed -n 's/.*ns_per_pair=\([0-9.]*\).*/\1/p' "$tmp/out")
    [ -n "$ns" ] || die "no ns_per_pair in the output of $(command_line "$backend" "$config" -t "$t" -n "$iterations" -r 1): $(cat "$tmp/out")"
    echo "$t $backend $config $2 $ns" >>"$tmp/samples"
}
round_done() { # ROUND
    echo "  round $1/$rounds done ($(($(date +%s) - started)) s)"
}
: >"$tmp/samples"
interleaved_rounds "$rounds" "$jobs" sample round_done

# "median min max" of one configuration's samples.
summary() { # THREADS BACKEND CONFIG
    awk -v t="$1" -v b="$2" -v c="$3" '$1 == t && $2 == b && $3 == c { print $5 }' "$tmp/samples" |
        median_min_max
}

echo
echo "== results: ns per malloc+free pair, median (min-max) over $rounds rounds; +ns and ratio vs direct medians"
printf '%-9s %3s  %-22s %-22s %7s %6s  %-22s %7s %6s  %-22s %7s %6s\n' \
    backend thr direct heapswitch "+ns" ratio "hsw exact" "+ns" ratio "hsw stats=0" "+ns" ratio
for t in $threads_list; do
    for backend in $backends; do
        # shellcheck disable=SC2046
        d=$(summary "$t" "$backend" direct) h=$(summary "$t" "$backend" hsw)
        x=$(summary "$t" "$backend" hswx) z=$(summary "$t" "$backend" hsw0)
        # No direct run for the arena: +ns is what counting adds (on vs off).
        echo "$d $h $x $z" | awk -v b="$backend" -v t="$t" '
            function cell(m, l, h) { return sprintf("%.2f (%.2f-%.2f)", m, l, h) }
            {
                arena = b == "arena"; base = arena ? $10 : $1
                printf "%-9s %3d  %-22s", b, t, arena ? "-" : cell($1, $2, $3)
                printf " %-22s %+7.2f %6s", cell($4, $5, $6), $4 - base, arena ? "-" : sprintf("%.3f", $4 / base)
                printf "  %-22s %+7.2f %6s", cell($7, $8, $9), $7 - base, arena ? "-" : sprintf("%.3f", $7 / base)
                printf "  %-22s %7s %6s", cell($10, $11, $12), arena ? "-" : sprintf("%+.2f", $10 - base),
                    arena ? "-" : sprintf("%.3f", $10 / base)
                print arena ? "  (+ns: counting vs off)" : ""
            }'
    done
done

echo
echo "== samples in round order (ns per pair)"
for t in $threads_list; do
    for backend in $backends; do
        for config in $(configs_of "$backend"); do
            values=$(awk -v t="$t" -v b="$backend" -v c="$config" \
                '$1 == t && $2 == b && $3 == c { printf " %s", $5 }' "$tmp/samples")
            printf '  %-9s %3d %-6s%s\n' "$backend" "$t" "$config" "$values"
        done
    done
done
echo "  load avg at end: $(load_average); total $(($(date +%s) - started)) s"
