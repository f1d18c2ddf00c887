#!/bin/sh
# Real programs under call-site sampling (HEAPSWITCH_SAMPLE=16k): python3,
# sqlite3, git and sort print what they print without heapswitch, and
# each one's kept segment holds a plausible sites table
# (tests/sites/sitescheck). A program that is not installed is left out.
set -u
. ./tests/testenv.sh
. "$abs_top_srcdir/tests/real/common.sh"

dir=$(mktemp -d) && register_cleanup "$dir/pid" "$dir/in" "$dir/query.sql"
trap 'rm -rf "$dir"' EXIT
# A directory of the test's own: every process of a command's tree keeps
# its segment (python3 may be a shim run by a chain of shells), and all of
# them go with the directory.
segments=$dir/segments
mkdir -m 700 "$segments" || exit 1
export HEAPSWITCH_SAMPLE=16k HEAPSWITCH_KEEP=1 HEAPSWITCH_DIR="$segments"
ran=0

# run_sampled LABEL MIN-SAMPLES MIN-STACKS COMMAND...: output compared
# with a plain run, then the segment the sampled run kept checked and
# removed.
run_sampled() {
    label=$1 min_samples=$2 min_stacks=$3
    shift 3
    plain=$(env -u LD_PRELOAD -u HEAPSWITCH_SAMPLE "$@" 2>&1)
    plain_status=$?
    sampled=$(LD_PRELOAD="$HSW_PRELOAD" sh -c 'echo $$ >"$0"; exec "$@"' "$dir/pid" "$@" 2>&1)
    sampled_status=$?
    segment=$segments/heapswitch-$(id -u)-$(cat "$dir/pid")
    if [ "$plain_status" -ne "$sampled_status" ] || [ "$plain" != "$sampled" ]; then
        echo "FAIL: $label: output or status ($sampled_status, plain $plain_status) differs under sampling"
        echo "$sampled" | head -20
        rm -f "$segment"
        exit 1
    fi
    ./tests/sites/sitescheck "$segment" "$min_samples" "$min_stacks"
    status=$?
    rm -f "$segment"
    [ $status -eq 0 ] || { echo "FAIL: $label: implausible sites table"; exit 1; }
    echo "ok: $label under $HEAPSWITCH_BACKEND"
    ran=$((ran + 1))
}

if command -v python3 >/dev/null 2>&1; then
    run_sampled "python3" 100 20 python3 -c '
import json, re
words = [("w%d" % i) * (i % 7 + 1) for i in range(60000)]
table = {w: len(w) for w in words}
text = json.dumps(table)
print(len(text), len(re.findall(r"w1\d+", text)), sum(json.loads(text).values()))'
fi
if command -v sqlite3 >/dev/null 2>&1; then
    cat >"$dir/query.sql" <<'SQL'
create table item(id integer primary key, name text, score real);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 40000)
insert into item select x, 'item-' || x || '-' || hex(x * 7919 % 65536), (x * 31 % 1000) / 10.0 from n;
create index item_score on item(score);
select count(*), sum(score), max(length(name)) from item;
SQL
    run_sampled "sqlite3" 100 5 sqlite3 :memory: ".read $dir/query.sql"
fi
if command -v git >/dev/null 2>&1 && [ -e "$abs_top_srcdir/.git" ]; then
    run_sampled "git log" 100 20 git -C "$abs_top_srcdir" log --stat -n 200 --format=%s
fi
if command -v sort >/dev/null 2>&1; then
    seq 1 200000 | awk '{ print ($1 * 7919) % 100003 " line " $1 }' >"$dir/in"
    # sort makes few, large blocks: its main buffer, always sampled.
    run_sampled "sort" 2 1 sort -n "$dir/in"
fi
[ $ran -gt 0 ] || { echo "SKIP: none of python3, sqlite3, git, sort installed"; exit 77; }
