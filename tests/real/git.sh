#!/bin/sh
# git under the backend: init, 2,000 files committed, a branch, a merge,
# gc and fsck; the log and the tree compared with a plain run's.
set -u
. "$(dirname "$0")/common.sh"
require git

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

script='set -e
cd "$1"
rm -rf repo && mkdir repo && cd repo
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
git -c init.defaultBranch=main init -q .
i=0
while [ $i -lt 2000 ]; do mkdir -p d$((i % 40)); echo "file $i" > d$((i % 40))/f$i; i=$((i + 1)); done
git add .
git -c user.email=t@example.com -c user.name=t commit -q -m initial
git checkout -q -b topic
sed -i "s/file/line/" d1/f1 d2/f2
git -c user.email=t@example.com -c user.name=t commit -q -am topic
git checkout -q main
echo extra > extra.txt && git add extra.txt
git -c user.email=t@example.com -c user.name=t commit -q -m extra
git -c user.email=t@example.com -c user.name=t merge -q --no-edit topic
git gc -q
git fsck --no-progress 2>&1
git log --format="%H %s" | cat
git ls-tree -r HEAD | wc -l'
compare_with_plain "git init/commit 2,000 files/merge/gc/fsck" sh -c "$script" git-test "$work"
