#!/usr/bin/env bash
# readme_example.sh README LIBRARY INCLUDE MPIEXEC: compile the README's C
# example against the built library with the project's warnings, run it on
# 3 ranks, and check its answer, so the README cannot drift from the API.
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
readme=$1 lib=$2 inc=$3 mpiexec=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk '/^## A flow in/ {on=1} on && /^```c$/ {grab=1; next} grab && /^```$/ {exit} grab' \
  "$readme" > "$dir/example.c"
[ -s "$dir/example.c" ] || { echo "no C example found in $readme"; exit 1; }
mpicc -std=c17 -Wall -Wextra -Werror ${EXAMPLE_CFLAGS:-} -I "$inc" "$dir/example.c" -o "$dir/example" \
  "$lib" $(pkg-config --libs msgpack libxxhash yajl hdf5-openmpi) -lm -lpthread
out=$("$mpiexec" -n 3 --oversubscribe "$dir/example")
echo "$out"
[ "$out" = "338350" ] || { echo "expected 338350"; exit 1; }
echo "readme_example: PASS"
