#!/bin/sh
# include/heapswitch.hpp: a C++11 program built without libheapswitch marks
# its requests (request_scope and request_done()) exactly under the
# backend, and runs unchanged without heapswitch.
set -u
. "$(dirname "$0")/common.sh"
require_python
check_marks "C++ request_scope" 3 ./tests/bindings/cxx_marks
[ "$failures" -eq 0 ]
