#!/usr/bin/env bash
# progress_check.sh MPIEXEC SLEEPY: --progress lines prints a status line
# every interval and a final summary; --progress tty redraws one line in
# place (carriage return, erase to end of line) and ends it with a newline;
# --quiet prints neither progress nor the totals line.
# SPDX-License-Identifier: BSD-3-Clause
set -u
mpiexec=$1 sleepy=$2
fail() { echo "progress_check: FAIL: $*"; exit 1; }
run() { "$mpiexec" -n 3 --oversubscribe "$sleepy" --tasks 8 --seconds 0.3 "$@" 2>&1; }

out=$(run --progress lines --progress-interval 0.2) || fail "lines run failed"
n=$(printf '%s\n' "$out" | grep -c '^\[rank 0\] progress: ')
[ "$n" -ge 4 ] || fail "expected periodic progress lines, got $n:
$out"
last=$(printf '%s\n' "$out" | grep '^\[rank 0\] progress: ' | tail -1)
case "$last" in *"8/8 done, 0 running, 0 failed"*) ;; *) fail "summary: $last" ;; esac

out=$(run --progress tty) || fail "tty run failed"
printf '%s' "$out" | grep -q $'\r\\[rank 0\\] progress: .*\033\\[K' ||
  fail "no redrawn line in tty mode"
printf '%s\n' "$out" | grep -q $'8/8 done.*\033\\[K$' || fail "tty mode does not end its line"

out=$(run --quiet) || fail "quiet run failed"
if printf '%s\n' "$out" | grep -E 'progress:|flow ended'; then
  fail "--quiet printed progress or totals"
fi

out=$(run --progress off) || fail "off run failed"
printf '%s\n' "$out" | grep -q 'progress:' && fail "--progress off printed progress"
printf '%s\n' "$out" | grep -q 'flow ended' || fail "--progress off lost the totals line"
echo "progress_check: PASS"
