#!/bin/sh
# make check-sanitize: builds a second copy of the tree in _sanitize/ where
# the reader library, the heapswitch command and the
# reader's test programs that are never preloaded are compiled with
# ASan and UBSan; libheapswitch.so itself and the programs it is preloaded
# into (hold, workload) are built without them. Then runs
# tests/dashboard/*.sh, tests/cli/*.sh, tests/containers/*.sh and
# tests/siteview/*.sh from that copy against its sanitized heapswitch, and
# tests/unit/rates, tests/unit/stats, tests/unit/ab_model,
# tests/unit/report_parse, tests/unit/metrics and tests/unit/containers,
# and the latency views' tests/latency/top.sh and tests/unit/latency. Any
# sanitizer report fails.
#
# Usage (from the top build directory): check-sanitize.sh SRCDIR
set -u
srcdir=$(cd "${1:-.}" && pwd) || exit 2
top=$(pwd)
dir=$top/_sanitize
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
jobs=${SANITIZE_JOBS:-2}

# A copy of the source tree, configured in place: the top directory is
# itself configured in place, which rules out a VPATH build from it. The
# copy is refreshed on every run (timestamps kept, so make rebuilds only
# what changed); build products are not copied.
mkdir -p "$dir" || exit 2
(cd "$srcdir" && tar -cf - --exclude=./.git --exclude=./_sanitize \
    --exclude=./autom4te.cache --exclude='*.o' --exclude='*.lo' --exclude='*.la' \
    --exclude=.libs --exclude=.deps --exclude='*.log' --exclude='*.trs' \
    --exclude='*.bt' --exclude=./Makefile --exclude=./config.status \
    --exclude=./config.h --exclude=./libtool --exclude=./stamp-h1 \
    --exclude=./tests/testenv.sh --exclude=./heapswitch.pc .) |
    (cd "$dir" && tar -xf -) || { echo "check-sanitize: cannot copy the tree"; exit 2; }
cd "$dir" || exit 2
log=$dir/build.log
if [ ! -f Makefile ]; then
    echo "check-sanitize: configuring a copy of the tree in $dir"
    ./configure --enable-werror --disable-fuzzer >"$log" 2>&1 ||
        { tail -20 "$log"; echo "check-sanitize: configure failed"; exit 1; }
    # Programs copied from the top build (libtool wrappers) are stale.
    make clean >>"$log" 2>&1
fi
echo "check-sanitize: building (log: $log)"
# Not sanitized: the library and the programs it is preloaded into or
# linked with.
make -j"$jobs" lib/libheapswitch.la tests/segment/hold examples/workload examples/request_server \
    tests/siteview/sitegen >>"$log" 2>&1 || { tail -30 "$log"; echo "check-sanitize: build failed"; exit 1; }
# Sanitized: everything that reads segments without being preloaded. The
# object files are distinct from libheapswitch's (per-target names), so
# nothing built above is rebuilt here.
sanitized="lib/libheapswitch-reader.la dashboard/heapswitch tests/unit/rates tests/unit/stats
    tests/unit/ab_model tests/unit/report_parse tests/tools/reportread tests/unit/metrics
    tests/tools/segread tests/unit/containers tests/unit/latency"
# Rebuild them whenever this runs, so that they surely carry the flags.
rm -f lib/libheapswitch_reader_la-*.lo lib/libheapswitch_reader_la-*.o \
    lib/.libs/libheapswitch_reader_la-*.o dashboard/*.o tests/unit/rates.o tests/unit/stats.o \
    tests/unit/ab_model.o tests/unit/report_parse.o tests/tools/reportread.o \
    tests/unit/metrics.o tests/tools/segread.o tests/unit/containers.o lib/labels.o \
    lib/segment_place.o lib/lock_holders.o lib/procinfo.o tests/unit/latency.o
make -j"$jobs" CFLAGS="-g -O1 $SAN" LDFLAGS="$SAN" $sanitized >>"$log" 2>&1 ||
    { tail -30 "$log"; echo "check-sanitize: sanitized build failed"; exit 1; }
real=dashboard/.libs/heapswitch
[ -x "$real" ] || real=dashboard/heapswitch
if ! nm -D "$real" 2>/dev/null | grep -q __asan_init &&
   ! nm "$real" 2>/dev/null | grep -q __asan_init; then
    echo "check-sanitize: $real is not built with ASan"
    exit 1
fi
if nm -D lib/.libs/libheapswitch.so | grep -q __asan; then
    echo "check-sanitize: lib/.libs/libheapswitch.so must not be built with ASan"
    exit 1
fi

# verify_asan_link_order=0: tests/cli/run.sh runs the command itself with
# LD_PRELOAD=libm.so.6, which ASan would refuse before main().
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0:log_path=$dir/asan
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$dir/ubsan
LSAN_OPTIONS=${LSAN_OPTIONS:-}
# The command under test, through a wrapper: a process cannot have both
# ASan and libheapswitch's malloc, so the one check that runs the command
# itself with libheapswitch in LD_PRELOAD (tests/cli/run.sh, "not added
# twice") gets the top build's plain command, told to use this copy's
# library; everything else the sanitized one.
cat >"$dir/heapswitch-under-test" <<WRAPPER || exit 2
#!/bin/sh
case " \$LD_PRELOAD " in
    *libheapswitch*) HEAPSWITCH_LIBRARY=\${HEAPSWITCH_LIBRARY:-$dir/lib/.libs/libheapswitch.so} \\
        exec "$top/dashboard/heapswitch" "\$@" ;;
esac
exec "$dir/dashboard/heapswitch" "\$@"
WRAPPER
chmod +x "$dir/heapswitch-under-test" || exit 2
HSW_COMMAND=$dir/heapswitch-under-test
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS HSW_COMMAND
rm -rf "$dir"/asan.* "$dir"/ubsan.* "$dir/logs"
mkdir -p "$dir/logs" || exit 2

passed=0 failed=0 skipped=0 failed_names=
for script in "$dir"/tests/dashboard/*.sh "$dir"/tests/cli/*.sh "$dir"/tests/containers/*.sh \
    "$dir"/tests/siteview/*.sh \
    tests/unit/rates tests/unit/stats tests/unit/ab_model tests/unit/report_parse tests/unit/metrics \
    tests/unit/containers "$dir"/tests/latency/top.sh tests/unit/latency; do
    case $script in */common.sh | */*_common.sh) continue ;; esac
    name=${script#"$dir"/}
    out=$dir/logs/$(echo "$name" | tr / _).log
    case $script in
        */containers/*.sh) # the writer under the system backend, as the runner would
            HEAPSWITCH_BACKEND=system HSW_PRELOAD=$dir/lib/.libs/libheapswitch.so \
                ${SHELL:-/bin/sh} "$script" >"$out" 2>&1 ;;
        *.sh) ${SHELL:-/bin/sh} "$script" >"$out" 2>&1 ;;
        *) "$script" >"$out" 2>&1 ;;
    esac
    status=$?
    case $status in
        0) passed=$((passed + 1)); echo "PASS: $name" ;;
        77) skipped=$((skipped + 1)); echo "SKIP: $name" ;;
        *) failed=$((failed + 1)); failed_names="$failed_names $name"
           echo "FAIL: $name (exit $status, log $out)"; grep -v '^ok: ' "$out" | tail -15 ;;
    esac
done

reports=$(ls "$dir"/asan.* "$dir"/ubsan.* 2>/dev/null)
# A failing test may be stopped by a sanitizer (its stderr captured in the
# log), or a child (heapswitch run's) may report to the log_path files.
reports="$reports $(grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
    "$dir"/logs/*.log 2>/dev/null)"
for report in $reports; do
    echo "---- sanitizer report: $report"
    head -40 "$report"
done
report_count=$(echo $reports | wc -w)
echo "check-sanitize: $passed passed, $failed failed, $skipped skipped;" \
    "sanitizer reports: $report_count"
[ "$failed" -eq 0 ] && [ "$report_count" -eq 0 ]
