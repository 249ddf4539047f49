#!/usr/bin/env bash
# timeseries.sh -- the origin story's describe() against dask, one run each.
#
# rankflow: the default timeseries_summary job (13 partitions of four
# weeks at 1 s, 31,449,600 rows) at 3 ranks. dask: the same call the
# origin story makes, timeseries("2000", "2001", partition_freq="4w")
# .describe().compute(), threaded scheduler (Debian python3-dask). Both are
# timed as whole processes by GNU time (wall seconds, and the largest
# process's maximum RSS: for mpirun that is its largest rank). Last line:
#   rankflow_s=<n> dask_s=<n> ratio=<n> rankflow_max_rss_mb=<n>
# Usage: bench/timeseries.sh   (BUILD_DIR=build RANKS=3 to change)
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
ranks=${RANKS:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ ! -x "$build/jobs/timeseries_summary" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$build" -j "$(nproc)" --target timeseries_summary > /dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# GNU time's "%e %M": wall seconds and max RSS in KiB.
measure() { # name, command...
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$tmp/$name.time" timeout 600 "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" || {
    echo "$name failed:"; cat "$tmp/$name.err"; exit 1; }
  read -r wall rss < "$tmp/$name.time"
  echo "$wall $rss"
}

echo "== rankflow: mpirun -np $ranks timeseries_summary (defaults)"
read -r rf_s rf_kb < <(measure rankflow mpirun -np "$ranks" --oversubscribe \
  "$build/jobs/timeseries_summary" --output "$tmp/summary.h5" --log-level warn)
cat "$tmp/rankflow.out"
echo "== dask: timeseries('2000', '2001', partition_freq='4w').describe().compute() (threads)"
read -r dask_s dask_kb < <(measure dask /usr/bin/python3 -c '
import dask, dask.datasets
df = dask.datasets.timeseries("2000", "2001", partition_freq="4w")
print(df.describe().compute(scheduler="threads"))')
cat "$tmp/dask.out"
awk -v r="$rf_s" -v d="$dask_s" -v rk="$rf_kb" -v dk="$dask_kb" 'BEGIN {
  printf "\n%-40s %10s %12s\n", "", "wall s", "max RSS MB"
  printf "%-40s %10.2f %12.1f\n", "rankflow (goal: 7x faster, <= 128 MB)", r, rk / 1024
  printf "%-40s %10.2f %12.1f\n", "dask threads", d, dk / 1024
  printf "rankflow_s=%.2f dask_s=%.2f ratio=%.2f rankflow_max_rss_mb=%.1f\n", r, d, d / r, rk / 1024
}'
