#!/bin/sh
# HEAPSWITCH_REFRESH_THREAD=1: a process that stops allocating keeps fresh
# heap figures (a refresher thread of heapswitch's); without it, the
# figures of an idle process age, and readers say how old they are.
set -u
. "$(dirname "$0")/common.sh"

# heap_age PID: the heap figures' age in seconds, from `heapswitch stat`.
heap_age() {
    "$abs_top_builddir/dashboard/heapswitch" stat --json -i 0.1 "$1" 2>/dev/null |
        sed -n 's/.*"age_seconds":\([0-9.]*\).*/\1/p' | head -n 1
}

# idle_age LABEL: starts hold (100 pairs, then idle) with the caller's
# environment, lets it idle 3 s, and sets age to its figures' age.
idle_age() {
    start_hold "$tmpdir/$1.out" wait 100
    if ! wait_line "$tmpdir/$1.out" pid; then
        fail "$1: hold did not start"
        age=
        return
    fi
    sleep 3
    age=$(heap_age "$line_pid")
    stop_hold "$line_pid"
}

idle_age plain
if is_number "${age%.*}"; then
    if awk -v a="$age" 'BEGIN { exit !(a >= 2.5) }'; then
        ok "without the thread, an idle process's figures age ($age s)"
    else
        fail "without the thread, figures $age s old after 3 s idle"
    fi
else
    fail "no age for the idle process: '$age'"
fi

HEAPSWITCH_REFRESH_THREAD=1
export HEAPSWITCH_REFRESH_THREAD
idle_age thread
if is_number "${age%.*}" && awk -v a="$age" 'BEGIN { exit !(a < 1.0) }'; then
    ok "with HEAPSWITCH_REFRESH_THREAD=1, figures stay fresh while idle ($age s)"
else
    fail "with HEAPSWITCH_REFRESH_THREAD=1, figures '$age' s old after 3 s idle"
fi
unset HEAPSWITCH_REFRESH_THREAD

finish
