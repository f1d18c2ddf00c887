#!/bin/sh
# A shell pipeline with fork and exec at every stage; the preload is
# inherited by every process in it.
set -u
. "$(dirname "$0")/common.sh"
require bash

pipeline='seq 1 200000 | awk "{ print \$1 % 977, \$1 }" | sort -k1,1n -k2,2n | uniq -c -w4 | tr 0-9 a-j | sed "s/ab/XY/g" | head -c 200000 | md5sum;
for i in $(seq 1 200); do echo $i | cut -c1 | tr -d "\n" | wc -c; done | sort | uniq -c;
x=$(for i in 1 2 3; do (printf "%s" sub$i; ls / >/dev/null) ; done); echo $x'
compare_with_plain "bash pipeline" bash -c "$pipeline"
