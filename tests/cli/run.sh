# heapswitch run: exit statuses, LD_PRELOAD, the backend really in use,
# bad input.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"
REPORTREAD=$abs_top_builddir/tests/tools/reportread

# Exit status passthrough.
expect_status 0 "run -- true" "$HSW" run -- true
expect_status 7 "the command's exit status passes through" "$HSW" run -- sh -c 'exit 7'
expect_error 127 "a missing command exits 127" "$HSW" run -- ./no-such-command-here
printf '#!/bin/sh\nexit 0\n' >"$work/not-executable"
chmod 644 "$work/not-executable"
expect_error 126 "a file that is not executable exits 126" "$HSW" run -- "$work/not-executable"
expect_error 126 "a directory exits 126" "$HSW" run -- "$work"

# LD_PRELOAD: the library first, an existing preload kept after it.
"$HSW" run -- sh -c 'printf "%s\n" "$LD_PRELOAD"' >"$work/preload" 2>&1
case $(cat "$work/preload") in
    /*libheapswitch.so*) ok "LD_PRELOAD set to the library: $(cat "$work/preload")" ;;
    *) fail "LD_PRELOAD is '$(cat "$work/preload")'" ;;
esac
LD_PRELOAD=libm.so.6 "$HSW" run -- sh -c 'printf "%s\n" "$LD_PRELOAD"' >"$work/preload" 2>&1
set -- $(cat "$work/preload")
case "$1|$2|$#" in
    /*libheapswitch.so*"|libm.so.6|2") ok "prepended to an existing LD_PRELOAD: $*" ;;
    *) fail "LD_PRELOAD with an existing one is '$*'" ;;
esac
library=$1
LD_PRELOAD="$library libm.so.6" "$HSW" run -- sh -c 'printf "%s\n" "$LD_PRELOAD"' \
    >"$work/preload" 2>&1
count=$(tr ' ' '\n' <"$work/preload" | grep -c libheapswitch)
check "not added twice when already preloaded ($(cat "$work/preload"))" test "$count" = 1
# The same file by another name (the unversioned symlink, a relative path).
LD_PRELOAD="lib/.libs/libheapswitch.so:libm.so.6" "$HSW" run -- sh -c 'printf "%s\n" "$LD_PRELOAD"' \
    >"$work/preload" 2>&1
count=$(tr ' :' '\n\n' <"$work/preload" | grep -c libheapswitch)
check "not added twice when preloaded by another name ($(cat "$work/preload"))" test "$count" = 1

# The backend is really in use: the report line, and the library's own
# answer (python3 ctypes).
for backend in system jemalloc mimalloc; do
    hsw_backend_built "$backend" || continue
    rm -f "$work/report"
    # Every call timed (HEAPSWITCH_LATENCY=1): the latency figures are given too.
    expect_status 5 "run -b $backend --report: status 5" \
        env HEAPSWITCH_LATENCY=1 "$HSW" run -b "$backend" -t "$TAG" --report "$work/report" -- "$HOLD" run 25 5
    # Read back with the library's own parser (heapswitch_report_parse):
    # the writer's keys are the parser's. At the default level the bytes
    # allocated and freed (fields 14, 15) may be null by design; at the
    # exact level every figure must be given and known.
    read=$("$REPORTREAD" "$work/report" 2>&1)
    case $read in
        *"backend=$backend tag=$TAG stats=default "*"absent=none" | \
        *"backend=$backend tag=$TAG stats=default "*"absent=14,15")
            ok "the report, parsed, says backend $backend, tag $TAG, the default level" ;;
        *) fail "the report of -b $backend: $read / $(cat "$work/report" 2>/dev/null)" ;;
    esac
    rm -f "$work/report"
    HEAPSWITCH_STATS=exact HEAPSWITCH_LATENCY=1 "$HSW" run -b "$backend" -t "$TAG" --report "$work/report" -- \
        "$HOLD" run 25 0 >/dev/null 2>&1
    read=$("$REPORTREAD" "$work/report" 2>&1)
    case $read in
        *"backend=$backend tag=$TAG stats=exact "*"absent=none")
            ok "at the exact level every figure the writer gives is one the parser knows" ;;
        *) fail "the exact report of -b $backend: $read / $(cat "$work/report" 2>/dev/null)" ;;
    esac
    if have_python; then
        got=$("$HSW" run -b "$backend" -- python3 -c '
import ctypes
f = ctypes.CDLL(None).heapswitch_backend_name
f.restype = ctypes.c_char_p
print(f().decode())' 2>"$work/err")
        check "python3 under -b $backend: heapswitch_backend_name() = '$got'" \
            test "$got" = "$backend"
    fi
done
HEAPSWITCH_BACKEND=jemalloc "$HSW" run --report "$work/report2" -- "$HOLD" run 3 >/dev/null
if hsw_backend_built jemalloc; then
    check "without -b, HEAPSWITCH_BACKEND is kept" grep -q '"backend":"jemalloc"' "$work/report2"
fi
# --strict: a backend the library cannot use (here: an unknown name from
# the environment, which run does not check) stops the command instead of
# falling back to system.
HEAPSWITCH_BACKEND=no-such-backend "$HSW" run --strict -- sh -c 'exit 0' 2>"$work/err"
status=$?
check "--strict with an unusable backend from the environment exits 1 ($status)" \
    test "$status" = 1
check "  the library says why" grep -q "no-such-backend.*HEAPSWITCH_STRICT" "$work/err"
HEAPSWITCH_BACKEND=no-such-backend "$HSW" run -- sh -c 'exit 0' 2>"$work/err"
status=$?
check "without --strict the same command falls back and runs ($status)" test "$status" = 0
check "  with a warning" grep -q "no-such-backend.*using system" "$work/err"
# (A backend named on the command line but not in this build is checked
# in tests/cli/unbuilt.sh, which can run only in a build that lacks one.)

# --opt=value forms, as getopt_long parses them.
rm -f "$work/report3"
expect_status 0 "run --backend=system --tag=T --report=FILE" \
    "$HSW" run --backend=system --tag="$TAG" --report="$work/report3" -- true
check "  the report has the tag" grep -q "\"tag\":\"$TAG\"" "$work/report3"
expect_error 126 "not executable: the error names exec's reason" "$HSW" run -- "$work/not-executable"
check "  'Permission denied' (errno read before printing)" grep -q "Permission denied" "$work/err"

# Bad input: one line, exit 2.
expect_error 2 "unknown backend" "$HSW" run -b tcmalloc -- true
grep -q "tcmalloc" "$work/err" || fail "  the message names the backend"
expect_error 2 "unknown option" "$HSW" run --frobnicate -- true
expect_error 2 "missing --" "$HSW" run true
expect_error 2 "nothing after --" "$HSW" run --
expect_error 2 "nothing at all" "$HSW" run
expect_error 2 "-b without a value" "$HSW" run -b
expect_error 2 "--tag without a value" "$HSW" run --tag
grep -q -- "--tag needs a value" "$work/err" || fail "  the message names --tag"
expect_error 2 "an unknown --option=value" "$HSW" run --frobnicate=3 -- true
expect_error 2 "a tag with a space" "$HSW" run -t "a b" -- true
expect_error 2 "an empty --report" "$HSW" run --report "" -- true
expect_status 0 "--help" "$HSW" run --help
expect_error 2 "an unknown subcommand" "$HSW" frobnicate

finish
