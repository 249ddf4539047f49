#!/usr/bin/env bash
# nested.sh -- a task that submits subtasks and waits on each, against
# dask's worker_client(), in one invocation.
#
# Why: flows often discover their work inside a task and fan it out over
# the same job (the origin story's get_dask_client). What that costs is
# the round trip of a subtask: the parent submits it, the job runs it, the
# result comes back to the waiting parent. Goal: <= 50 us at 3 ranks.
#
# rankflow: build/bench/nested_roundtrip at 3 ranks: one parent task
# issues 1,000 subtasks one after another (submit, wait, next) after 50 of
# warm-up; median round trip timed inside the task.
# dask: LocalCluster(2 workers x 1 thread, processes) and one task that
# does the same through worker_client() (bench/nested_dask.py, Debian's
# python3-dask via /usr/bin/python3); median timed inside the task.
# Last line: rankflow_nested_us=<n> dask_nested_us=<n>
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
prog=build/bench/nested_roundtrip
[ -x "$prog" ] || { echo "nested: build first (scripts/setup.sh): no $prog" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpiexec -n 3 --oversubscribe "$prog" --quiet | tee "$tmp/rf"
/usr/bin/python3 bench/nested_dask.py 1000 | tee "$tmp/dask"
rf=$(sed -n 's/^nested_us=//p' "$tmp/rf")
dk=$(sed -n 's/^dask_nested_us=//p' "$tmp/dask")
awk -v a="$rf" -v b="$dk" 'BEGIN { printf "a subtask round trip is %.0fx faster than dask'"'"'s\n", b / a }'
echo "rankflow_nested_us=$rf dask_nested_us=$dk"
