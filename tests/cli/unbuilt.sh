# A backend this build lacks, named on the command line: `run -b` and
# `ab -b` refuse it with "not available in this build" (exit 2) rather
# than "not a backend". Only a build configured without jemalloc or
# mimalloc can check this; in a full build the test is skipped (77) and
# says so.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"

missing=
for backend in jemalloc mimalloc; do
    hsw_backend_built "$backend" || missing="$missing $backend"
done
if [ -z "$missing" ]; then
    echo "SKIP: every backend is in this build; configure --without-jemalloc or" \
        "--without-mimalloc to check the 'not in this build' errors of run and ab"
    exit 77
fi
for backend in $missing; do
    expect_error 2 "run -b $backend (not in this build)" "$HSW" run -b "$backend" -- true
    check "  says so" grep -q "not available in this build" "$work/err"
    expect_error 2 "ab -b system,$backend (not in this build)" \
        "$HSW" ab -b "system,$backend" -- true
    check "  says so" grep -q "not available in this build" "$work/err"
done
finish
