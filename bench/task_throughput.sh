#!/usr/bin/env bash
# task_throughput.sh -- rankflow's per-task cost against its goals and
# against mpi4py.futures, in one invocation.
#
# Why: rankflow claims that tasks are cheap enough to map over millions of
# inputs with no hand-tuned chunking, that dependent tasks chain at close to
# MPI latency, and that rank 0 stays small at a million tasks. This script
# measures those claims on this machine, next to the peer a Python user
# would reach for (mpi4py.futures, same 1 coordinator + 2 workers), and
# prints them against the goals:
#   rankflow rate   >= 1,000,000 tasks/s   (100,000 empty tasks, 3 ranks)
#   chain latency   <= 20 us per link      (1,000 dependent tasks, 3 ranks)
#   rank-0 peak RSS <= 256 MB              (1,000,000-task rf_map, 3 ranks)
# Every figure is timed inside its process after a warm-up (see the
# comments at the top of task_throughput.c and mpi4py_tasks.py for the
# exact method); rates and latencies are medians of 3 repetitions.
#
# Usage: bash bench/task_throughput.sh [--baseline REV]
#   (BUILD_DIR=... to build elsewhere)
# --baseline REV also builds the tree of git revision REV (from this
# checkout's history, into a temporary directory) and measures its
# rankflow the same way in the same invocation, alternating with this
# tree's, and prints the ratios (this tree / REV): how a change moved the
# figures on this machine, with the same load around both.
# The last line is key=value pairs:
#   rankflow_tasks_per_s=.. mpi4py_tasks_per_s=.. mpi4py_chunked_tasks_per_s=..
#   chain_latency_us=.. rank0_rss_mb_1m=..
# and with --baseline: baseline=REV baseline_tasks_per_s=..
#   baseline_chain_latency_us=.. baseline_rank0_rss_mb_1m=..
#   rate_ratio=.. chain_ratio=.. rss_ratio=..
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail

BASELINE=
while [[ $# -gt 0 ]]; do
  case $1 in
    --baseline)
      [[ $# -ge 2 && -n $2 ]] || { echo "task_throughput.sh: --baseline needs a git revision; see the usage at the top of this script" >&2; exit 2; }
      BASELINE=$2
      shift 2 ;;
    -h|--help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0 ;;
    *)
      echo "task_throughput.sh: unknown argument '$1' (usage: [--baseline REV])" >&2
      exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/bench/task_throughput
PY=/usr/bin/python3 # Debian's python: the one that sees python3-mpi4py
TIMEOUT=600
NP=3 # rank 0 + 2 workers

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export PYTHONWARNINGS=ignore

WORK=$(mktemp -d "${TMPDIR:-/tmp}/task_throughput.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=bench/bench_lib.sh
. "$ROOT/bench/bench_lib.sh"

# run NAME CMD...: bench_run with the output kept in $WORK, then show the
# program's RESULT lines.
run() {
  bench_run "$1" "$WORK" "${@:2}"
  grep '^RESULT' "$WORK/$1.out" || true
}

# field NAME KEY [KEY=VALUE]: KEY's value in NAME's "RESULT " line (the one
# that also holds KEY=VALUE, when given).
field() {
  awk -v key="$2" -v need="${3:-}" '
    $1 == "RESULT" {
      ok = need == ""; val = ""
      for (i = 2; i <= NF; i++) {
        if ($i == need) ok = 1
        eq = index($i, "=")
        if (substr($i, 1, eq - 1) == key) val = substr($i, eq + 1)
      }
      if (ok && val != "") { print val; found = 1; exit }
    }
    END { if (!found) exit 1 }' "$WORK/$1.out" || {
    echo "task_throughput.sh: no $2 in the output of $1" >&2
    cat "$WORK/$1.out" >&2
    exit 1
  }
}

# ---- build -----------------------------------------------------------------
# Only the benchmark's target (and the library it links), so that work in
# progress elsewhere in the tree cannot stop the benchmark.
echo "== building $BIN"
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  run configure cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
fi
run build cmake --build "$BUILD_DIR" --target task_throughput -j2
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$BUILD_DIR/CMakeCache.txt" ||
  echo "warning: $BUILD_DIR is not a Release build; rankflow numbers are not representative" >&2

# ---- the baseline: REV's tree, built the same way -------------------------
if [[ -n $BASELINE ]]; then
  REV=$(git -C "$ROOT" rev-parse --verify --quiet "$BASELINE^{commit}") || {
    echo "task_throughput.sh: --baseline $BASELINE is not a revision of $ROOT" >&2
    exit 2
  }
  echo "== building the baseline $BASELINE (${REV:0:12}) in $WORK/baseline"
  mkdir -p "$WORK/baseline"
  git -C "$ROOT" archive "$REV" | tar -x -C "$WORK/baseline"
  run baseline_configure cmake -S "$WORK/baseline" -B "$WORK/baseline/build" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
  run baseline_build cmake --build "$WORK/baseline/build" --target task_throughput -j2
  BASE_BIN=$WORK/baseline/build/bench/task_throughput
fi

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "$(mpiexec --version 2>/dev/null | head -n1), mpi4py $($PY -c 'import mpi4py; print(mpi4py.__version__)')"

MPI=(mpiexec --oversubscribe -n "$NP")

# Each measurement runs this tree's program, then the baseline's (when
# asked) right after it, so both see the same machine.
# measure NAME ARGS...: run NAME with this tree's binary and, with a
# baseline, base_NAME with the baseline's.
measure() {
  local name=$1
  shift
  run "$name" "${MPI[@]}" "$BIN" "$@"
  if [[ -n $BASELINE ]]; then run "base_$name" "${MPI[@]}" "$BASE_BIN" "$@"; fi
}

# ---- 1. rate: 100,000 empty tasks ------------------------------------------
echo "== rankflow rate: $NP ranks, warm-up 10,000, then 3 x rf_map of 100,000 empty tasks (median)"
measure rate --mode rate --n 100000 --warmup 10000 --reps 3 --log-level warn
RF_RATE=$(field rate tasks_per_s)

# ---- 2. chain: 1,000 dependent tasks ---------------------------------------
echo "== rankflow chain: $NP ranks, warm-up 100 links, then 3 chains of 1,000 links (median link)"
measure chain --mode chain --n 1000 --warmup 100 --reps 3 --log-level warn
CHAIN_US=$(field chain median_us)
CHAIN_MEAN_US=$(field chain mean_us)

# ---- 3. rank-0 memory at 1,000,000 tasks -----------------------------------
echo "== rankflow memory: $NP ranks, one rf_map of 1,000,000 tasks, rank-0 VmHWM"
measure rss --mode rss --n 1000000 --log-level warn
RSS_MB=$(field rss rank0_hwm_mb)
RSS_BEFORE_MB=$(field rss rank0_hwm_before_mb)
RSS_RATE=$(field rss tasks_per_s)

# ---- 4. peer: mpi4py.futures, chunksize 1 and 100 ---------------------------
echo "== mpi4py.futures: $NP ranks (2 workers), warm-up 10,000, then 3 x map of 100,000 (median), chunksize 1 and 100"
run mpi4py "${MPI[@]}" "$PY" -m mpi4py.futures "$ROOT/bench/mpi4py_tasks.py" \
  --n 100000 --warmup 10000 --reps 3 --chunksizes 1,100
PY_RATE=$(field mpi4py tasks_per_s chunksize=1)
PY_CHUNKED=$(field mpi4py tasks_per_s chunksize=100)

# ---- report ----------------------------------------------------------------
verdict() { # value op goal -> "ok" or "MISSED"
  awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
    ok = (op == ">=") ? (v + 0 >= g + 0) : (v + 0 <= g + 0)
    print ok ? "ok" : "MISSED" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

echo
printf '%-44s %14s %14s  %s\n' "measure (3 ranks = rank 0 + 2 workers)" "value" "goal" "verdict"
printf '%-44s %14s %14s  %s\n' "rankflow, 100k empty tasks (tasks/s)" "$RF_RATE" ">= 1000000" "$(verdict "$RF_RATE" '>=' 1000000)"
printf '%-44s %14s %14s  %s\n' "rankflow chain, median per link (us)" "$CHAIN_US" "<= 20" "$(verdict "$CHAIN_US" '<=' 20)"
printf '%-44s %14s %14s  %s\n' "rankflow rank-0 peak RSS, 1M-task map (MB)" "$RSS_MB" "<= 256" "$(verdict "$RSS_MB" '<=' 256)"
printf '%-44s %14s %14s\n' "mpi4py.futures chunksize=1 (tasks/s)" "$PY_RATE" "peer"
printf '%-44s %14s %14s\n' "mpi4py.futures chunksize=100 (tasks/s)" "$PY_CHUNKED" "peer"
echo "notes: rankflow is $(ratio "$RF_RATE" "$PY_RATE") mpi4py chunksize=1 and $(ratio "$RF_RATE" "$PY_CHUNKED") chunksize=100;" \
  "chain mean per link (wall/1000, submission included) $CHAIN_MEAN_US us;" \
  "rank-0 VmHWM before the 1M map $RSS_BEFORE_MB MB; the 1M map ran at $RSS_RATE tasks/s;" \
  "load average now $(cut -d' ' -f1-3 /proc/loadavg)"
LAST="rankflow_tasks_per_s=$RF_RATE mpi4py_tasks_per_s=$PY_RATE mpi4py_chunked_tasks_per_s=$PY_CHUNKED chain_latency_us=$CHAIN_US rank0_rss_mb_1m=$RSS_MB"
if [[ -n $BASELINE ]]; then
  B_RATE=$(field base_rate tasks_per_s)
  B_CHAIN=$(field base_chain median_us)
  B_RSS=$(field base_rss rank0_hwm_mb)
  frac() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
  echo
  printf '%-44s %14s %14s %8s\n' "this tree against $BASELINE" "this tree" "$BASELINE" "ratio"
  printf '%-44s %14s %14s %8s\n' "rate, 100k empty tasks (tasks/s)" "$RF_RATE" "$B_RATE" "$(frac "$RF_RATE" "$B_RATE")"
  printf '%-44s %14s %14s %8s\n' "chain, median per link (us)" "$CHAIN_US" "$B_CHAIN" "$(frac "$CHAIN_US" "$B_CHAIN")"
  printf '%-44s %14s %14s %8s\n' "rank-0 peak RSS, 1M-task map (MB)" "$RSS_MB" "$B_RSS" "$(frac "$RSS_MB" "$B_RSS")"
  echo "notes: ratios are this tree / $BASELINE (rate: higher is better; chain and RSS: lower is better)"
  LAST="$LAST baseline=$BASELINE baseline_tasks_per_s=$B_RATE baseline_chain_latency_us=$B_CHAIN baseline_rank0_rss_mb_1m=$B_RSS rate_ratio=$(frac "$RF_RATE" "$B_RATE") chain_ratio=$(frac "$CHAIN_US" "$B_CHAIN") rss_ratio=$(frac "$RSS_MB" "$B_RSS")"
fi
echo "$LAST"
