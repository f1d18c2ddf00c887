#!/bin/sh
# Prints the closing line of a test run, "N passed, N failed, N skipped",
# from the .trs files automake's test driver wrote for each test; before
# it, for each failed test, the lines of its log that say what failed (a
# CI run shows only this output, not the logs).
set -u
passed=0 failed=0 skipped=0
for trs in "$@"; do
    [ -f "$trs" ] || { failed=$((failed + 1)); continue; }
    case $(sed -n 's/^:test-result: //p' "$trs" | head -n 1) in
        PASS | XFAIL) passed=$((passed + 1)) ;;
        SKIP) skipped=$((skipped + 1)) ;;
        *)
            failed=$((failed + 1))
            log=${trs%.trs}.log
            echo "--- ${log}: what failed"
            if [ -f "$log" ]; then
                # The checks' own FAIL lines with the lines that follow
                # (a captured screen, a diff); the log's tail otherwise.
                if grep -q '^FAIL' "$log"; then
                    grep -A 40 '^FAIL' "$log" | head -n 120
                else
                    tail -n 40 "$log"
                fi
            fi
            ;;
    esac
done
echo "$passed passed, $failed failed, $skipped skipped"
