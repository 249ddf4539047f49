#!/usr/bin/env bash
# same_output.sh MPIEXEC PROG RANKS... -- run PROG at each rank count and
# check that what it prints on stdout is the same every time (the frames
# print their values in hex, so "the same" means bitwise), leaving out the
# test verdict line, which names the rank count. Failures and any
# difference fail.
# SPDX-License-Identifier: BSD-3-Clause
set -u
mpiexec=$1 prog=$2
shift 2
ref="" first=""
for n in "$@"; do
  out=$("$mpiexec" -n "$n" --oversubscribe "$prog" 2>/dev/null) || {
    echo "same_output: $prog at $n ranks failed"; exit 1; }
  out=$(printf '%s\n' "$out" | grep -v -E ': (PASS|FAIL) \(')
  if [ -z "$first" ]; then
    ref=$out first=$n
  elif [ "$out" != "$ref" ]; then
    echo "same_output: $n ranks differ from $first ranks:"
    diff <(echo "$ref") <(echo "$out") | head -20
    exit 1
  fi
done
echo "$ref" | head -30
echo "same_output: PASS (identical at ranks $*)"
