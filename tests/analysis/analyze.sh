#!/bin/sh
# Static analysis: cppcheck and clang-tidy (checks in .clang-tidy) over the
# C sources of lib/, backends/ and dashboard/. Each finding fails. A false
# positive is suppressed where it is reported, with a comment saying why
# (cppcheck: "// cppcheck-suppress ID"; clang-tidy: "// NOLINT(check)").
#
# A test of make check (skipped, exit 77, when neither tool is installed)
# and `make analyze` (ANALYZE_REQUIRED=1: a missing tool is an error).
# Runs from the build directory; needs config.h there (configure's).
set -u
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(pwd)
jobs=${ANALYZE_JOBS:-2}
required=${ANALYZE_REQUIRED:-0}
ran=0 failed=0

missing() {
    if [ "$required" = 1 ]; then
        echo "FAIL: $1 is not installed"
        failed=1
    else
        echo "SKIP: $1 is not installed"
    fi
}

if [ ! -f "$builddir/config.h" ]; then
    echo "FAIL: no config.h in $builddir (run configure first)"
    exit 99
fi

sources=$(cd "$srcdir" && ls lib/*.c backends/*.c dashboard/*.c)

if command -v cppcheck >/dev/null 2>&1; then
    ran=1
    if (cd "$srcdir" && cppcheck -q --enable=warning,performance,portability \
            --error-exitcode=1 --inline-suppr -I"$builddir" -I. -Iinclude \
            --suppress=missingIncludeSystem -j"$jobs" lib/ backends/ dashboard/); then
        echo "ok: cppcheck"
    else
        echo "FAIL: cppcheck found the above"
        failed=1
    fi
else
    missing cppcheck
fi

tidy=
for name in clang-tidy clang-tidy-14 clang-tidy-15 clang-tidy-16; do
    if command -v "$name" >/dev/null 2>&1; then tidy=$name; break; fi
done
if [ -n "$tidy" ]; then
    ran=1
    out=$(mktemp "${TMPDIR:-/tmp}/heapswitch-tidy.XXXXXX") || exit 99
    # One file per call, two at a time; the flags are the build's (config.h
    # from the build directory, the dashboard's ncurses feature macros).
    (cd "$srcdir" && for file in $sources; do echo "$file"; done |
        xargs -P"$jobs" -n1 sh -c '
            case $1 in
                dashboard/*) extra="-D_DEFAULT_SOURCE -D_XOPEN_SOURCE=600 -DHSW_LIBDIR=\"/usr/local/lib\"" ;;
                *) extra= ;;
            esac
            "$0" --quiet --config-file=.clang-tidy "$1" -- -std=gnu11 -DHAVE_CONFIG_H \
                -I"'"$builddir"'" -I. -Iinclude $extra 2>&1 || echo "clang-tidy failed on $1"
        ' "$tidy") >"$out" 2>&1
    # clang-tidy prints "N warnings generated." for diagnostics it hides
    # (system headers); only what it reports for our files counts.
    if grep -q -E 'warning:|error:|clang-tidy failed on' "$out"; then
        grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' "$out"
        echo "FAIL: clang-tidy found the above"
        failed=1
    else
        echo "ok: clang-tidy ($tidy, $(echo "$sources" | wc -w) files)"
    fi
    rm -f "$out"
else
    missing clang-tidy
fi

if [ "$ran" = 0 ] && [ "$required" != 1 ]; then
    exit 77
fi
exit "$failed"
