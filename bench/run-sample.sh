#!/bin/sh
# make bench: what call-site sampling (HEAPSWITCH_SAMPLE) adds, on
# bench/malloc_pairs (ns per malloc+free pair) and bench/request_scoped
# (seconds per run), against the same runs without sampling.
#
# Configurations, all with libheapswitch preloaded at the default
# counting level and HEAPSWITCH_BACKEND=$BENCH_BACKEND (system):
#   off     HEAPSWITCH_SAMPLE=0 (off whatever the default)
#   512k    HEAPSWITCH_SAMPLE=512k (the interval jemalloc and Go use)
#   64k     HEAPSWITCH_SAMPLE=64k
#   8k      HEAPSWITCH_SAMPLE=8k
# Every round runs each configuration once, interleaved (forward order in
# odd rounds, reversed in even ones), so that drift of a noisy machine
# hits all alike; the table gives medians over the rounds and each
# configuration's added time against "off", in % and ns.
#
# Then, unless BENCH_CALLGRIND=0, instructions per malloc+free pair of
# bench/malloc_pairs and per request of bench/request_scoped under
# valgrind --tool=callgrind for the same configurations (deterministic:
# the hot-path cost without the noise), with another build's library
# (an older commit's, say) given as BENCH_BASE_LIBRARY to compare "off"
# with.
#
# Run from the top build directory (make bench does). Figures only.
set -u
me=run-sample.sh

. "$(dirname "$0")/lib.sh"

rounds=${BENCH_ROUNDS:-7}
iterations=${BENCH_ITERATIONS:-20000000}
requests=${BENCH_REQUESTS:-4000}
backend=${BENCH_BACKEND:-system}
configs=${BENCH_SAMPLE_CONFIGS:-off 512k 64k 8k}
callgrind=${BENCH_CALLGRIND:-1}
cg_iterations=${BENCH_CG_ITERATIONS:-200000}
cg_requests=${BENCH_CG_REQUESTS:-100}
require_count BENCH_ROUNDS "$rounds" 1
require_count BENCH_ITERATIONS "$iterations" 1
require_count BENCH_REQUESTS "$requests" 1
require_count BENCH_CG_ITERATIONS "$cg_iterations" 1
require_count BENCH_CG_REQUESTS "$cg_requests" 1
for config in $configs; do
    case $config in off | *[0-9]k | *[0-9]M | *[0-9]G | *[0-9]) ;; *) die "BENCH_SAMPLE_CONFIGS: '$config' is not off or a size" ;; esac
done

bench_load_build
for program in ./bench/malloc_pairs ./bench/request_scoped; do
    [ -x "$program" ] || die "$program not built: run make bench first"
done
hsw_backend_built "$backend" || die "BENCH_BACKEND='$backend': not in this build"

bench_clean_environment
bench_temporary hsw-bench-sample

# The environment of a configuration, as env(1) arguments.
environment() { # CONFIG [LIBRARY]
    library=${2:-$LIBHEAPSWITCH}
    case $1 in
        off) echo "LD_PRELOAD=$library HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 HEAPSWITCH_SAMPLE=0" ;;
        *) echo "LD_PRELOAD=$library HEAPSWITCH_BACKEND=$backend HEAPSWITCH_STRICT=1 HEAPSWITCH_SAMPLE=$1" ;;
    esac
}

pairs_line() { echo "$(environment "$1") ./bench/malloc_pairs -t 1 -n $iterations -r 1"; }
request_line() { echo "$(environment "$1") ./bench/request_scoped -r $requests -t 1"; }

# One sample: "WALL CPU": ns per pair (wall, as malloc_pairs prints it,
# and the run's user+system CPU time per pair), or seconds per
# request_scoped run (wall, as it prints it, and CPU). CPU time is what a
# machine shared with other work disturbs least.
measure() { # BENCH CONFIG
    case $1 in
        pairs) line=$(pairs_line "$2") pattern='s/.*ns_per_pair=\([0-9.]*\).*/\1/p' ;;
        request) line=$(request_line "$2") pattern='s/.*seconds=\([0-9.]*\).*/\1/p' ;;
    esac
    # /usr/bin/time goes between the environment and the program.
    program=./bench/malloc_pairs
    [ "$1" = request ] && program=./bench/request_scoped
    run_line "${line%%"$program"*}$time_program -f %U+%S -o $tmp/time $program${line#*"$program"}"
    wall=$(sed -n "$pattern" "$tmp/out" | tail -n 1)
    cpu=$(tail -n 1 "$tmp/time" | awk -F+ -v n="$iterations" -v b="$1" '{
        if (b == "pairs") printf "%.2f", ($1 + $2) * 1e9 / n; else printf "%.4f", $1 + $2 }')
    echo "$wall $cpu"
}
time_program=/usr/bin/time
[ -x "$time_program" ] || die "/usr/bin/time not found (Debian: apt-get install time)"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "heapswitch call-site sampling cost (HEAPSWITCH_SAMPLE), backend $backend, default counting level"
echo "== machine"
echo "  cpu: $(cpu_model), $(nproc) cores, load $(load_average)"
echo "== command lines"
for config in $configs; do
    echo "  $(pairs_line "$config")"
    echo "  $(request_line "$config")"
done
echo "== method"
echo "  $rounds rounds, each configuration once per round per benchmark, interleaved (odd rounds forward,"
echo "  even rounds reversed); medians over the rounds; added = median / median(off) - 1;"
echo "  wall time as each benchmark prints it, and the run's CPU time from /usr/bin/time"

# One round's samples of a configuration, of both benchmarks.
sample() { # CONFIG ROUND
    for bench in pairs request; do
        value=$(measure $bench "$1")
        case $value in *[0-9]' '*[0-9]) ;; *) die "no figure from $bench ($1)" ;; esac
        echo "${value% *}" >>"$tmp/$bench.$1"
        echo "${value#* }" >>"$tmp/$bench-cpu.$1"
    done
}
interleaved_rounds "$rounds" "$configs" sample

# table SUFFIX TITLE: medians and added figures of one kind of sample.
table() {
    echo
    echo "== $2"
    printf '%-8s %14s %10s %10s   %16s %10s\n' config "ns/pair" added "added ns" "request_scoped s" added
    off_pairs=$(median <"$tmp/pairs$1.off" 2>/dev/null)
    off_request=$(median <"$tmp/request$1.off" 2>/dev/null)
    for config in $configs; do
        p=$(median <"$tmp/pairs$1.$config")
        r=$(median <"$tmp/request$1.$config")
        awk -v c="$config" -v p="$p" -v r="$r" -v p0="${off_pairs:-0}" -v r0="${off_request:-0}" 'BEGIN {
            pa = p0 > 0 ? sprintf("%+.2f%%", (p / p0 - 1) * 100) : "-"
            pn = p0 > 0 ? sprintf("%+.2f", p - p0) : "-"
            ra = r0 > 0 ? sprintf("%+.2f%%", (r / r0 - 1) * 100) : "-"
            printf "%-8s %14.2f %10s %10s   %16.4f %10s\n", c, p, pa, pn, r, ra }'
    done
    for config in $configs; do
        printf '  range %-6s pairs %s..%s ns, request %s..%s s\n' "$config" \
            "$(sort -g "$tmp/pairs$1.$config" | sed -n 1p)" "$(sort -g "$tmp/pairs$1.$config" | tail -n 1)" \
            "$(sort -g "$tmp/request$1.$config" | sed -n 1p)" "$(sort -g "$tmp/request$1.$config" | tail -n 1)"
    done
}
table "" "wall time (as the benchmarks print it)"
table -cpu "user+system CPU time of the run (/usr/bin/time), per pair and per run"

case $callgrind in 0 | no | false) exit 0 ;; esac
if ! command -v valgrind >/dev/null 2>&1; then
    echo "$me: valgrind not found: no instruction counts (Debian: apt-get install valgrind)"
    exit 0
fi

# The command line of one callgrind run: malloc_pairs with COUNT pairs,
# or request_scoped with COUNT requests.
callgrind_line() { # BENCH CONFIG COUNT [LIBRARY]
    case $1 in
        pairs) echo "$(environment "$2" "${4:-}") ./bench/malloc_pairs -t 1 -n $3 -w 10000 -r 1" ;;
        request) echo "$(environment "$2" "${4:-}") ./bench/request_scoped -t 1 -r $3" ;;
    esac
}

# Sets VARIABLE to the instructions per pair or per request: the
# difference of a run of twice the count and one of the count, so that
# start-up cancels out.
per_unit() { # VARIABLE BENCH CONFIG [LIBRARY]
    count=$cg_iterations
    program=./bench/malloc_pairs
    [ "$2" = request ] && count=$cg_requests program=./bench/request_scoped
    low=$(callgrind_ir "$(callgrind_line "$2" "$3" "$count" "${4:-}")" $program)
    high=$(callgrind_ir "$(callgrind_line "$2" "$3" $((2 * count)) "${4:-}")" $program)
    ir_per_unit "$1" "$low" "$high" "$count" "$2, $3"
}

# ir_table BENCH TITLE
ir_table() {
    echo
    echo "== $2"
    per_unit off_ir "$1" off
    if [ -n "${BENCH_BASE_LIBRARY:-}" ]; then
        [ -f "$BENCH_BASE_LIBRARY" ] || die "BENCH_BASE_LIBRARY='$BENCH_BASE_LIBRARY': no such file"
        per_unit base_ir "$1" off "$BENCH_BASE_LIBRARY"
        awk -v i="$base_ir" -v o="$off_ir" 'BEGIN { printf "  %-28s %12.2f %+10.2f %+8.3f%%\n", "BENCH_BASE_LIBRARY, unset", i, i - o, (i / o - 1) * 100 }'
    fi
    for config in $configs; do
        ir=$off_ir
        [ "$config" = off ] || per_unit ir "$1" "$config"
        awk -v c="$config" -v i="$ir" -v o="$off_ir" 'BEGIN { printf "  %-28s %12.2f %+10.2f %+8.3f%%\n", "HEAPSWITCH_SAMPLE=" c, i, i - o, (i / o - 1) * 100 }'
    done
}

ir_table pairs "instructions per malloc+free pair (valgrind --tool=callgrind, bench/malloc_pairs -t 1,
   (Ir(-n $((2 * cg_iterations))) - Ir(-n $cg_iterations)) / $cg_iterations; the loop itself included)"
ir_table request "instructions per request (valgrind --tool=callgrind, bench/request_scoped -t 1,
   (Ir(-r $((2 * cg_requests))) - Ir(-r $cg_requests)) / $cg_requests; 2,000 strings a request)"
