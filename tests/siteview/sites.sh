# heapswitch sites: sites of real return addresses (tests/siteview/sitegen)
# named by function and file:line, through an inlined call, a shared
# library, C++ (demangled), under libc's qsort (libc frames skipped); a
# stripped and a deleted binary as module+0xOFFSET; python3's own
# functions; totals, rates, --sort, --live, --limit, --stacks, --json and
# --folded; every refusal with its exit status.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"

SITEGEN=$abs_top_builddir/tests/siteview/sitegen
SRC=$abs_top_srcdir/tests/siteview

# start_sitegen NAME COMMAND...: runs a generator, sets $pid from its "pid" line.
start_sitegen() {
    name=$1
    shift
    "$@" >"$work/$name.out" 2>"$work/$name.err" &
    track $!
    pid=
    if wait_for 10 grep -qs '^pid ' "$work/$name.out"; then
        pid=$(sed -n 's/^pid //p' "$work/$name.out")
    else
        fail "$name did not start: $(cat "$work/$name.err")"
        finish
    fi
}
segment_of() { echo "/dev/shm/heapswitch-$(id -u)-$1"; }
line_of() { grep -n "$1" "$2" | head -n 1 | cut -d: -f1; }

start_sitegen sitegen "$SITEGEN"
plain_line=$(line_of 'capture(SITE_PLAIN' "$SRC/sitegen.c")
inlined_line=$(line_of 'capture(SITE_INLINED' "$SRC/sitegen.c")
outer_line=$(line_of 'return inlined_helper()' "$SRC/sitegen.c")
library_line=$(line_of 'capture(which' "$SRC/sitegen_lib.c")

expect_status 0 "sites PID" "$HSW" sites "$pid"
cp "$work/out" "$work/table"
check "a PIE's function with file:line: plain_site (sitegen.c:$plain_line)" \
    grep -q "plain_site (sitegen.c:$plain_line)" "$work/table"
check "an inlined function names the site: inlined_helper (sitegen.c:$inlined_line)" \
    grep -q "inlined_helper (sitegen.c:$inlined_line)" "$work/table"
check "a shared library's function: sitegen_library_site (sitegen_lib.c:$library_line)" \
    grep -q "sitegen_library_site (sitegen_lib.c:$library_line)" "$work/table"
check "C++ demangled: sitegen_demo::Pool<long>::grow(...)" \
    grep -q "sitegen_demo::Pool<long>::grow(int (\*)(int, int), int) (sitegen_cxx.cc:" "$work/table"
check "libc's frames skipped: the qsort site is named qsort_site" \
    grep -q "  qsort_site (sitegen.c:" "$work/table"
check "the other row" grep -q "\[other" "$work/table"
check "sorted by allocations: inlined (3000) first" \
    sh -c "sed -n 3p '$work/table' | grep -q '3.0k .*inlined_helper'"
check "allocations per request (1000 of plain's, 1099 requests): 0.91" \
    grep -q "0.91  plain_site" "$work/table"

expect_status 0 "sites --stacks" "$HSW" sites --stacks "$pid"
check "--stacks: the inlined call, then its caller at the call's line" \
    sh -c "grep -A1 '(inlined) inlined_helper' '$work/out' | grep -q 'outer_of_inlined (sitegen.c:$outer_line)'"
check "--stacks: qsort's stack goes through libc" grep -q "\[libc.so.6\]\|(msort.c:\|(qsort.c:" "$work/out"
check "--stacks: every frame down to main" grep -q "#1  main (sitegen.c:" "$work/out"

expect_status 0 "sites --sort bytes --limit 1" "$HSW" sites --sort bytes --limit 1 "$pid"
check "--sort bytes: C++'s 1000 KiB first" sh -c "sed -n 3p '$work/out' | grep -q 'Pool<long>::grow'"
check "--limit 1: one site and a note of the rest" grep -q "(5 more sites" "$work/out"
expect_status 0 "sites --live" "$HSW" sites --live --limit 6 "$pid"
check "--live: C++'s live bytes first" sh -c "sed -n 3p '$work/out' | grep -q 'Pool<long>::grow'"
check "--live: half of plain's bytes live (31.2 KiB of 62.5 KiB)" \
    grep -q "62.5 KiB   31.2 KiB .*plain_site" "$work/out"

expect_status 0 "sites --json" "$HSW" sites --json "$pid"
if have_python; then
    if python3 - "$work/out" "$plain_line" <<'PY' >"$work/py.err" 2>&1; then
import json, sys
data = json.load(open(sys.argv[1]))
sites = {s["site"].split(" (")[0]: s for s in data["sites"]}
plain = sites["plain_site"]
assert plain["allocations"] == 1000 and plain["bytes"] == 64000, plain
assert plain["live_bytes"] == 32000 and plain["live_blocks"] == 500, plain
assert plain["stack"][0]["function"] == "plain_site", plain["stack"][0]
assert plain["stack"][0]["line"] == int(sys.argv[2]), plain["stack"][0]
assert plain["stack"][0]["file"].endswith("sitegen.c")
assert any(f["function"] == "main" for f in plain["stack"])
assert data["interval_bytes"] == 524288 and data["rates"] is False
assert data["symbols"] == "ok"
other = [s for s in data["sites"] if s["other"]]
assert len(other) == 1 and other[0]["allocations"] == 10 and other[0]["stack"] == []
assert len(data["sites"]) == 6
PY
        ok "--json: exact totals, live figures, a symbolized stack, the other row"
    else
        fail "--json: $(cat "$work/py.err")"
    fi
fi

# Collapsed stacks: "frame;frame;...;frame COUNT", outermost first, as
# flamegraph.pl, inferno and speedscope read them.
expect_status 0 "sites --folded" "$HSW" sites --folded "$pid"
cp "$work/out" "$work/folded"
check "--folded: every line is 'FRAME;...;FRAME COUNT', no empty frame" \
    sh -c "! grep -Ev '^[^;]+(;[^;]+)+ [0-9]+\$' '$work/folded' && ! grep -q ';;' '$work/folded'"
check "--folded: outermost first, down to plain_site" grep -q "^sitegen;.*;main;plain_site 1000\$" "$work/folded"
check "--folded: the inlined call under its caller" grep -q ";outer_of_inlined;inlined_helper 3000\$" "$work/folded"
check "--folded: all sites, 6610 allocations" \
    sh -c "test \"\$(awk '{ n += \$NF } END { print n }' '$work/folded')\" = 6610"
# Rendered by flamegraph.pl where it is installed (it is not in Debian):
# the totals of the frames are the sums of the lines under them.
if command -v flamegraph.pl >/dev/null 2>&1; then
    flamegraph.pl "$work/folded" >"$work/sites.svg" 2>"$work/flamegraph.err"
    check "flamegraph.pl: main holds 6,600 of 6,610" grep -q "<title>main (6,600 samples" "$work/sites.svg"
    check "flamegraph.pl: the inlined call under its caller" \
        grep -q "<title>inlined_helper (3,000 samples" "$work/sites.svg"
fi
expect_status 0 "sites --folded --live" "$HSW" sites --folded --live "$pid"
check "--folded --live: weighted by live bytes (plain's 32000)" grep -q ";main;plain_site 32000\$" "$work/out"

# Rates: a generator whose plain site gains 1000 allocations a second.
start_sitegen growing "$SITEGEN" --grow
expect_status 0 "sites -i 0.5 (rates)" "$HSW" sites -i 0.5 "$pid"
check "-i: per-second columns" grep -q "ALLOCS/s" "$work/out"
check "-i: only the growing site allocates" \
    sh -c "sed -n 3p '$work/out' | grep -q 'plain_site' && ! grep -q '^ *0 .*plain_site' '$work/out'"
check "-i: a site that did not grow shows 0/s" grep -q "^ *0  *0 B .*inlined_helper" "$work/out"

# module+0xOFFSET: a stripped copy (static functions have no symbol left), then deleted.
cp "$SITEGEN" "$work/sg-stripped" && strip "$work/sg-stripped"
start_sitegen stripped "$work/sg-stripped"
expect_status 0 "sites of a stripped binary" "$HSW" sites "$pid"
check "stripped: module+0xOFFSET, the address in the file" grep -Eq "  sg-stripped\+0x[0-9a-f]{3,5}( <|\$)" "$work/out"
check "stripped: the library keeps its symbols" grep -q "sitegen_library_site (sitegen_lib.c" "$work/out"
rm -f "$work/sg-stripped"
expect_status 0 "sites of a deleted binary" "$HSW" sites "$pid"
check "deleted: module+0xOFFSET from where it is mapped" grep -Eq "  sg-stripped \(deleted\)\+0x[0-9a-f]{3,5}( <|\$)" "$work/out"

# python3: frames inside libpython (linked into Debian's /usr/bin/python3,
# a shared libpython3.X.so in other builds) resolve to its functions.
python_case() {
    "$1" -c 'import time; time.sleep(60)' &
    python_pid=$!
    track $python_pid
    sleep 0.5
    address=
    for module in $(awk '$6 ~ /python/ && $6 !~ /lib-dynload/ { print $6 }' "/proc/$python_pid/maps" | sort -u); do
        symbol=$(nm -D --defined-only "$module" 2>/dev/null | awk '$3 == "PyList_New" { print $1 }')
        [ -n "$symbol" ] || continue
        base=0
        if od -An -j16 -N2 -tu2 "$module" | grep -q ' 3$'; then # ET_DYN: add where it is loaded
            base=$(awk -v m="$module" '$6 == m && $3 ~ /^0+$/ { split($1, a, "-"); print a[1]; exit }' "/proc/$python_pid/maps")
        fi
        address=$(printf '%x' $((0x$base + 0x$symbol + 16)))
        break
    done
    if [ -z "$address" ]; then
        ok "$1: no PyList_New among its modules' dynamic symbols: skipped"
        return
    fi
    "$SITEGEN" --pid "$python_pid" "$address" >/dev/null 2>"$work/gen.err" ||
        fail "sitegen --pid: $(cat "$work/gen.err")"
    expect_status 0 "sites of $1 ($(basename "$module"))" "$HSW" sites --stacks "$python_pid"
    check "$1: a frame inside $(basename "$module") named PyList_New" grep -q " PyList_New" "$work/out"
    rm -f "$(segment_of "$python_pid")"
    kill "$python_pid"
}
if command -v nm >/dev/null 2>&1; then
    for python in /usr/bin/python3 $(command -v python3); do
        [ -x "$python" ] && python_case "$python"
    done
fi

# Refusals, each with its own exit status and a one-line message.
expect_error 1 "no segment: exit 1" "$HSW" sites 999999999
check "  it says so" grep -q "publishes no segment" "$work/err"
start_sitegen off "$SITEGEN" --no-sites
expect_error 3 "sampling off: exit 3" "$HSW" sites "$pid"
check "  it says sampling is off" grep -q "sampling is off" "$work/err"
start_sitegen corrupt "$SITEGEN" --bad-capacity
expect_error 4 "a capacity past the section: exit 4" "$HSW" sites "$pid"
check "  it names the capacity" grep -q "capacity 128 does not fit" "$work/err"
expect_error 2 "no PID: usage error" "$HSW" sites
expect_error 2 "two PIDs: usage error" "$HSW" sites 1 2
expect_error 2 "a bad --sort" "$HSW" sites --sort calls 1
expect_error 2 "--limit 0" "$HSW" sites --limit 0 1
expect_error 2 "--json and -i without seconds" "$HSW" sites --json -i
expect_error 2 "not a PID" "$HSW" sites 12x

# An exited process: its sites are read, its symbols are unavailable.
"$SITEGEN" --exit >"$work/exit.out" 2>&1
exited_pid=$(sed -n 's/^pid //p' "$work/exit.out")
expect_status 0 "sites of an exited process" "$HSW" sites "$exited_pid"
check "exited: says its symbols are unavailable" grep -q "has exited: its symbols are unavailable" "$work/out"
check "exited: bare addresses" grep -Eq "  0x[0-9a-f]+( <|\$)" "$work/out"
rm -f "$(segment_of "$exited_pid")"

finish
