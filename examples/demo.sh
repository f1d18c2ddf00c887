#!/bin/sh
# The demo: runs the example workload (examples/workload) plainly and under
# two backends through libheapswitch, interleaved, and prints a timed
# plain-text report: median wall time, CPU time and peak RSS per backend,
# and whether every run printed the same result.
#
#   examples/demo.sh [-r ROUNDS] [-b BACKEND,BACKEND] [-- REQUESTS THREADS]
set -u

usage() {
    echo "usage: examples/demo.sh [-r ROUNDS] [-b BACKEND,BACKEND,...] [-- REQUESTS [THREADS]]" >&2
    exit 2
}

rounds=5
backends=
while [ $# -gt 0 ]; do
    case $1 in
        -r) [ $# -ge 2 ] || usage; rounds=$2; shift 2 ;;
        -b) [ $# -ge 2 ] || usage; backends=$(echo "$2" | tr ',' ' '); shift 2 ;;
        -h | --help) usage ;;
        --) shift; break ;;
        *) echo "demo: unknown argument '$1'" >&2; usage ;;
    esac
done
case $rounds in '' | *[!0-9]* | 0) echo "demo: -r needs a positive integer, not '$rounds'" >&2; exit 2 ;; esac

[ -f ./tests/testenv.sh ] || { echo "demo: run it from the build directory, after ./configure && make" >&2; exit 1; }
. ./tests/testenv.sh
workload=./examples/workload
[ -x "$workload" ] && [ -f "$LIBHEAPSWITCH" ] || { echo "demo: build first: make" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "demo: needs GNU time (apt-get install time)" >&2; exit 1; }

if [ -z "$backends" ]; then
    backends=system
    for candidate in jemalloc mimalloc; do
        if hsw_backend_built "$candidate"; then backends="$backends $candidate"; break; fi
    done
fi
for backend in $backends; do
    hsw_backend_built "$backend" || { echo "demo: this build has no '$backend' backend" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args="$*"

echo "heapswitch demo: $workload ${args:-(defaults)}, $rounds rounds, interleaved"
echo "configurations: plain (no preload), then through libheapswitch with HEAPSWITCH_BACKEND=$(echo $backends | tr ' ' ',')"
echo
configs="plain $backends"
round=1
while [ "$round" -le "$rounds" ]; do
    for config in $configs; do
        if [ "$config" = plain ]; then
            /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$workload" $args >"$work/out" 2>"$work/err"
        else
            HEAPSWITCH_BACKEND=$config HEAPSWITCH_STRICT=1 LD_PRELOAD="$LIBHEAPSWITCH" \
                /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$workload" $args >"$work/out" 2>"$work/err"
        fi
        status=$?
        if [ "$status" -ne 0 ]; then
            echo "demo: $config run $round failed with status $status:" >&2
            cat "$work/err" >&2
            exit 1
        fi
        cat "$work/time" >>"$work/$config.times"
        cat "$work/out" >>"$work/$config.outputs"
        [ -t 1 ] && printf '\r  round %d/%d: %-10s' "$round" "$rounds" "$config"
    done
    round=$((round + 1))
done
[ -t 1 ] && printf '\r%40s\r' ''

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-10s %10s %10s %12s %10s  %s\n' config "wall s" "cpu s" "max RSS KiB" "vs plain" output
plain_wall=$(cut -d' ' -f1 "$work/plain.times" | median)
for config in $configs; do
    wall=$(cut -d' ' -f1 "$work/$config.times" | median)
    cpu=$(awk '{ print $2 + $3 }' "$work/$config.times" | median)
    rss=$(cut -d' ' -f4 "$work/$config.times" | median)
    same=identical
    [ "$(sort -u "$work/$config.outputs")" = "$(sort -u "$work/plain.outputs")" ] &&
        [ "$(sort -u "$work/$config.outputs" | wc -l)" -eq 1 ] || same=DIFFERENT
    printf '%-10s %10.3f %10.3f %12d %9.2fx  %s\n' "$config" "$wall" "$cpu" "$rss" \
        "$(awk -v a="$wall" -v b="$plain_wall" 'BEGIN { print (b > 0) ? a / b : 0 }')" "$same"
done
echo
echo "medians of $rounds runs; 'plain' is glibc's allocator without heapswitch."
