# heapswitch ab: JSON, CSV and SVG results of an A/B comparison, failing
# runs reported and left out, bad input.
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

expect_status 0 "ab --json of the workload under system and jemalloc" \
    "$HSW" ab -n 2 --warmup 0 -b system,jemalloc --json --svg "$work/chart.svg" \
    -- "$WORKLOAD" 3000 1
cp "$work/out" "$work/ab.json"
if python3 - "$work/ab.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
assert data["runs"] == 2 and data["warmup"] == 0, data
assert data["baseline"] == "system"
names = [b["backend"] for b in data["backends"]]
assert names == ["system", "jemalloc"], names
for b in data["backends"]:
    assert b["ok"] == 2 and b["failed"] == 0, b
    m = b["metrics"]
    for key in ("wall_seconds", "cpu_seconds", "max_rss_bytes", "allocs", "bytes_requested"):
        s = m[key]
        assert s["n"] == 2, (key, s)
        assert s["min"] <= s["median"] <= s["max"], (key, s)
        assert s["median"] > 0, (key, s)
        assert s["ratio"] is not None and s["ratio"] > 0, (key, s)
        assert isinstance(s["within_noise"], bool), (key, s)
    # calls come from the HEAPSWITCH_REPORT lines: the workload makes
    # thousands of allocations per request.
    assert m["allocs"]["median"] > 3000, m["allocs"]
    assert m["frees"]["median"] > 3000, m["frees"]
    assert m["peak_live_bytes"]["median"] > 0, m["peak_live_bytes"]
    assert m["processes"]["median"] == 1, m["processes"]
    assert len(b["samples"]) == 2 and all(s["ok"] for s in b["samples"]), b["samples"]
base = data["backends"][0]["metrics"]
assert base["wall_seconds"]["ratio"] == 1 and base["wall_seconds"]["within_noise"] is True
other = data["backends"][1]["metrics"]["wall_seconds"]
expected = other["median"] / base["wall_seconds"]["median"]
assert abs(other["ratio"] - expected) < 1e-6 * expected, (other, expected)
# Identical allocation counts under both backends: the same program.
assert data["backends"][1]["metrics"]["allocs"]["ratio"] == 1
print("ratios: wall %.2f, allocs %.2f" % (other["ratio"], data["backends"][1]["metrics"]["allocs"]["ratio"]))
PY
then ok "--json: two backends, medians, calls from the reports, ratios"
else fail "--json: $(head -c 600 "$work/ab.json")"
fi

if python3 - "$work/chart.svg" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
groups = [g for g in root.iter(ns + "g") if g.get("class") == "metric"]
assert [g.get("id") for g in groups] == ["wall_seconds", "cpu_seconds", "max_rss_bytes", "allocs"], groups
for g in groups:
    bars = g.findall(ns + "rect")
    assert len(bars) == 2, (g.get("id"), len(bars))
    texts = " ".join(t.text or "" for t in g.iter(ns + "text"))
    assert "system" in texts and "jemalloc" in texts and "x" in texts, texts
PY
then ok "--svg: a well-formed SVG, four groups of two bars with labels"
else fail "--svg is not the expected SVG"
fi

# A command of several processes: calls summed over all, peak live of the
# root process (sh, which execs the second workload in place).
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
# Summed: about twice one workload's calls (sh adds a few of its own).
assert 1.9 * one["allocs"]["median"] < two["allocs"]["median"] < 2.2 * one["allocs"]["median"], (one["allocs"], two["allocs"])
# Not summed: the root's peak, one workload's.
assert two["peak_live_bytes"]["median"] < 1.5 * one["peak_live_bytes"]["median"] + 65536, (one["peak_live_bytes"], two["peak_live_bytes"])
PY
then ok "several processes: calls summed, peak live of the root"
else fail "several processes: $(head -c 600 "$work/two.json")"
fi

# The default text output.
expect_status 0 "ab (text) -b jemalloc,system" \
    "$HSW" ab -n 1 --warmup 1 -b jemalloc,system -- "$WORKLOAD" 500 1
check "text: wall time block, baseline jemalloc, a ratio for system" \
    sh -c "grep -q '^wall time' '$work/out' && grep -q '^  system .*x' '$work/out'"

# --csv: a header and one line per backend and metric.
expect_status 0 "ab --csv" "$HSW" ab -n 2 --warmup 0 -b system,jemalloc --csv -- "$WORKLOAD" 500 1
cp "$work/out" "$work/ab.csv"
if python3 - "$work/ab.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows, "no rows"
assert set(r["backend"] for r in rows) == {"system", "jemalloc"}
wall = {r["backend"]: r for r in rows if r["metric"] == "wall_seconds"}
assert float(wall["system"]["ratio"]) == 1.0
assert float(wall["jemalloc"]["median"]) > 0 and wall["jemalloc"]["ok"] == "2"
assert float([r for r in rows if r["metric"] == "allocs"][0]["median"]) > 500
PY
then ok "--csv parses, with medians and ratios"
else fail "--csv: $(head -c 600 "$work/ab.csv")"
fi

# A failing command: reported with its status, never averaged in.
expect_status 1 "a command that exits 3: ab exits 1" \
    "$HSW" ab -n 2 --warmup 0 -b system,jemalloc --json -- sh -c 'exit 3'
cp "$work/out" "$work/fail.json"
if python3 - "$work/fail.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for b in data["backends"]:
    assert b["ok"] == 0 and b["failed"] == 2, b
    assert all(s["ok"] is False and s["exit_code"] == 3 for s in b["samples"]), b["samples"]
    assert all(s["status"] == "exit status 3" for s in b["samples"])
    assert b["metrics"]["wall_seconds"]["median"] is None, b["metrics"]["wall_seconds"]
    assert b["metrics"]["wall_seconds"]["n"] == 0
PY
then ok "failed runs: status 3, no median"
else fail "failed runs: $(head -c 600 "$work/fail.json")"
fi
expect_status 1 "a command that fails (text)" \
    "$HSW" ab -n 1 --warmup 0 -b system -- sh -c 'exit 3'
check "text: the failed run and its status" grep -q "run 1 exit status 3" "$work/out"
# Only some runs fail: the figures are those of the others.
: >"$work/count"
expect_status 1 "every other run fails" "$HSW" ab -n 4 --warmup 0 -b system --json -- \
    sh -c 'echo x >>"$1"; test $(($(wc -l <"$1") % 2)) = 0 || exit 4' sh "$work/count"
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
expect_status 1 "a command killed by a signal" \
    env HEAPSWITCH_TAG="$TAG" "$HSW" ab -n 1 --warmup 0 -b system --json -- sh -c 'kill -KILL $$'
check "killed: reported with its signal" grep -q '"signal":9' "$work/out"
"$HSW" stat -i 0.1 --json >"$work/left.json" 2>/dev/null
check "killed: its segment is not left behind" python3 -c '
import json, sys
left = [p for p in json.load(open(sys.argv[1]))["processes"] if p["tag"] == sys.argv[2]]
sys.exit(1 if left else 0)' "$work/left.json" "$TAG"

# A command that cannot be run.
expect_error 127 "a missing command exits 127" "$HSW" ab -n 1 -- ./no-such-command-here

# Bad input: one line, exit 2.
expect_error 2 "unknown backend" "$HSW" ab -b system,tcmalloc -- true
expect_error 2 "a backend listed twice" "$HSW" ab -b system,system -- true
if ! hsw_backend_built arena; then
    expect_error 2 "a backend not in this build" "$HSW" ab -b arena -- true
fi
expect_error 2 "missing --" "$HSW" ab -n 2 true
expect_error 2 "nothing after --" "$HSW" ab -n 2 --
expect_error 2 "-n abc" "$HSW" ab -n abc -- true
expect_error 2 "-n 0" "$HSW" ab -n 0 -- true
expect_error 2 "--warmup -1" "$HSW" ab --warmup -1 -- true
expect_error 2 "--warmup x" "$HSW" ab --warmup x -- true
expect_error 2 "unknown option" "$HSW" ab --frobnicate -- true
expect_error 2 "--svg without a file" "$HSW" ab --svg
expect_error 1 "--svg into a missing directory (before any run)" \
    "$HSW" ab -n 1 --warmup 0 -b system --svg "$work/no/such/dir.svg" -- touch "$work/ran"
check "  nothing was run" test ! -e "$work/ran"

expect_status 0 "--help" "$HSW" ab --help

finish
