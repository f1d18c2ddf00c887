# Drives `heapswitch top` in a real terminal for the tests: a private tmux
# server (no configuration file, its socket named after the script and
# its pid) with one session, "top", whose screen the checks read. Sourced
# by a test script once tests/checks.sh (ok, fail) is and $work, its
# scratch directory, is set; the script's cleanup calls tmux_stop.
#
# No check depends on a fixed delay or on one capture: each one captures
# the screen again every 0.1 s until its condition holds or its time is up
# (expect: $expect_seconds, 10 unless the script sets more), so that a
# slow, loaded machine only makes it take longer. The first check after a
# key must be one that did not hold before it, so that it waits for the
# key to take effect. On failure the last capture is printed under the
# FAIL line, each line prefixed "    | ".

tmux_socket=hsw-$(basename "$0" .sh)-$$
tmux_() { tmux -u -L "$tmux_socket" -f /dev/null "$@"; }
tmux_stop() { tmux_ kill-server >/dev/null 2>&1; }

# tmux_session COLUMNS LINES COMMAND: session "top", in place of any
# previous one, runs COMMAND (a shell command line) in a window of that
# size. The server stays up without sessions (exit-empty off), so that a
# new session never meets a server still exiting after the last one was
# killed: without it, 3 of 200 quick kill/new cycles on a loaded machine
# failed with "server exited unexpectedly".
tmux_session() {
    tmux_ kill-session -t top >/dev/null 2>&1
    tmux_ new-session -d -s top -x "$1" -y "$2" "$3" \; set-option -g exit-empty off
}

keys() { tmux_ send-keys -t top "$@"; }

# Captures the screen into $work/screen, which has, lacks and the
# conditions of the scripts read.
capture_screen() { tmux_ capture-pane -p -t top >"$work/screen" 2>/dev/null; }
has() { grep -q -- "$1" "$work/screen"; }
has_ere() { grep -Eq -- "$1" "$work/screen"; }
lacks() { ! grep -q -- "$1" "$work/screen"; }

# screen_holds COMMAND...: captures the screen; COMMAND reads it.
screen_holds() {
    capture_screen
    "$@"
}
# until_screen SECONDS COMMAND...: captures the screen every 0.1 s until
# COMMAND holds on it (status 0), or SECONDS pass (status 1).
until_screen() {
    tmux_captures_left=$(($1 * 10))
    shift
    until screen_holds "$@"; do
        tmux_captures_left=$((tmux_captures_left - 1))
        [ "$tmux_captures_left" -gt 0 ] || return 1
        sleep 0.1
    done
}

# fail_with_screen DESCRIPTION: a failed check, and the screen it saw.
fail_with_screen() {
    fail "$1; the screen:"
    sed 's/^/    | /' "$work/screen"
}

# expect_within SECONDS DESCRIPTION COMMAND...: ok as soon as COMMAND
# holds on the screen.
expect_within() {
    tmux_seconds=$1 tmux_label=$2
    shift 2
    if until_screen "$tmux_seconds" "$@"; then
        ok "$tmux_label"
    else
        fail_with_screen "$tmux_label"
    fi
}
expect_seconds=10
# expect DESCRIPTION COMMAND...: the same within $expect_seconds.
expect() { expect_within "$expect_seconds" "$@"; }
