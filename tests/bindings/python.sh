#!/bin/sh
# bindings/python/heapswitch.py: a Python program marks its requests (the
# context manager, the decorator and request_done()) exactly under the
# backend, and runs unchanged without heapswitch.
set -u
. "$(dirname "$0")/common.sh"
require_python
# The interpreter itself, not a wrapper script (pyenv's shims are bash
# scripts, which would write report lines of their own).
python=$(python3 -c 'import sys; print(sys.executable)')
PYTHONPATH=$abs_top_srcdir/bindings/python${PYTHONPATH:+:$PYTHONPATH}
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYTHONDONTWRITEBYTECODE
check_marks "Python heapswitch.request()" - "$python" "$abs_top_srcdir/tests/bindings/python_marks.py"
[ "$failures" -eq 0 ]
