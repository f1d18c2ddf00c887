#!/bin/sh
# include/heapswitch.hpp's arena and arena_resource: a C++17 program built
# without libheapswitch puts each request's std::pmr strings in an arena
# reset after the request. Under the backend, heapswitch's explicit arena
# serves it and a request costs no malloc call, against exactly 17 with
# std::vector<std::string>; without heapswitch, its own bump allocator does
# and the output and exit status are the same. Alignments, reset and moves
# are checked by the program itself (its "0 problems" line).
set -u
. "$(dirname "$0")/common.sh"
require_python
program=./tests/bindings/cxx_arena

check_marks "C++ arena" 0 "$program" --arena
check "C++ arena without heapswitch: its own bump allocator serves ($(cat "$work/plain.err"))" \
    grep -q '(arena: own)$' "$work/plain.err"
check "C++ arena under $HEAPSWITCH_BACKEND: is_heapswitch() ($(cat "$work/once.err"))" \
    grep -q '(arena: heapswitch)$' "$work/once.err"
check "C++ arena without heapswitch: alignments, reset and moves right ($(grep -c '^problem' "$work/plain.out") problems)" \
    grep -qx '0 problems' "$work/plain.out"
check "C++ arena under $HEAPSWITCH_BACKEND: alignments, reset and moves right ($(grep -c '^problem' "$work/once.out") problems)" \
    grep -qx '0 problems' "$work/once.out"
cp "$work/once.out" "$work/arena.out"
arena_per_request=$(( ($(report_figure "$work/twice.report" allocs) - $(report_figure "$work/once.report" allocs)) / 30 ))

# The same requests with the default allocator: one call per string and
# one for the vector.
check_marks "C++ heap strings" 17 "$program" --heap
heap_per_request=$(( ($(report_figure "$work/twice.report" allocs) - $(report_figure "$work/once.report" allocs)) / 30 ))
check "C++ under $HEAPSWITCH_BACKEND: the arena and the heap compute the same checksum" \
    cmp -s "$work/arena.out" "$work/once.out"
check "C++ under $HEAPSWITCH_BACKEND: allocating calls per request, arena $arena_per_request against heap $heap_per_request" \
    test "$arena_per_request" -eq 0 -a "$heap_per_request" -eq 17
[ "$failures" -eq 0 ]
