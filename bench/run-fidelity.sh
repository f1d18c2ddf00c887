#!/bin/sh
# make bench (third part): A/B fidelity. For each program, the time ratios
# mimalloc/jemalloc and system/jemalloc with each backend preloaded
# directly, against the same ratios through heapswitch at the default
# counting level and at the exact level, all in the same run. The
# configurations run interleaved (one of each per round, the order
# reversed every other round), so that a noisy machine hits them alike;
# each ratio is the median over rounds of that round's ratio. The
# deviation is the ratio through heapswitch over the direct one, minus 1:
# the target is within 3% and no reversed verdict (both ratios more than
# 2% from 1, on opposite sides). Then `heapswitch ab` runs the same
# command (BENCH_AB_RUNS timed runs per backend, default 7) and its wall
# time ratios and verdicts are printed against the direct ratios of the
# rounds. Figures only: it never fails on them.
set -u
. ./tests/testenv.sh
me=run-fidelity.sh
rounds=${BENCH_ROUNDS:-5}
[ -f "$LIBHEAPSWITCH" ] || { echo "$me: build first (make bench)" >&2; exit 1; }
[ -n "$JEMALLOC_SO" ] && [ -n "$MIMALLOC_SO" ] ||
    { echo "$me: needs jemalloc and mimalloc to preload directly; skipped"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name|command: each runs for about half a second to a few seconds.
programs="${BENCH_FIDELITY_PROGRAMS:-malloc_pairs|./bench/malloc_pairs -t 1 -n 40000000
malloc_pairs-2t|./bench/malloc_pairs -t 2 -n 20000000
request_scoped|./bench/request_scoped -r 10000 -t 1
request_server-naive|./examples/request_server --naive -r 3000
producer_consumer|./bench/producer_consumer -t 2 -n 1500
larson_style|./bench/larson_style -t 2 -n 2000000 -g 4}"
backends="system jemalloc mimalloc"
levels="direct default exact"

env_of() { # BACKEND LEVEL
    case $2:$1 in
        direct:system) echo "" ;;
        direct:jemalloc) echo "LD_PRELOAD=$JEMALLOC_SO" ;;
        direct:mimalloc) echo "LD_PRELOAD=$MIMALLOC_SO" ;;
        default:*) echo "LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_BACKEND=$1 HEAPSWITCH_STRICT=1" ;;
        exact:*) echo "LD_PRELOAD=$LIBHEAPSWITCH HEAPSWITCH_BACKEND=$1 HEAPSWITCH_STRICT=1 HEAPSWITCH_STATS=exact" ;;
    esac
}

# Wall seconds of one run (monotonic, from the shell: start-up included,
# the same for every configuration).
time_one() { # ENV COMMAND
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    env $1 $2 >"$work/out" 2>"$work/err" || { echo "$me: failed: $1 $2" >&2; cat "$work/err" >&2; exit 1; }
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ab_runs=${BENCH_AB_RUNS:-7}
[ -x ./dashboard/heapswitch ] || { echo "$me: build first (make bench)" >&2; exit 1; }
# From ab's JSON (one object, a line per backend): the wall-time figures of
# backend n against the first (jemalloc). Its ratio is the Hodges-Lehmann
# estimate with its interval; the medians' ratio is printed beside it.
cat >"$work/ab.awk" <<'AWK'
{ text = text $0 }
END {
    start = index(text, "\"backend\":\"" n "\"")
    base = index(text, "\"backend\":\"jemalloc\"")
    if (start == 0 || base == 0) { print "  heapswitch ab: no figures for " n; exit }
    if (field(substr(text, start), "ratio") == "") { print "  heapswitch ab: no ratio for " n; exit }
    mine = substr(text, start); theirs = substr(text, base)
    wall = substr(mine, index(mine, "\"wall_seconds\""))
    base_wall = substr(theirs, index(theirs, "\"wall_seconds\""))
    ratio = field(wall, "ratio"); low = field(wall, "ratio_low"); high = field(wall, "ratio_high")
    verdict = field(wall, "verdict"); gsub(/"/, "", verdict)
    medians = field(wall, "median") / field(base_wall, "median")
    if (ratio == "null") ratio_text = "-"; else ratio_text = sprintf("%.3f [%.3f, %.3f]", ratio, low, high)
    printf "  %-18s heapswitch ab %s (%+.1f%% off direct), medians %.3f, %s\n", n "/jemalloc",
        ratio_text, ratio == "null" ? 0 : (ratio / d - 1) * 100, medians, verdict
}
function field(text, key,    at, rest) {
    at = index(text, "\"" key "\":")
    rest = substr(text, at + length(key) + 3)
    return substr(rest, 1, match(rest, /[,}]/) - 1)
}
AWK

echo "heapswitch A/B fidelity: time ratios between backends, directly vs through heapswitch"
echo "  $rounds interleaved rounds; ratio = median over rounds of the round's time ratio"
echo "  load avg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
configs=
for b in $backends; do for l in $levels; do configs="$configs $b:$l"; done; done
reversed_configs=
for c in $configs; do reversed_configs="$c $reversed_configs"; done

echo "$programs" | while IFS='|' read -r name command; do
    : >"$work/samples"
    round=1
    while [ $round -le "$rounds" ]; do
        if [ $((round % 2)) -eq 1 ]; then order=$configs; else order=$reversed_configs; fi
        for c in $order; do
            echo "$round ${c%%:*} ${c#*:} $(time_one "$(env_of "${c%%:*}" "${c#*:}")" "$command")" >>"$work/samples"
        done
        round=$((round + 1))
    done
    echo
    echo "== $name: $command"
    printf '  %-8s %-22s %-22s %-22s\n' level system jemalloc mimalloc
    for l in $levels; do
        printf '  %-8s' "$l"
        for b in $backends; do
            # The median time, and its ratio to the backend preloaded
            # directly in the same round (the cost of heapswitch), median.
            t=$(awk -v b="$b" -v l="$l" '$2 == b && $3 == l { print $4 / 1e6 }' "$work/samples" | median)
            r=$(awk -v b="$b" -v l="$l" '$2 == b && $3 == l { a[$1] = $4 } $2 == b && $3 == "direct" { d[$1] = $4 }
                END { for (k in a) if (d[k] > 0) print a[k] / d[k] }' "$work/samples" | median)
            printf ' %-22s' "$(printf '%.3fs' "$t") ($(printf '%.3f' "$r")x)"
        done
        echo
    done
    for pair in mimalloc/jemalloc system/jemalloc; do
        num=${pair%/*} den=${pair#*/}
        for l in $levels; do
            awk -v n="$num" -v d="$den" -v l="$l" '$3 == l && $2 == n { a[$1] = $4 } $3 == l && $2 == d { b[$1] = $4 }
                END { for (r in a) if (b[r] > 0) print a[r] / b[r] }' "$work/samples" | median >"$work/ratio.$l"
        done
        awk -v p="$pair" -v d="$(cat "$work/ratio.direct")" -v h="$(cat "$work/ratio.default")" -v x="$(cat "$work/ratio.exact")" 'BEGIN {
            rev_h = (d < 0.98 && h > 1.02) || (d > 1.02 && h < 0.98)
            rev_x = (d < 0.98 && x > 1.02) || (d > 1.02 && x < 0.98)
            printf "  %-18s direct %.3f  default %.3f (%+.1f%%%s)  exact %.3f (%+.1f%%%s)\n", p, d,
                h, (h / d - 1) * 100, rev_h ? ", REVERSED" : "", x, (x / d - 1) * 100, rev_x ? ", REVERSED" : "" }'
        cp "$work/ratio.direct" "$work/direct.${num}"
    done
    # The same ratios as heapswitch ab reports them (its timed runs), and
    # its verdicts, against the direct ratios of this run's rounds.
    # shellcheck disable=SC2086
    if ./dashboard/heapswitch ab -n "$ab_runs" --warmup 1 -b jemalloc,mimalloc,system --json \
        -- $command >"$work/ab.json" 2>"$work/ab.err"; then
        for num in mimalloc system; do
            awk -v n="$num" -v d="$(cat "$work/direct.$num")" -f "$work/ab.awk" "$work/ab.json"
        done
    else
        echo "  heapswitch ab failed: $(tail -n 1 "$work/ab.err")"
    fi
done
