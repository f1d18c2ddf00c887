# Exact counts for the test scripts that run tests/segment/hold (sourced
# after ./tests/testenv.sh). hold makes exactly N malloc/free pairs plus
# its own few calls (its stdout buffer); these measure those once, so
# that a count the scripts read back can be checked exactly.

# hold_baseline DIR: runs `hold wait 0` preloaded and reads its counts
# with tests/tools/segread (the reader library alone, not the command
# under test): sets base_malloc, base_free and base_requested, all empty
# if it could not. DIR holds its output.
hold_baseline() {
    base_malloc= base_free= base_requested=
    LD_PRELOAD=$LIBHEAPSWITCH "$abs_top_builddir/tests/segment/hold" wait 0 \
        >"$1/baseline.out" 2>&1 &
    baseline_pid=$!
    baseline_tries=0
    while [ $baseline_tries -lt 100 ] && ! grep -qs '^pid ' "$1/baseline.out"; do
        sleep 0.1
        baseline_tries=$((baseline_tries + 1))
    done
    baseline_line=$("$abs_top_builddir/tests/tools/segread" -p "$baseline_pid" 2>/dev/null)
    kill -USR1 "$baseline_pid" 2>/dev/null
    wait "$baseline_pid"
    for baseline_field in malloc free requested; do
        eval "base_$baseline_field=\$(printf '%s\n' \"\$baseline_line\" | tr ' ' '\n' |
            sed -n 's/^$baseline_field=//p')"
    done
}

# pair_bytes N: the bytes hold's N pairs request (16 + i % 200 each).
pair_bytes() {
    awk -v n="$1" 'BEGIN { s = 0; for (i = 0; i < n; i++) s += 16 + i % 200; print s }'
}
