#!/bin/sh
# The deployment examples (examples/deploy), checked without running them
# (no container runtime needed): tests/containers/check_deploy.py parses
# every YAML file and checks variables, labels and how the pieces fit;
# promtool checks both Prometheus configurations.
set -u
. ./tests/testenv.sh
. "$abs_top_srcdir/tests/checks.sh"

# A python3 with PyYAML: the system's (a python3 earlier on PATH, e.g.
# pyenv's, may lack it).
python=
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'import yaml' >/dev/null 2>&1; then
        python=$candidate
        break
    fi
done
if [ -z "$python" ]; then
    echo "SKIP: no python3 with PyYAML (Debian: python3-yaml)"
    exit 77
fi
if ! command -v promtool >/dev/null 2>&1; then
    echo "SKIP: no promtool (Debian: prometheus)"
    exit 77
fi

"$python" "$abs_top_srcdir/tests/containers/check_deploy.py" "$abs_top_srcdir" "$LIBHEAPSWITCH" ||
    failures=$((failures + 1))
for config in examples/deploy/prometheus.yml examples/deploy/kubernetes/prometheus.yml; do
    if out=$(promtool check config "$abs_top_srcdir/$config" 2>&1); then
        ok "promtool check config $config"
    else
        fail "promtool check config $config: $out"
    fi
done
[ "$failures" -eq 0 ]
