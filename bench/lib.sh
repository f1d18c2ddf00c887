# Shared by the benchmark drivers (bench/run-*.sh), which source it from
# beside themselves, so that it is found from any directory and in an
# out-of-tree build:
#
#   me=run-NAME.sh
#   . "$(dirname "$0")/lib.sh"
#
# What every driver does alike: checking its settings, loading the build
# (./tests/testenv.sh, run from the top build directory), a clean
# environment and a temporary directory, running one command line,
# interleaved rounds, medians and ranges, instructions per unit under
# callgrind, and the machine lines of a report. Messages start with
# "$me: ". Variables of these functions start with bench_, so that they
# do not change a driver's own.

# die MESSAGE: the driver cannot go on (exit 1).
die() {
    echo "$me: $*" >&2
    exit 1
}

# Whether $1 is a positive decimal integer.
is_count() {
    case $1 in '' | *[!0-9]*) return 1 ;; esac
    [ "$1" -gt 0 ] 2>/dev/null
}

# require_count VARIABLE VALUE [STATUS]: exits with STATUS (2 unless
# given: a usage error) unless VALUE, the setting of VARIABLE, is a count.
require_count() {
    is_count "$2" && return 0
    echo "$me: $1='$2': expected a positive integer" >&2
    exit "${3:-2}"
}

# bench_options ARGUMENT...: the options of a driver with a callgrind mode
# (--callgrind, or BENCH_CALLGRIND=1; --help calls the driver's usage).
# Sets callgrind to 1 or 0.
bench_options() {
    callgrind=${BENCH_CALLGRIND:-0}
    for bench_arg in "$@"; do
        case $bench_arg in
            --callgrind) callgrind=1 ;;
            -h | --help) usage; exit 0 ;;
            *) echo "$me: unknown argument '$bench_arg' (try --help)" >&2; exit 2 ;;
        esac
    done
    case $callgrind in
        '' | 0 | no | false) callgrind=0 ;;
        1 | yes | true) callgrind=1 ;;
        *) echo "$me: BENCH_CALLGRIND='$callgrind': expected 1 or 0" >&2; exit 2 ;;
    esac
}

# Loads the build's paths (tests/testenv.sh: LIBHEAPSWITCH, abs_top_srcdir,
# hsw_backend_built...) and checks that the library is built.
bench_load_build() {
    [ -f ./tests/testenv.sh ] ||
        die "./tests/testenv.sh not found: run this from the top build directory, after ./configure"
    . ./tests/testenv.sh
    [ -f "$LIBHEAPSWITCH" ] || die "$LIBHEAPSWITCH not found: run make first"
}

# Only what each configuration sets may reach the benchmark.
bench_clean_environment() {
    unset LD_PRELOAD
    for bench_name in $(env | sed -n 's/^\(HEAPSWITCH_[A-Za-z0-9_]*\)=.*/\1/p'); do
        unset "$bench_name"
    done
}

# bench_temporary PREFIX: a temporary directory in $tmp, removed on exit
# (also on interruption). Then commands are split on blanks, never globbed.
bench_temporary() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || die "cannot create a temporary directory"
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    set -f
}

# run_line LINE: runs a command line (VAR=VALUE... PROGRAM ARGUMENTS,
# through env(1)); its stdout goes to $tmp/out, its stderr to $tmp/err.
# Exits on failure, with the command and its stderr.
run_line() {
    # shellcheck disable=SC2086
    env $1 >"$tmp/out" 2>"$tmp/err"
    bench_status=$?
    if [ $bench_status -ne 0 ]; then
        echo "$me: FAILED (exit $bench_status): $1" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
}

# interleaved_rounds ROUNDS JOBS RUN [AFTER]: calls RUN JOB ROUND for every
# job of JOBS (words) in every round, in order in odd rounds and reversed
# in even ones, so that drift of a noisy machine hits all jobs alike; then
# AFTER ROUND, if given, at the end of each round.
interleaved_rounds() {
    bench_reversed=
    for bench_job in $2; do
        bench_reversed="$bench_job $bench_reversed"
    done
    bench_round=1
    while [ $bench_round -le "$1" ]; do
        if [ $((bench_round % 2)) -eq 1 ]; then bench_order=$2; else bench_order=$bench_reversed; fi
        for bench_job in $bench_order; do
            "$3" "$bench_job" "$bench_round"
        done
        [ -z "${4:-}" ] || "$4" "$bench_round"
        bench_round=$((bench_round + 1))
    done
}

# Reads numbers, one a line; prints "median min max" (two decimals), or
# "nan nan nan" for none.
median_min_max() {
    sort -n |
        awk '{ v[NR] = $1 }
             END {
                 if (NR == 0) { print "nan nan nan"; exit }
                 m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                 printf "%.2f %.2f %.2f\n", m, v[1], v[NR]
             }'
}

# callgrind_ir LINE PROGRAM: the total instructions (Ir) of command line
# LINE under valgrind --tool=callgrind, which goes between its environment
# assignments and PROGRAM.
callgrind_ir() {
    rm -f "$tmp/cg.out"
    run_line "${1%%"$2"*}valgrind --tool=callgrind --callgrind-out-file=$tmp/cg.out $2${1#*"$2"}"
    awk '/^(summary|totals):/ { print $2; exit }' "$tmp/cg.out"
}

# ir_per_unit VARIABLE LOW HIGH N WHAT: sets VARIABLE to the instructions
# of one unit (two decimals), (HIGH - LOW) / N, from the Ir of a run of N
# units (LOW) and one of 2N (HIGH): start-up and warm-up cancel out. Dies
# naming WHAT when either count is missing.
ir_per_unit() {
    for bench_ir in "$2" "$3"; do
        case $bench_ir in '' | *[!0-9]*) die "no instruction count from callgrind ($5)" ;; esac
    done
    eval "$1=\$(awk -v a=\"\$2\" -v b=\"\$3\" -v n=\"\$4\" 'BEGIN { printf \"%.2f\", (b - a) / n }')"
}

# The processor's model name, as /proc/cpuinfo gives it.
cpu_model() {
    sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | sed -n 1p
}

# The load averages over 1, 5 and 15 minutes.
load_average() {
    cut -d' ' -f1-3 /proc/loadavg 2>/dev/null
}
