#!/usr/bin/env bash
# preempt.sh -- CTest `slurm_preempt_batch`, `slurm_preempt_full`,
# `slurm_scancel_no_requeue`, `slurm_requeue_cap`: the real slurm/template.sbatch running a flow
# of side-effect tasks (tests/test_flow_journal: 12 tasks of 1.5 s, each run
# appends its index to a marker file) on the test cluster, signalled mid-flow
# (once a few markers are written):
#   batch: scancel --signal=USR1 --batch (what Slurm's --signal=B:USR1@N does
#          and preemption by hand): the script forwards USR1 to srun, the flow
#          drains and exits 75, the script requeues the job, the restarted run
#          (SLURM_RESTART_COUNT=1) resumes from the journal and completes.
#          No task may run twice: the resumed run checks the marker file
#          against the journal (--check --max-runs 1) and so does this test.
#          Also times an uninterrupted run of the same flow, and prints
#   preemption: tasks_recomputed=N signal_to_exit_s=X resume_s=Y full_run_s=Z
#          (seconds from the signal to srun's exit, and srun's run time of
#          the resumed run and of the full run, from the job logs).
#   full:  scancel --signal=USR1 --full (every process of the job, srun's
#          tasks too, gets USR1): the same drain, requeue and resume.
#   term:  a user's plain scancel (SIGTERM): exit 75, NOT requeued: the job
#          ends CANCELLED with one run.
#   cap:   batch's drain with RANKFLOW_MAX_REQUEUES=0: drained, NOT requeued
#          (the log says why); the job ends FAILED with exit 75 and one run.
#
# Usage: preempt.sh batch|full|term|cap TEMPLATE_SBATCH TEST_FLOW_JOURNAL WORK_DIR
# Needs RF_SLURM_DIR.
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=$1 template=$2 flow_bin=$3 work=$4
# shellcheck source=slurm_lib.sh
. "$HERE/slurm_lib.sh"

TASKS=12 SECONDS_PER_TASK=1.5 SIGNAL_AFTER=4 SUM=506   # SUM = 0^2 + ... + 11^2
fail=0
bad() { echo "FAIL: $*"; fail=1; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"
unset RANKFLOW_PREFIX RANKFLOW_BUILD DRAIN_GRACE RANKFLOW_SRUN_MPI RANKFLOW_MAX_REQUEUES

# The program the template runs: the test flow, checking the marker file
# against the journal in a restarted run (SLURM_RESTART_COUNT > 0).
cat > "$work/flow" <<EOF
#!/bin/bash
if [ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then set -- "\$@" --check --max-runs 1; fi
exec "$flow_bin" "\$@"
EOF
chmod +x "$work/flow"
export RANKFLOW_PROGRAM=$work/flow

jobs_started=()
# shellcheck disable=SC2317  # reached through `trap`
cleanup() {
  local j
  for j in "${jobs_started[@]}"; do
    case $(rf_slurm_field "$j" JobState) in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|"") ;;
      *) scancel "$j" 2>/dev/null || true ;;
    esac
  done
}
trap cleanup EXIT

# submit TAG: submits the template with its own markers and journal; sets jid.
max_requeues=10; [ "$mode" = cap ] && max_requeues=0
submit() {
  jid=$(JOURNAL=$work/$1.journal RANKFLOW_MAX_REQUEUES=$max_requeues sbatch --parsable -n 2 -J "rf-$1" \
          -o "$work/$1-%j.out" "$template" \
          --tasks "$TASKS" --seconds "$SECONDS_PER_TASK" --markers "$work/$1.markers")
  jid=${jid%%;*}
  jobs_started+=("$jid")
  echo "submitted template.sbatch as job $jid ($1)"
}
show_log() { echo "----- $1"; cat "$1" 2>/dev/null || echo "(missing)"; echo "-----"; }
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
# srun_secs LOG N: seconds srun ran in the Nth "srun exited" line.
srun_secs() { sed -n 's/.*srun exited with [0-9]* after \([0-9.]*\)s.*/\1/p' "$1" | sed -n "$2p"; }

full_run_s=""
if [ "$mode" = batch ]; then
  submit full
  state=$(rf_slurm_wait "$jid" 90) || true
  show_log "$work/full-$jid.out"
  [ "$state" = COMPLETED ] || bad "uninterrupted run: JobState=$state, want COMPLETED"
  full_run_s=$(srun_secs "$work/full-$jid.out" 1)
  [ "$(lines "$work/full.markers")" = "$TASKS" ] ||
    bad "uninterrupted run: $(lines "$work/full.markers") task runs, want $TASKS"
fi

submit run
log=$work/run-$jid.out
# Signal mid-flow: once SIGNAL_AFTER tasks finished (bounded wait).
deadline=$((SECONDS + 60))
until [ "$(lines "$work/run.markers")" -ge "$SIGNAL_AFTER" ] || [ "$SECONDS" -ge "$deadline" ]; do
  sleep 0.2
done
before=$(lines "$work/run.markers")
[ "$before" -ge "$SIGNAL_AFTER" ] || bad "only $before tasks ran within 60 s"
case $mode in
  batch|cap) scancel --signal=USR1 --batch "$jid" ;;
  full)  scancel --signal=USR1 --full "$jid" ;;
  term)  scancel "$jid" ;;
  *) echo "usage: $0 batch|full|term|cap ..." >&2; exit 2 ;;
esac
echo "signalled job $jid ($mode) after $before of $TASKS tasks"
state=$(rf_slurm_wait "$jid" 100) || true
exit_code=$(rf_slurm_field "$jid" ExitCode)
restarts=$(rf_slurm_field "$jid" Restarts)
echo "job $jid: JobState=$state ExitCode=$exit_code Restarts=$restarts"
show_log "$log"
runs=$(sacct -c -n -j "$jid" -o State 2>/dev/null | awk 'NF' | wc -l)
markers=$(lines "$work/run.markers")
unique=$(sort -u "$work/run.markers" 2>/dev/null | wc -l)
recomputed=$((markers - unique))
journals=$(sed -n 's/.*\] journal: //p' "$log" | sort -u)

grep -q "job $jid run 1 (SLURM_RESTART_COUNT=0)" "$log" || bad "log: no 'run 1' line"
[ "$journals" = "$work/run.journal" ] || bad "journal(s) '$journals', want $work/run.journal"
if [ "$mode" = term ]; then
  [ "$state" = CANCELLED ] || bad "JobState=$state, want CANCELLED"
  [ "$restarts" = 0 ] || bad "Restarts=$restarts, want 0 (a user's scancel is not requeued)"
  [ "$runs" = 1 ] || bad "sacct -c lists $runs runs, want 1"
  grep -q "SIGTERM: stop" "$log" || bad "log: the script saw no SIGTERM"
  grep -q "srun exited with 75 after" "$log" || bad "log: srun did not exit with 75"
  grep -q "not requeued" "$log" || bad "log: no 'not requeued' line"
  ! grep -q "run 2 \|requeue job\|\] requeued" "$log" || bad "log: the job was requeued"
  [ "$recomputed" = 0 ] || bad "$recomputed task runs repeated"
  signal_to_exit=$(sed -n 's/.*, \([0-9.]*\)s after the signal.*/\1/p' "$log" | head -n 1)
  echo "scancel (SIGTERM): not requeued, signal_to_exit_s=${signal_to_exit:-?}"
elif [ "$mode" = cap ]; then
  [ "$state" = FAILED ] || bad "JobState=$state, want FAILED (drained, exit 75, not requeued)"
  [ "$exit_code" = 75:0 ] || bad "ExitCode=$exit_code, want 75:0"
  [ "$restarts" = 0 ] || bad "Restarts=$restarts, want 0 (RANKFLOW_MAX_REQUEUES=0)"
  [ "$runs" = 1 ] || bad "sacct -c lists $runs runs, want 1"
  grep -q "SIGUSR1: drain: forwarding it to srun" "$log" || bad "log: the script forwarded no USR1"
  grep -q "srun exited with 75 after" "$log" || bad "log: srun did not exit with 75"
  grep -q "drained, but not requeued: job $jid was requeued 0 times already (RANKFLOW_MAX_REQUEUES=0)" "$log" ||
    bad "log: no 'drained, but not requeued' line"
  ! grep -q "run 2 \|requeue job\|\] requeued" "$log" || bad "log: the job was requeued"
  [ "$recomputed" = 0 ] || bad "$recomputed task runs repeated"
  echo "requeue cap: drained and not requeued after $before of $TASKS tasks"
else
  [ "$state" = COMPLETED ] || bad "JobState=$state, want COMPLETED"
  [ "$exit_code" = 0:0 ] || bad "ExitCode=$exit_code, want 0:0"
  [ "$restarts" = 1 ] || bad "Restarts=$restarts, want 1"
  [ "$runs" = 2 ] || bad "sacct -c lists $runs runs, want 2 (drained, then completed)"
  grep -q "SIGUSR1: drain: forwarding it to srun" "$log" || bad "log: the script forwarded no USR1"
  grep -q "srun exited with 75 after .* after the signal" "$log" || bad "log: srun did not exit with 75 after the signal"
  grep -q "drained after this script's SIGUSR1: requeue job $jid" "$log" || bad "log: no requeue decision"
  grep -q "\] requeued$" "$log" || bad "log: not requeued"
  grep -q "job $jid run 2 (SLURM_RESTART_COUNT=1)" "$log" || bad "log: no 'run 2' line"
  grep -q "flow completed (run 2)" "$log" || bad "log: run 2 did not complete"
  from_journal=$(sed -n "s/^sum $SUM from-journal \([0-9]*\)$/\1/p" "$log" | tail -n 1)
  if [ -z "$from_journal" ] || [ "$from_journal" -lt "$SIGNAL_AFTER" ]; then
    bad "resumed run: want 'sum $SUM from-journal K' with K >= $SIGNAL_AFTER, got '${from_journal:-none}'"
  fi
  if [ "$markers" != "$TASKS" ] || [ "$unique" != "$TASKS" ]; then
    bad "marker file: $markers task runs of $unique tasks, want $TASKS of $TASKS"
  fi
  [ "$recomputed" = 0 ] || bad "$recomputed finished tasks ran again"
  signal_to_exit=$(sed -n 's/.*srun exited with 75 after .*, \([0-9.]*\)s after the signal.*/\1/p' "$log" | head -n 1)
  resume_s=$(srun_secs "$log" 2)
  if [ "$mode" = batch ]; then
    echo "preemption: tasks_recomputed=$recomputed signal_to_exit_s=${signal_to_exit:-?} resume_s=${resume_s:-?} full_run_s=${full_run_s:-?}"
  else
    echo "preemption (--full): tasks_recomputed=$recomputed signal_to_exit_s=${signal_to_exit:-?} resume_s=${resume_s:-?} from_journal=$from_journal"
  fi
fi

if [ "$fail" = 0 ]; then echo "preempt.sh $mode: OK"; fi
exit "$fail"
