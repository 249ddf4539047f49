# shellcheck shell=bash
# slurm_lib.sh -- shell helpers for rankflow's `slurm` tests (source it).
# Why: every Slurm test needs the same two things: talk to the private test
# cluster that start_cluster.sh started (its env.sh sets SLURM_CONF), and wait
# for a job to end by bounded polling with sleep, never busy-spinning.
# Usage:  . tests/slurm/slurm_lib.sh   (needs RF_SLURM_DIR; sources env.sh)
# SPDX-License-Identifier: BSD-3-Clause

if [ -z "${RF_SLURM_DIR:-}" ] || [ ! -r "$RF_SLURM_DIR/env.sh" ]; then
  echo "slurm_lib.sh: no $RF_SLURM_DIR/env.sh: is the slurm_cluster fixture up?" >&2
  # shellcheck disable=SC2317  # exit only if run instead of sourced
  return 1 2>/dev/null || exit 1
fi
# shellcheck disable=SC1091
. "$RF_SLURM_DIR/env.sh"

# rf_slurm_field JOBID FIELD: one field (JobState, ExitCode, Restarts, ...) of
# `scontrol -o show job` (first record; finished jobs stay MinJobAge=600 s).
rf_slurm_field() {
  scontrol -o show job "$1" 2>/dev/null | head -n 1 |
    tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# rf_slurm_wait JOBID [TIMEOUT_S=120]: wait until the job reached a final
# state; prints it (COMPLETED, FAILED, CANCELLED, TIMEOUT, ...). Returns 1
# (printing the last state seen) on timeout. A requeued job is not final.
rf_slurm_wait() {
  local job=$1 timeout=${2:-120} state="" end=$((SECONDS + ${2:-120}))
  while :; do
    state=$(rf_slurm_field "$job" JobState)
    case "$state" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE)
        echo "$state"; return 0 ;;
    esac
    if [ "$SECONDS" -ge "$end" ]; then
      echo "${state:-UNKNOWN}"
      echo "rf_slurm_wait: job $job not finished after ${timeout}s" >&2
      return 1
    fi
    sleep 0.5
  done
}
