#!/usr/bin/env bash
# isolation.sh -- what running tasks in task hosts (--isolate) costs, in one
# invocation, against plain tasks and against a process per task.
#
# Why: isolation keeps a crashing task from killing the job, and rankflow
# claims it costs little because a worker keeps one task host across
# attempts and sends it attempts in batches. This measures, on this
# machine, 3 ranks (rank 0 + 2 workers):
#   empty tasks/s, plain and isolated    goal: isolated >= 100,000/s
#   1 ms tasks, plain wall / isolated    goal: efficiency >= 0.95
#   a crashing isolated task's cost      (its host's restart, detection)
#   a process per task                   (posix_spawn + wait of /bin/true,
#                                        what per-task-process runners pay)
# Rates are medians of 3 timed maps after a warm-up; the 1 ms figures are
# the best of 3 runs each, alternated plain/isolated so both see the same
# load (bench/isolation.c says how each is timed).
#
# Usage: bash bench/isolation.sh   (BUILD_DIR=... to build elsewhere)
# The last line is key=value pairs:
#   plain_tasks_per_s=.. isolated_tasks_per_s=.. isolated_1ms_efficiency=..
#   host_restart_ms=..
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail

case ${1:-} in
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "isolation.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/bench/isolation
TIMEOUT=600
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/isolation.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=bench/bench_lib.sh
. "$ROOT/bench/bench_lib.sh"

# value NAME KEY: KEY's value in the RESULT line of run NAME.
value() {
  awk -v key="$2" '$1 == "RESULT" { for (i = 2; i <= NF; i++) {
      eq = index($i, "="); if (substr($i, 1, eq - 1) == key) { print substr($i, eq + 1); found = 1 } } }
    END { if (!found) exit 1 }' "$WORK/$1.out" || {
    echo "isolation.sh: no $2 in the output of $1" >&2; cat "$WORK/$1.out" "$WORK/$1.err" >&2; exit 1; }
}

echo "== building $BIN"
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  bench_run configure "$WORK" cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
fi
bench_run build "$WORK" cmake --build "$BUILD_DIR" --target isolation -j2
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$BUILD_DIR/CMakeCache.txt" ||
  echo "warning: $BUILD_DIR is not a Release build; numbers are not representative" >&2
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

MPI=(mpiexec --oversubscribe -n 3)
LIB=(--quiet --log-level error)

echo "== empty tasks: 3 x rf_map of 100,000 (median), plain then isolated"
bench_run rate_plain "$WORK" "${MPI[@]}" "$BIN" --mode rate --n 100000 "${LIB[@]}"
bench_run rate_iso "$WORK" "${MPI[@]}" "$BIN" --mode rate --n 100000 --isolate "${LIB[@]}"
PLAIN_RATE=$(value rate_plain tasks_per_s)
ISO_RATE=$(value rate_iso tasks_per_s)

echo "== 1 ms tasks: 2,000 per run, best of 3, plain and isolated alternated"
best() { sort -g | head -n1; }
for i in 1 2 3; do
  bench_run "work_plain$i" "$WORK" "${MPI[@]}" "$BIN" --mode work --n 2000 "${LIB[@]}"
  bench_run "work_iso$i" "$WORK" "${MPI[@]}" "$BIN" --mode work --n 2000 --isolate "${LIB[@]}"
done
PLAIN_WALL=$(for i in 1 2 3; do value "work_plain$i" wall_s; done | best)
ISO_WALL=$(for i in 1 2 3; do value "work_iso$i" wall_s; done | best)
EFF=$(awk -v p="$PLAIN_WALL" -v s="$ISO_WALL" 'BEGIN { printf "%.3f", p / s }')

echo "== crashes: 200 isolated tasks that each raise SIGSEGV"
# Every task crashes, so the job exits 1 by design: keep the figure.
timeout -k 10 "$TIMEOUT" "${MPI[@]}" "$BIN" --mode crash --n 200 --isolate \
  "${LIB[@]}" > "$WORK/crash.out" 2> "$WORK/crash.err" || true
CRASH_MS=$(value crash per_task_ms)

echo "== a process per task: 500 x posix_spawn + waitpid of /bin/true"
bench_run spawn "$WORK" "$BIN" --mode spawn --n 500 "${LIB[@]}"
SPAWN_MS=$(value spawn per_task_ms)

verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v + 0 >= g + 0) ? "ok" : "MISSED" }'; }
echo
printf '%-48s %12s %12s  %s\n' "measure (3 ranks = rank 0 + 2 workers)" "value" "goal" "verdict"
printf '%-48s %12s %12s\n' "plain empty tasks (tasks/s)" "$PLAIN_RATE" "reference"
printf '%-48s %12s %12s  %s\n' "isolated empty tasks (tasks/s)" "$ISO_RATE" ">= 100000" "$(verdict "$ISO_RATE" 100000)"
printf '%-48s %12s %12s\n' "1 ms tasks, plain wall (s, 2,000 tasks)" "$PLAIN_WALL" ""
printf '%-48s %12s %12s\n' "1 ms tasks, isolated wall (s, 2,000 tasks)" "$ISO_WALL" ""
printf '%-48s %12s %12s  %s\n' "1 ms efficiency, plain / isolated" "$EFF" ">= 0.95" "$(verdict "$EFF" 0.95)"
printf '%-48s %12s %12s\n' "crashing isolated task, per task (ms)" "$CRASH_MS" "reference"
printf '%-48s %12s %12s\n' "process per task, spawn + wait (ms)" "$SPAWN_MS" "peer"
echo "notes: an isolated empty task costs $(awk -v r="$ISO_RATE" -v s="$SPAWN_MS" 'BEGIN { printf "%.0fx", s * r / 1000 / 2 }') less than a process per task" \
  "on one worker; plain is $(awk -v a="$PLAIN_RATE" -v b="$ISO_RATE" 'BEGIN { printf "%.1fx", a / b }') isolated;" \
  "load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "plain_tasks_per_s=$PLAIN_RATE isolated_tasks_per_s=$ISO_RATE isolated_1ms_efficiency=$EFF host_restart_ms=$CRASH_MS"
