#!/usr/bin/env bash
# parallel_tasks.sh -- how fast a parallel task starts, against an srun
# job step, in one invocation.
#
# Why: HPC users run many small MPI programs in one allocation. The usual
# way, one `srun -n 2` job step per run, launches about a dozen steps a
# second and loads the scheduler; rankflow hands two of the ranks it
# already holds to a task as a communicator. Goal: a 2-rank task starts
# within 100 us of its submission.
#
# rankflow: build/bench/group_launch at 3 ranks (two workers): 1,000
# back-to-back empty 2-rank tasks after 50 of warm-up, median launch from
# rf_submit to both members running (wall clock inside the processes).
# Peer: a private single-node Slurm cluster (tests/slurm/start_cluster.sh,
# its own state directory and ports 16917/16918 unless RF_SLURM_CTLD_PORT /
# RF_SLURM_SLURMD_PORT say otherwise), one allocation of 2 tasks, 20 job
# steps `srun -n 2 true` timed one by one inside it (after one warm-up
# step), median in milliseconds. The cluster is always stopped.
# Last line: rankflow_group_launch_us=<n> srun_step_ms=<n>
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
prog=build/bench/group_launch
[ -x "$prog" ] || { echo "parallel_tasks: build first (scripts/setup.sh): no $prog" >&2; exit 2; }
for c in sbatch salloc srun slurmctld slurmd munged; do
  command -v "$c" > /dev/null || { echo "parallel_tasks: $c missing (scripts/setup.sh installs Slurm)" >&2; exit 2; }
done

tmp=$(mktemp -d)
export RF_SLURM_DIR=$tmp/slurm
export RF_SLURM_CTLD_PORT=${RF_SLURM_CTLD_PORT:-16917}
export RF_SLURM_SLURMD_PORT=${RF_SLURM_SLURMD_PORT:-16918}
cleanup() {
  bash tests/slurm/stop_cluster.sh > /dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "rankflow: 1,000 empty 2-rank tasks at 3 ranks"
mpiexec -n 3 --oversubscribe "$prog" --quiet | tee "$tmp/rf.out"
rf_us=$(sed -n 's/^launch_us=//p' "$tmp/rf.out")

echo "srun: 20 job steps of 2 tasks in one allocation (local Slurm)"
bash tests/slurm/start_cluster.sh > "$tmp/start.out" 2>&1 ||
  { cat "$tmp/start.out" >&2; exit 3; }
# shellcheck disable=SC1091
. "$RF_SLURM_DIR/env.sh"
cat > "$tmp/steps.sh" << 'STEPS'
#!/usr/bin/env bash
# One warm-up step, then 20 timed ones; milliseconds, one per line.
srun -n 2 true
for _ in $(seq 20); do
  t0=$(date +%s%N)
  srun -n 2 true
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
done
STEPS
chmod +x "$tmp/steps.sh"
salloc -n 2 --quiet "$tmp/steps.sh" > "$tmp/steps.out"
srun_ms=$(sort -n "$tmp/steps.out" | awk '{ v[NR] = $1 } END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "%.1f", m / 1000 }')
echo "srun -n 2 step: median ${srun_ms} ms over $(wc -l < "$tmp/steps.out") steps"
awk -v a="$rf_us" -v b="$srun_ms" 'BEGIN { printf "a 2-rank task starts %.0fx faster than an srun step\n", b * 1000 / a }'
echo "rankflow_group_launch_us=$rf_us srun_step_ms=$srun_ms"
