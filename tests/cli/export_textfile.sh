# heapswitch export --textfile: the file node_exporter's textfile
# collector reads. Written once (exit 0) or at every --interval; its
# content is what /metrics serves; it is replaced atomically (a reader
# polling it never sees a partial file, and every rewrite is a new inode
# renamed into place, with no temporary file a collector would read);
# clear errors for a directory that is missing, not a directory or not
# writable; a directory that goes away mid-run is reported and the file
# comes back with it.
. ./tests/testenv.sh || exit 99
. "$abs_top_srcdir/tests/cli/common.sh"
. "$abs_top_srcdir/tests/cli/export_common.sh"

# An idle process with a known segment: its figures do not move.
HEAPSWITCH_STATS=exact "$HSW" run -t "$TAG" -- "$HOLD" wait 100 >"$work/hold.out" 2>"$work/hold.err" &
track $!
if ! wait_for 30 grep -qs '^pid ' "$work/hold.out"; then
    fail "hold did not start: $(cat "$work/hold.err")"
    finish
fi
pid=$(sed -n 's/^pid //p' "$work/hold.out")
# Ours: the comment lines and the hold's samples (other processes on the
# host change between two reads).
ours() { grep -e '^#' -e "{pid=\"$pid\"," "$1"; }

# -- Once ------------------------------------------------------------------
mkdir "$work/tf"
file=$work/tf/heapswitch.prom
expect_status 0 "--textfile PATH: written once" "$HSW" export --textfile "$file"
check "  says so" grep -qx "heapswitch export: wrote $file" "$work/err"
check "  the file is there" test -s "$file"
check "  readable by a collector of another user (0644)" test "$(stat -c %a "$file")" = 644
check "  nothing else in the directory" test "$(ls -A "$work/tf")" = heapswitch.prom
check "  the held process's malloc series" \
    grep -q "^heapswitch_calls_total{pid=\"$pid\",.*kind=\"malloc\"} [0-9]" "$file"
check "  ends with a whole line" test "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" = '\n'
if command -v promtool >/dev/null 2>&1; then
    if promtool check metrics <"$file" >"$work/promtool" 2>&1; then
        ok "promtool check metrics: clean"
    else
        fail "promtool check metrics: $(cat "$work/promtool")"
    fi
else
    echo "skip: promtool is not installed (apt-get install prometheus): format not checked"
fi

# -- The same text as /metrics ------------------------------------------
# Both from one exporter: the file at start, the page when asked.
start_exporter --textfile "$work/tf/both.prom"
http $port "$work/page" get /metrics
sed '1,/^\r*$/d' "$work/page" >"$work/body"
kill -TERM $server
wait $server
ours "$work/tf/both.prom" >"$work/from-file"
ours "$work/body" >"$work/from-http"
check "the textfile's lines are the page's ($(wc -l <"$work/from-file") lines)" \
    cmp -s "$work/from-file" "$work/from-http"
check "  hold's series in both" grep -q "{pid=\"$pid\"," "$work/from-file"
diff "$work/from-file" "$work/from-http" | head -5

# -- Atomic replacement ---------------------------------------------------
# Rewritten every 50 ms while a reader polls it: every read is a whole
# page, new pages come as new inodes, and no other *.prom file appears.
cat >"$work/poll.py" <<'PY'
import os, sys, time
path = sys.argv[1]
directory, name = os.path.split(path)
inodes, reads, bad = set(), 0, []
started = time.monotonic()
while len(inodes) < 40 and time.monotonic() - started < 120:
    try:
        with open(path, "rb") as f:
            inodes.add(os.fstat(f.fileno()).st_ino)
            text = f.read()
    except FileNotFoundError:
        continue
    reads += 1
    if not (text.startswith(b"# HELP heapswitch_process_info ") and
            b"\nheapswitch_up 1\n" in text and
            text.rstrip(b"\n").rsplit(b"\n", 1)[-1].startswith(b"heapswitch_scrape_duration_seconds ") and
            text.endswith(b"\n")):
        bad.append("partial read of %d bytes" % len(text))
    for other in os.listdir(directory):
        if other != name and (other.endswith(".prom") or not other.startswith(".")):
            bad.append("another file a collector would read: " + other)
print("reads %d inodes %d" % (reads, len(inodes)))
for line in bad[:5]:
    print("bad " + line)
sys.exit(1 if bad or len(inodes) < 40 else 0)
PY
rm -rf "$work/tf"
mkdir "$work/tf"
"$HSW" export --textfile "$file" --interval 0.05 2>"$work/periodic.err" &
periodic=$!
track $periodic
wait_for 30 test -e "$file"
python3 "$work/poll.py" "$file" >"$work/poll"
poll_status=$?
check "every read is a whole page, 40 rewrites as new inodes ($(tr '\n' ' ' <"$work/poll"))" \
    test $poll_status = 0
check "  still running" kill -0 $periodic

# A directory that goes away (renamed: rm -rf would race with the next
# temporary file): reported, the exporter keeps running, and the file is
# back when the directory is.
mv "$work/tf" "$work/tf.gone"
wait_for 60 grep -q "no directory $work/tf" "$work/periodic.err"
check "a directory that went away is reported" grep -q "no directory $work/tf" "$work/periodic.err"
check "  the exporter keeps running" kill -0 $periodic
mkdir "$work/tf"
wait_for 60 test -s "$file"
check "  the file is back with the directory" test -s "$file"
kill -TERM $periodic
wait $periodic
check "SIGTERM: exit 0 ($?)" test $? = 0
check "no temporary file left" test "$(ls -A "$work/tf")" = heapswitch.prom
check "reported at start" grep -q "wrote $file, rewriting it" "$work/periodic.err"

# -- Errors ------------------------------------------------------------------
expect_error 1 "a directory that does not exist" "$HSW" export --textfile "$work/none/x.prom"
check "  says so" grep -qx "heapswitch export: cannot write $work/none/x.prom: no directory $work/none" "$work/err"
: >"$work/plain"
expect_error 1 "a directory that is a file" "$HSW" export --textfile "$work/plain/x.prom"
check "  says so" grep -q "$work/plain is not a directory" "$work/err"
expect_error 1 "a path that is a directory" "$HSW" export --textfile "$work/tf"
check "  says so" grep -q "cannot write $work/tf: it is a directory" "$work/err"
expect_error 1 "a path ending in /" "$HSW" export --textfile "$work/tf/"
expect_error 1 "periodic: the first write fails at once" \
    "$HSW" export --textfile "$work/none/x.prom" --interval 1
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$work/locked"
    chmod 555 "$work/locked"
    expect_error 1 "a directory that is not writable" "$HSW" export --textfile "$work/locked/x.prom"
    check "  says so" grep -q "directory $work/locked is not writable" "$work/err"
elif ! touch /sys/.heapswitch-probe 2>/dev/null; then
    # root writes anywhere permissions allow; sysfs refuses even root.
    expect_error 1 "a directory that is not writable (/sys)" "$HSW" export --textfile /sys/x.prom
    check "  says so" grep -q "directory /sys is not writable" "$work/err"
else
    rm -f /sys/.heapswitch-probe
    echo "skip: running as root with no unwritable directory: that error is not checked"
fi

kill -USR1 "$pid" 2>/dev/null
finish
