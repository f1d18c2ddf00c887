#!/bin/sh
# sort(1) of a large generated file (external merge with temporary files,
# several threads), output compared with a plain run.
set -u
. "$(dirname "$0")/common.sh"
require sort
require awk

input=$(mktemp) && register_cleanup "$input"
awk 'BEGIN { srand(11); for (i = 0; i < 400000; i++)
      printf "%08d %s line-%d\n", int(rand() * 1e8), substr("qwertyuiopasdfghjklzxcvbnm", 1 + i % 20, 6), i }' >"$input"

compare_with_plain "sort -k2,2 -k1,1n" sort --parallel=2 -S 8M -k2,2 -k1,1n "$input"
compare_with_plain "sort -u -r" sort -u -r "$input"
