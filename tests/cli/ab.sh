# heapswitch ab: what each kind of run gets (timed runs: the backend alone
# or heapswitch with counting off; counted runs: counting on and a report),
# figures from the right runs, verdicts and per-run rows in JSON, CSV and
# SVG, run control, failing runs reported and left out, bad input. No
# check depends on how fast anything runs.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"

if ! hsw_backend_built jemalloc; then
    echo "SKIP: ab.sh compares system and jemalloc; this build has no jemalloc"
    exit 77
fi
if ! have_python; then
    echo "SKIP: ab.sh needs python3 to check the JSON and the SVG"
    exit 77
fi
backends=system,jemalloc
hsw_backend_built mimalloc && backends=$backends,mimalloc
backends=$backends,arena

# ---- The environment of each kind of run --------------------------------
# A command that records what it was given, one line per run, in order.
cat >"$work/env.sh" <<'SH'
printf '%s|%s|%s|%s|%s\n' "${LD_PRELOAD-}" "${HEAPSWITCH_BACKEND-unset}" \
    "${HEAPSWITCH_STATS-unset}" "${HEAPSWITCH_REPORT:+report}" \
    "${HEAPSWITCH_STRICT-unset}" >>"$1"
SH
: >"$work/env.txt"
expect_status 0 "ab -n 1 --counted-runs 1 under $backends, recording each run's environment" \
    env HEAPSWITCH_STATS=0 "$HSW" ab -n 1 --warmup 1 --counted-runs 1 -b "$backends" --json \
    -- sh "$work/env.sh" "$work/env.txt"
cp "$work/out" "$work/env.json"
if python3 - "$work/env.txt" "$backends" "$JEMALLOC_SO" "$MIMALLOC_SO" "$work/env.json" <<'PY'
import json, os, sys
lines = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
names = sys.argv[2].split(",")
direct = {"jemalloc": os.path.realpath(sys.argv[3]) if sys.argv[3] else None,
          "mimalloc": os.path.realpath(sys.argv[4]) if sys.argv[4] else None}
n = len(names)
assert len(lines) == 3 * n, lines          # warmup, counted, timed rounds
warm, counted, timed = lines[:n], lines[n:2 * n], lines[2 * n:]
for i, name in enumerate(names):
    # Counted: libheapswitch, this backend, strict, a report, and
    # HEAPSWITCH_STATS unset (the default level; the caller's 0 removed).
    pre, backend, stats, report, strict = counted[i]
    assert "libheapswitch" in pre and backend == name and stats == "unset", counted[i]
    assert report == "report" and strict == "1", counted[i]
    for row in (warm[i], timed[i]):
        pre, backend, stats, report, strict = row
        assert report == "", row           # no report: nothing counted
        # HEAPSWITCH_STATS=0 even where heapswitch is not preloaded: a
        # program linked with it must not count either.
        if name == "system":
            assert pre == "" and backend == strict == "unset" and stats == "0", row
        elif name == "arena":
            assert "libheapswitch" in pre and backend == "arena" and stats == "0", row
        else:
            assert "libheapswitch" not in pre, row
            assert os.path.realpath(pre) == direct[name], (row, direct[name])
            assert backend == "unset" and stats == "0", row
data = json.load(open(sys.argv[5]))
timed_with = {b["backend"]: (b["timing"], b["timed_with"]) for b in data["backends"]}
assert timed_with["system"] == ("direct", "nothing preloaded"), timed_with
assert timed_with["arena"] == ("heapswitch", "libheapswitch, HEAPSWITCH_STATS=0"), timed_with
assert timed_with["jemalloc"][1].startswith("LD_PRELOAD=") and "jemalloc" in timed_with["jemalloc"][1]
assert data["counted_with"] == "libheapswitch, counting at the default level", data
PY
then ok "timed runs: system bare, jemalloc/mimalloc preloaded alone, arena with HEAPSWITCH_STATS=0; counted runs: heapswitch, default level, report"
else fail "environments: $(cat "$work/env.txt")"
fi

: >"$work/env.txt"
expect_status 0 "ab --timing heapswitch --stats exact" \
    "$HSW" ab -n 1 --warmup 0 --counted-runs 1 --timing=heapswitch --stats=exact -b "$backends" \
    -- sh "$work/env.sh" "$work/env.txt"
if python3 - "$work/env.txt" "$backends" <<'PY'
import sys
lines = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
names = sys.argv[2].split(",")
n = len(names)
for i, name in enumerate(names):
    assert lines[i][1:4] == [name, "exact", "report"] and "libheapswitch" in lines[i][0], lines[i]
    assert lines[n + i][1:4] == [name, "0", ""] and "libheapswitch" in lines[n + i][0], lines[n + i]
PY
then ok "--timing heapswitch: every timed run through heapswitch, counting off; --stats exact reaches the counted runs"
else fail "--timing heapswitch: $(cat "$work/env.txt")"
fi
: >"$work/env.txt"
LD_PRELOAD=libm.so.6 "$HSW" ab -n 1 --warmup 0 --counted-runs 0 -b system,jemalloc \
    -- sh "$work/env.sh" "$work/env.txt" >/dev/null 2>&1
check "the caller's LD_PRELOAD stays, after the backend's library ($(tr '\n' ' ' <"$work/env.txt"))" \
    sh -c "head -n 1 '$work/env.txt' | grep -q '^libm.so.6|' &&
           sed -n 2p '$work/env.txt' | grep -q '^/[^ ]*jemalloc[^ ]* libm.so.6|'"

# ---- JSON: figures from the right runs, verdicts, per-run rows -----------
expect_status 0 "ab --json of the workload under system and jemalloc" \
    "$HSW" ab -n 5 --warmup 0 --counted-runs 2 -b system,jemalloc --json --svg "$work/chart.svg" \
    -- "$WORKLOAD" 2000 1
cp "$work/out" "$work/ab.json"
if python3 - "$work/ab.json" <<'PY'
import json, math, sys
data = json.load(open(sys.argv[1]))
assert data["runs"] == 5 and data["counted_runs"] == 2 and data["warmup"] == 0, data
assert data["stopped"] == "runs done" and data["confidence"] == 0.95 and data["min_effect"] == 0.02
assert data["baseline"] == "system"
assert [b["backend"] for b in data["backends"]] == ["system", "jemalloc"]
verdicts = {"a_better", "b_better", "no_difference", "not_enough_data"}
for b in data["backends"]:
    assert b["ok"] == 5 and b["failed"] == 0 and b["counted_ok"] == 2, b
    m = b["metrics"]
    for key in ("wall_seconds", "cpu_seconds", "max_rss_bytes"):
        s = m[key]
        assert s["source"] == "timed" and s["n"] == 5, (key, s)
        assert s["min"] <= s["median"] <= s["max"] and s["median"] > 0, (key, s)
        assert s["verdict"] in verdicts and s["verdict"] != "not_enough_data", (key, s)
        assert s["ratio_low"] <= s["ratio"] <= s["ratio_high"], (key, s)
        assert 0 <= s["p_value"] <= 1, (key, s)
        better = {"a_better": "system", "b_better": b["backend"]}.get(s["verdict"])
        assert s["better"] == better, (key, s)
    for key in ("allocs", "frees", "bytes_requested", "peak_live_bytes", "processes"):
        s = m[key]
        assert s["source"] == "counted" and s["n"] == 2 and s["verdict"] is None, (key, s)
    # Calls come from the counted runs' report lines: thousands per request.
    assert m["allocs"]["median"] > 2000 and m["frees"]["median"] > 2000, m["allocs"]
    assert m["processes"]["median"] == 1, m["processes"]
    # Per-run rows: 2 counted then 5 timed; each kind has its own figures.
    kinds = [s["kind"] for s in b["samples"]]
    assert kinds == ["counted"] * 2 + ["timed"] * 5, kinds
    assert [s["run"] for s in b["samples"]] == [1, 2, 1, 2, 3, 4, 5]
    for s in b["samples"]:
        assert s["ok"] and s["wall_seconds"] > 0, s
        assert (s["allocs"] is None) == (s["kind"] == "timed"), s
    timed = sorted(s["wall_seconds"] for s in b["samples"] if s["kind"] == "timed")
    assert m["wall_seconds"]["median"] == timed[2], (m["wall_seconds"], timed)
base = data["backends"][0]["metrics"]
assert base["wall_seconds"]["ratio"] == 1 and base["wall_seconds"]["verdict"] == "no_difference"
# The same program makes the same calls under both backends.
assert data["backends"][1]["metrics"]["allocs"]["ratio"] == 1
PY
then ok "--json: timed figures from timed runs with intervals and verdicts, allocation figures from counted runs, every run a row"
else fail "--json: $(head -c 800 "$work/ab.json")"
fi
check "no min-max 'within noise' verdict anywhere" sh -c "! grep -q within '$work/ab.json'"

if python3 - "$work/chart.svg" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
groups = [g for g in root.iter(ns + "g") if g.get("class") == "metric"]
assert [g.get("id") for g in groups] == ["wall_seconds", "cpu_seconds", "max_rss_bytes", "allocs"], groups
for g in groups:
    assert len(g.findall(ns + "rect")) == 2, g.get("id")
    texts = " ".join(t.text or "" for t in g.iter(ns + "text"))
    assert "system" in texts and "jemalloc" in texts, texts
    source = "counted" if g.get("id") == "allocs" else "timed"
    assert "(%s runs)" % source in texts, texts
    verdicts = [t.text for t in g.iter(ns + "text") if t.get("class") == "verdict"]
    if source == "timed":
        assert len(verdicts) == 1 and ("better" in verdicts[0] or "no difference" in verdicts[0]), verdicts
        ratio = [t.text for t in g.iter(ns + "text") if t.get("class") == "ratio"][0]
        assert "x [" in ratio, ratio
    else:
        assert not verdicts, verdicts
PY
then ok "--svg: four groups of two bars, each saying its runs; timed groups with interval and verdict"
else fail "--svg is not the expected SVG"
fi

# ---- CSV: summary rows with verdicts, then a row per run and figure -----
expect_status 0 "ab --csv" "$HSW" ab -n 5 --warmup 0 -b system,jemalloc --csv -- "$WORKLOAD" 500 1
cp "$work/out" "$work/ab.csv"
if python3 - "$work/ab.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
summary = [r for r in rows if r["row"] == "summary"]
runs = [r for r in rows if r["row"] == "run"]
assert len(summary) == 2 * 16, len(summary)  # 12 figures and 4 latency percentiles
wall = {r["backend"]: r for r in summary if r["metric"] == "wall_seconds"}
assert wall["system"]["source"] == "timed" and float(wall["system"]["ratio"]) == 1.0
assert wall["jemalloc"]["n"] == "5" and float(wall["jemalloc"]["median"]) > 0
assert wall["jemalloc"]["verdict"] in ("a_better", "b_better", "no_difference"), wall
assert float(wall["jemalloc"]["ratio_low"]) <= float(wall["jemalloc"]["ratio"]) <= float(wall["jemalloc"]["ratio_high"])
allocs = [r for r in summary if r["metric"] == "allocs"]
assert all(r["source"] == "counted" and r["verdict"] == "" and float(r["median"]) > 500 for r in allocs), allocs
timed_wall = [r for r in runs if r["metric"] == "wall_seconds" and r["source"] == "timed"]
assert sorted((r["backend"], r["run"]) for r in timed_wall) == sorted((b, str(i)) for b in ("system", "jemalloc") for i in range(1, 6))
assert all(r["status"] == "exit status 0" and float(r["value"]) > 0 for r in timed_wall)
assert not [r for r in runs if r["metric"] == "allocs" and r["source"] == "timed"]
assert len([r for r in runs if r["metric"] == "allocs" and r["source"] == "counted"]) == 2
PY
then ok "--csv: summary rows with intervals and verdicts, then a row per run and figure"
else fail "--csv: $(head -c 800 "$work/ab.csv")"
fi

# ---- Report lines: figures listed as estimated, lines that do not parse -
# The command appends to its own report what a later runtime may write (a
# counting level, an "estimated" list, unknown keys) and a broken line.
cat >"$work/report.sh" <<'SH'
[ -n "${HEAPSWITCH_REPORT:-}" ] || exit 0
printf '%s\n' '{"pid":1,"stats":"default","estimated":["bytes_allocated","peak_live_bytes"],"calls":{"malloc":5},"bytes_allocated":100,"heap":{"live":3,"overhead":null},"fragmentation":null}' \
    '{"pid":2,"calls":{"malloc":' >>"$HEAPSWITCH_REPORT"
SH
expect_status 0 "ab of a command whose report has an 'estimated' list and a broken line" \
    "$HSW" ab -n 1 --warmup 0 -b system --json -- sh "$work/report.sh"
check "  the broken line is left out with a warning" \
    grep -q "heapswitch ab: a report line left out: offset" "$work/err"
check "  estimated figures are marked so, exact ones not; the good line is counted" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["backends"][0]
m = b["metrics"]
assert m["bytes_allocated"]["estimated"] is True and m["allocs"]["estimated"] is False, m
assert m["processes"]["median"] == 2 and m["allocs"]["median"] >= 5, m
counted = [s for s in b["samples"] if s["kind"] == "counted"][0]
assert "bytes_allocated" in counted["estimated"], counted
assert "allocs" not in counted["estimated"] and "frees" not in counted["estimated"], counted' "$work/out"

# ---- Run control -------------------------------------------------------
# Impossible target: the budget is spent. A target wider than any spread
# of a 20 ms sleep (999%): reached at the first check, after --min-runs.
expect_status 0 "--target-width 0.0001 stops at --max-runs" "$HSW" ab --min-runs 5 --max-runs 7 \
    --target-width 0.0001 --warmup 0 --counted-runs 0 -b system,jemalloc --json -- sleep 0.02
check "  7 timed rounds, stopped by the budget" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["runs"] == 7 and d["stopped"] == "run budget spent before the target width", d
assert all(b["ok"] == 7 for b in d["backends"])' "$work/out"
expect_status 0 "--target-width=999 stops at --min-runs" "$HSW" ab --min-runs=5 --max-runs=9 \
    --target-width=999 --warmup=0 --counted-runs=0 -b system,jemalloc --json -- sleep 0.02
check "  5 timed rounds, target reached" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["runs"] == 5 and d["stopped"] == "target width reached" and d["target_width"] == 9.99, d' \
    "$work/out"
expect_status 0 "-n 3 runs exactly 3 (too few for a verdict)" "$HSW" ab -n 3 --warmup 0 \
    --counted-runs 0 -b system,jemalloc --json -- true
check "  not enough data, 2 more runs" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
w = d["backends"][1]["metrics"]["wall_seconds"]
assert d["runs"] == 3 and w["verdict"] == "not_enough_data" and w["runs_needed"] == 2, w' "$work/out"

# ---- Several processes: calls summed, peak live of the root ------------
expect_status 0 "ab of a command running two processes" "$HSW" ab -n 1 --warmup 0 -b system \
    --json -- sh -c '"$1" 1000 1 >/dev/null; exec "$1" 1000 1' sh "$WORKLOAD"
cp "$work/out" "$work/two.json"
expect_status 0 "ab of one process" "$HSW" ab -n 1 --warmup 0 -b system --json -- \
    "$WORKLOAD" 1000 1
if python3 - "$work/two.json" "$work/out" <<'PY'
import json, sys
two = json.load(open(sys.argv[1]))["backends"][0]["metrics"]
one = json.load(open(sys.argv[2]))["backends"][0]["metrics"]
assert two["processes"]["median"] >= 2, two["processes"]
assert 1.9 * one["allocs"]["median"] < two["allocs"]["median"] < 2.2 * one["allocs"]["median"], (one["allocs"], two["allocs"])
assert two["peak_live_bytes"]["median"] < 1.5 * one["peak_live_bytes"]["median"] + 65536, (one["peak_live_bytes"], two["peak_live_bytes"])
PY
then ok "several processes: calls summed, peak live of the root"
else fail "several processes: $(head -c 600 "$work/two.json")"
fi

# ---- Text --------------------------------------------------------------
expect_status 0 "ab (text) -b jemalloc,system" \
    "$HSW" ab -n 5 --warmup 1 -b jemalloc,system -- "$WORKLOAD" 500 1
check "text: which runs gave what, baseline jemalloc, a ratio, interval and verdict for system" \
    sh -c "grep -q '^wall time (timed runs)' '$work/out' &&
           grep -q '^allocations (counted runs)' '$work/out' &&
           grep -q '^  timed runs (wall, CPU, max RSS): jemalloc: LD_PRELOAD=' '$work/out' &&
           grep -q '^  counted runs (allocation figures): libheapswitch' '$work/out' &&
           grep -Eq '^  system .*x \[[0-9.]+, [0-9.]+\]  (jemalloc better|system better|no difference detected)' '$work/out'"

# ---- Failing runs: reported with their status, never averaged in --------
expect_status 1 "a command that exits 3: ab exits 1" \
    "$HSW" ab -n 2 --warmup 0 -b system,jemalloc --json -- sh -c 'exit 3'
cp "$work/out" "$work/fail.json"
if python3 - "$work/fail.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for b in data["backends"]:
    assert b["ok"] == 0 and b["failed"] == 2 and b["counted_failed"] == 1, b
    assert all(s["ok"] is False and s["exit_code"] == 3 for s in b["samples"]), b["samples"]
    assert all(s["status"] == "exit status 3" for s in b["samples"])
    assert b["metrics"]["wall_seconds"]["median"] is None and b["metrics"]["wall_seconds"]["n"] == 0
    assert b["metrics"]["wall_seconds"]["verdict"] == "not_enough_data"
PY
then ok "failed runs: status 3, no median, not enough data"
else fail "failed runs: $(head -c 600 "$work/fail.json")"
fi
expect_status 1 "a command that fails (text)" \
    "$HSW" ab -n 1 --warmup 0 -b system -- sh -c 'exit 3'
check "text: the failed run and its status" grep -q "timed run 1 exit status 3" "$work/out"
: >"$work/count"
expect_status 1 "every other run fails" "$HSW" ab -n 4 --warmup 0 --counted-runs 0 -b system \
    --json -- sh -c 'echo x >>"$1"; test $(($(wc -l <"$1") % 2)) = 0 || exit 4' sh "$work/count"
if python3 - "$work/out" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["backends"][0]
assert b["ok"] == 2 and b["failed"] == 2, b
assert b["metrics"]["wall_seconds"]["n"] == 2
assert [s["ok"] for s in b["samples"]] == [False, True, False, True], b["samples"]
PY
then ok "two failed runs of four left out; two measured"
else fail "mixed runs: $(head -c 600 "$work/out")"
fi
expect_status 1 "a command killed by a signal" env HEAPSWITCH_TAG="$TAG" "$HSW" ab -n 1 \
    --warmup 0 -b system --json -- sh -c 'kill -KILL $$'
check "killed: reported with its signal" grep -q '"signal":9' "$work/out"
"$HSW" stat -i 0.1 --json >"$work/left.json" 2>/dev/null
check "killed: its segment is not left behind" python3 -c '
import json, sys
left = [p for p in json.load(open(sys.argv[1]))["processes"] if p["tag"] == sys.argv[2]]
sys.exit(1 if left else 0)' "$work/left.json" "$TAG"

expect_error 127 "a missing command exits 127" "$HSW" ab -n 1 -- ./no-such-command-here

# ---- Bad input: one line, exit 2 ----------------------------------------
expect_error 2 "unknown backend" "$HSW" ab -b system,tcmalloc -- true
expect_error 2 "a backend listed twice" "$HSW" ab -b system,system -- true
expect_error 2 "missing --" "$HSW" ab -n 2 true
expect_error 2 "nothing after --" "$HSW" ab -n 2 --
expect_error 2 "-n abc" "$HSW" ab -n abc -- true
expect_error 2 "-n 0" "$HSW" ab -n 0 -- true
expect_error 2 "--runs=0" "$HSW" ab --runs=0 -- true
expect_error 2 "--warmup -1" "$HSW" ab --warmup -1 -- true
expect_error 2 "--warmup x" "$HSW" ab --warmup x -- true
expect_error 2 "--max-runs below --min-runs" "$HSW" ab --min-runs 5 --max-runs 4 -- true
expect_error 2 "--target-width 0" "$HSW" ab --target-width 0 -- true
expect_error 2 "--target-width abc" "$HSW" ab --target-width abc -- true
expect_error 2 "--confidence 100" "$HSW" ab --confidence 100 -- true
expect_error 2 "--min-effect -1" "$HSW" ab --min-effect -1 -- true
expect_error 2 "--timing sometimes" "$HSW" ab --timing sometimes -- true
expect_error 2 "--stats everything" "$HSW" ab --stats everything -- true
expect_error 2 "unknown option" "$HSW" ab --frobnicate -- true
expect_error 2 "--svg without a file" "$HSW" ab --svg
expect_error 1 "--svg into a missing directory (before any run)" \
    "$HSW" ab -n 1 --warmup 0 -b system --svg "$work/no/such/dir.svg" -- touch "$work/ran"
check "  nothing was run" test ! -e "$work/ran"
expect_status 0 "--help" "$HSW" ab --help
check "  the help lists the run-control options" \
    sh -c "grep -q -- '--target-width PCT' '$work/out' && grep -q -- '--min-runs N' '$work/out'"

finish
