# rankflow-job.sh -- the body every rankflow batch script (slurm/*.sbatch)
# sources: find the program, run it under srun with a journal, forward
# SIGUSR1 (drain) and SIGTERM/SIGINT (stop), and requeue after a drain.
# SPDX-License-Identifier: BSD-3-Clause
#
# A batch script sets, before sourcing this file:
#   job=NAME       the job's name (logs, journal; "": the program's file
#                  name); for the jobs that come with rankflow also the
#                  program: rankflow-NAME (dashes) when installed, jobs/NAME
#                  in a checkout's build
#   program=EXE    (optional) the program itself, for a flow of your own
# then calls rankflow_main "$@". Settings a user gives at submit time (sbatch
# exports the environment):
#   RANKFLOW_PROGRAM=EXE  run EXE
#   RANKFLOW_PREFIX=DIR   an install prefix: DIR/bin/rankflow-NAME
#   RANKFLOW_BUILD=DIR    a checkout's build: DIR/jobs/NAME
#                         [$SLURM_SUBMIT_DIR/build]
#   (without those: the installed script's own prefix, then PATH, then the
#   build of the checkout submitted from)
#   JOURNAL=FILE | none   the journal [$SLURM_SUBMIT_DIR/NAME-CHECKSUM.journal]
#   DRAIN_GRACE=SECONDS   --drain-grace [20]; keep it below KillWait
#   RANKFLOW_SRUN_MPI=X   srun --mpi=X [pmix: Debian's Open MPI starts only
#                         through PMIx]; empty: no --mpi flag
#   RANKFLOW_MAX_REQUEUES=N  requeue at most N times [10]
# shellcheck shell=bash disable=SC2154  # job, program: the batch script's

# The installed programs' directory: "" in a checkout; cmake --install writes
# it into the installed copy of this file.
rf_bindir=""

rf_log() { printf '[%(%F %T)T rankflow %s] %s\n' -1 "$job" "$*"; }
rf_now_us() { local t=$EPOCHREALTIME; echo "${t//[.,]/}"; }
rf_secs() { printf '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }

# The program to run, into rf_program, and where it was found into
# rf_program_from (or a one-line error and exit 2).
rf_find_program() {
  local dashed=rankflow-${job//_/-} tried=() p
  if [ -n "${RANKFLOW_PROGRAM:-}" ]; then
    tried=("$RANKFLOW_PROGRAM (RANKFLOW_PROGRAM)")
  elif [ -n "${program:-}" ]; then
    tried=("$program (program= in the script)")
  elif [ -n "${RANKFLOW_PREFIX:-}" ]; then
    tried=("$RANKFLOW_PREFIX/bin/$dashed (RANKFLOW_PREFIX)")
  elif [ -n "${RANKFLOW_BUILD:-}" ]; then
    tried=("$RANKFLOW_BUILD/jobs/$job (RANKFLOW_BUILD)")
  else
    [ -z "$rf_bindir" ] || tried+=("$rf_bindir/$dashed (this script's install)")
    p=$(command -v "$dashed" 2>/dev/null || true)
    [ -z "$p" ] || tried+=("$p (PATH)")
    tried+=("${SLURM_SUBMIT_DIR:-$PWD}/build/jobs/$job (the build of the checkout submitted from)")
  fi
  for p in "${tried[@]}"; do
    rf_program=${p% (*}
    if [ -x "$rf_program" ] && [ ! -d "$rf_program" ]; then
      rf_program_from=$p
      return 0
    fi
  done
  rf_log "error: no program to run: tried ${tried[*]}; install rankflow, set RANKFLOW_PREFIX (an install prefix) or RANKFLOW_BUILD (a checkout's build), or submit from the checkout's root" >&2
  exit 2
}

rankflow_main() {
  if [ -z "${job:-}" ]; then # a flow of one's own: named after its program
    job=$(basename "${RANKFLOW_PROGRAM:-${program:-flow}}")
    if [ -z "${RANKFLOW_PROGRAM:-}${program:-}" ]; then
      rf_log "error: no program to run: set program= in your copy of the script, or RANKFLOW_PROGRAM=EXE at submit time" >&2
      exit 2
    fi
  fi
  local restarts=${SLURM_RESTART_COUNT:-0} jobid=${SLURM_JOB_ID:-none}
  local max_requeues=${RANKFLOW_MAX_REQUEUES:-10}
  if ! [[ $max_requeues =~ ^[0-9]+$ ]]; then
    rf_log "error: RANKFLOW_MAX_REQUEUES=$max_requeues is not a count" >&2
    exit 2
  fi
  rf_find_program

  # Library flags added unless the arguments give them.
  rf_given() { local a; for a in "${@:2}"; do case $a in "$1" | "$1"=*) return 0 ;; esac; done; return 1; }
  # rf_value FLAG ARGS...: the value FLAG is given in ARGS (last wins).
  rf_value() {
    local flag=$1 v="" prev="" a; shift
    for a in "$@"; do
      case $a in "$flag"=*) v=${a#*=} ;; *) [ "$prev" = "$flag" ] && v=$a ;; esac
      prev=$a
    done
    printf '%s' "$v"
  }
  local extra=() journal sum
  if rf_given --journal "$@"; then
    journal="(given in the arguments)"
  elif [ "${JOURNAL:-}" = none ]; then
    journal="none (JOURNAL=none): a rerun starts from scratch"
  else
    sum=$(printf '%s\0' "$@" | cksum)
    journal=${JOURNAL:-${SLURM_SUBMIT_DIR:-$PWD}/$job-${sum%% *}.journal}
    extra+=(--journal "$journal")
  fi
  drain_grace=${DRAIN_GRACE:-20}
  if rf_given --drain-grace "$@"; then
    drain_grace=$(rf_value --drain-grace "$@") # the flow gets the argument's
  else
    extra+=(--drain-grace "$drain_grace")
  fi
  local kill_wait
  kill_wait=$(scontrol show config 2>/dev/null | sed -n 's/^KillWait *= *\([0-9]*\).*/\1/p' || true)
  if [[ $drain_grace =~ ^[0-9]+$ && $kill_wait =~ ^[0-9]+$ ]] && [ "$drain_grace" -ge "$kill_wait" ]; then
    rf_log "warning: drain grace ${drain_grace}s is not below KillWait ${kill_wait}s: a drain may be SIGKILLed"
  fi

  # srun: PMIx unless told otherwise; the CPUs per task sbatch was given
  # (Slurm 22.05 no longer passes --cpus-per-task from sbatch to srun).
  local srun_args=(--kill-on-bad-exit=1)
  local mpi=${RANKFLOW_SRUN_MPI-pmix}
  [ -z "$mpi" ] || srun_args=(--mpi="$mpi" "${srun_args[@]}")
  [ -z "${SLURM_CPUS_PER_TASK:-}" ] || srun_args+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")

  srun_pid=""
  drained=0   # 1 once this script forwarded a SIGUSR1 to srun (drain to requeue)
  stopped=0   # 1 once SIGTERM/SIGINT came (scancel, time limit): no requeue
  trapped=0
  t_signal=""
  trap rf_on_usr1 USR1
  trap 'rf_on_stop SIGTERM' TERM
  trap 'rf_on_stop SIGINT' INT

  rf_log "job $jobid run $((restarts + 1)) (SLURM_RESTART_COUNT=$restarts) on ${SLURM_JOB_NODELIST:-?}, ${SLURM_NTASKS:-?} tasks"
  rf_log "program: $rf_program_from"
  rf_log "journal: $journal"
  rf_log "starting: srun ${srun_args[*]} $rf_program $* ${extra[*]}"
  local rc t_start t_end msg again
  if [ "$drained" = 1 ] || [ "$stopped" = 1 ]; then
    rc=75   # signalled while setting up: the flow never started
  else
    t_start=$(rf_now_us)
    srun "${srun_args[@]}" "$rf_program" "$@" "${extra[@]}" &
    srun_pid=$!
    # A trapped signal makes `wait` return at once (status > 128) while srun
    # still runs: wait again for srun's own exit code (127: already collected).
    rc=0
    wait "$srun_pid" || rc=$?
    while [ "$rc" -gt 128 ] && [ "$trapped" = 1 ]; do
      trapped=0
      again=0
      wait "$srun_pid" || again=$?
      [ "$again" = 127 ] && break
      rc=$again
    done
    t_end=$(rf_now_us)
    msg="srun exited with $rc after $(rf_secs $((t_end - t_start)))s"
    if [ -n "$t_signal" ]; then
      msg+=", $(rf_secs $((t_end - t_signal)))s after the signal"
    fi
    rf_log "$msg"
  fi

  if [ "$rc" = 0 ]; then
    rf_log "flow completed (run $((restarts + 1)))"
  elif [ "$rc" = 75 ] && [ "$drained" = 1 ] && [ "$stopped" = 0 ] &&
       [ "$restarts" -ge "$max_requeues" ]; then
    rf_log "drained, but not requeued: job $jobid was requeued $restarts times already (RANKFLOW_MAX_REQUEUES=$max_requeues); resubmit with the same arguments to resume from the journal"
  elif [ "$rc" = 75 ] && [ "$drained" = 1 ] && [ "$stopped" = 0 ]; then
    rf_log "drained after this script's SIGUSR1: requeue job $jobid (requeue $((restarts + 1)) of at most $max_requeues; the next run resumes from the journal)"
    trap '' TERM INT USR1   # the requeue ends this run
    if scontrol requeue "$jobid"; then
      rf_log "requeued"
    else
      rf_log "error: scontrol requeue failed: resubmit with the same arguments to resume" >&2
    fi
  elif [ "$rc" = 75 ]; then
    rf_log "stopped by a signal (not a drain this script started): not requeued; resubmit with the same arguments to resume from the journal"
  else
    rf_log "flow failed with exit code $rc: not requeued"
  fi
  exit "$rc"
}

# shellcheck disable=SC2317  # trap handlers: reached only through `trap`
rf_on_usr1() {
  trapped=1
  [ -n "$t_signal" ] || t_signal=$(rf_now_us)
  drained=1
  if [ -n "$srun_pid" ]; then
    rf_log "SIGUSR1: drain: forwarding it to srun (pid $srun_pid); running tasks get up to ${drain_grace}s"
    kill -USR1 "$srun_pid" 2>/dev/null || true
  else
    rf_log "SIGUSR1 before the flow started"
  fi
}
# shellcheck disable=SC2317
rf_on_stop() {
  trapped=1
  [ -n "$t_signal" ] || t_signal=$(rf_now_us)
  stopped=1
  rf_log "$1: stop (scancel or time limit): forwarding it to srun${srun_pid:+ (pid $srun_pid)}"
  if [ -n "$srun_pid" ]; then kill "-${1#SIG}" "$srun_pid" 2>/dev/null || true; fi
}
