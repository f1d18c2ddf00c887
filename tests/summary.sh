#!/bin/sh
# Prints the closing line of a test run, "N passed, N failed, N skipped",
# from the .trs files automake's test driver wrote for each test.
set -u
passed=0 failed=0 skipped=0
for trs in "$@"; do
    [ -f "$trs" ] || { failed=$((failed + 1)); continue; }
    case $(sed -n 's/^:test-result: //p' "$trs" | head -n 1) in
        PASS | XFAIL) passed=$((passed + 1)) ;;
        SKIP) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
echo "$passed passed, $failed failed, $skipped skipped"
