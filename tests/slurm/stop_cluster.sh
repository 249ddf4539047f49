#!/usr/bin/env bash
# stop_cluster.sh -- stop the private test Slurm cluster that start_cluster.sh
# started in $RF_SLURM_DIR.
#
# Why: it is the FIXTURES_CLEANUP of CTest's `slurm_cluster` fixture, so the
# next `ctest -L slurm` (or a system Slurm) finds the ports free and no stray
# job left running. It cancels every job of that cluster, waits for them to
# end (at most KillWait + 30 s), shuts the daemons down and signals only the
# PIDs recorded in $RF_SLURM_DIR/pids, after checking each still is the
# daemon it was (PIDs get reused). munged is stopped only if start_cluster.sh
# started it. Succeeds when nothing is running; exits non-zero only if a
# recorded daemon survives SIGKILL. Logs stay in $RF_SLURM_DIR/log;
# RF_SLURM_CLEAN=1 removes the whole state directory as well.
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail

PATH=$PATH:/usr/sbin:/sbin
DIR=${RF_SLURM_DIR:-$PWD/slurm-cluster}
log() { echo "[stop_cluster $(date +%T)] $*"; }

if [ ! -d "$DIR" ]; then
  log "no state directory $DIR: nothing to stop"
  exit 0
fi
DIR=$(cd "$DIR" && pwd)
CONF=$DIR/slurm.conf
PIDS=$DIR/pids
export SLURM_CONF=$CONF
KILL_WAIT=$(sed -n 's/^KillWait=\([0-9]*\).*/\1/p' "$CONF" 2>/dev/null || true)
KILL_WAIT=${KILL_WAIT:-30}

recorded() {  # pid recorded for daemon $1, if any
  if [ -f "$PIDS" ]; then awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$PIDS"; fi
}
ours() {  # pid $1 is alive (not a zombie) and still runs program $2
  [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
wait_gone() {  # wait up to $2 seconds for pid $1 (daemon $3) to exit
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    ours "$1" "$3" || return 0
    sleep 0.2
  done
  ! ours "$1" "$3"
}
stop_daemon() {  # $1 = name: graceful wait, then SIGTERM, then SIGKILL
  local pid
  pid=$(recorded "$1")
  ours "$pid" "$1" || return 0
  wait_gone "$pid" 10 "$1" && return 0
  log "$1 ($pid) still running: SIGTERM"
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 "$1" && return 0
  log "$1 ($pid) still running: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 5 "$1" && return 0
  log "ERROR: $1 ($pid) survived SIGKILL"
  return 1
}

ctld=$(recorded slurmctld)
slurmd_pid=$(recorded slurmd)
if ours "$ctld" slurmctld; then
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ' || true)
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    # Jobs that ignore SIGTERM get SIGKILL after KillWait seconds.
    left=$jobs
    for ((i = 0; i < (KILL_WAIT + 30) * 2; i++)); do
      left=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ' || true)
      [ -z "${left// /}" ] && break
      sleep 0.5
    done
    [ -z "${left// /}" ] || log "WARNING: jobs still not gone: $left"
  fi
  log "scontrol shutdown"
  scontrol shutdown 2>/dev/null || true
elif ours "$slurmd_pid" slurmd; then
  log "slurmctld is gone but slurmd ($slurmd_pid) runs"
fi

rc=0
stop_daemon slurmd || rc=1
stop_daemon slurmctld || rc=1

# Job steps whose slurmd went away (e.g. it was SIGKILLed) keep running as
# orphans: end those of this cluster, i.e. slurmstepd and job processes with
# SLURM_CONF=$CONF (and, for job processes, SLURM_JOB_ID) in their environment.
keep=" $$ "
p=$$
while [ "$p" -gt 1 ] 2>/dev/null; do  # never ourselves or our callers
  p=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $2}')
  p=${p:-1}
  keep+="$p "
done
orphans=()
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  [[ $keep == *" $pid "* ]] && continue
  grep -qzxF "SLURM_CONF=$CONF" "$d/environ" 2>/dev/null || continue
  if [ "$(cat "$d/comm" 2>/dev/null)" = slurmstepd ] ||
     grep -qz '^SLURM_JOB_ID=' "$d/environ" 2>/dev/null; then
    orphans+=("$pid")
  fi
done
if [ ${#orphans[@]} -gt 0 ]; then
  log "killing orphaned job processes of this cluster: ${orphans[*]}"
  kill -KILL "${orphans[@]}" 2>/dev/null || true
fi

if [ -e "$DIR/munged.ours" ]; then
  stop_daemon_munged() {
    local pid
    pid=$(recorded munged)
    ours "$pid" munged || return 0
    log "stopping munged ($pid), started by start_cluster.sh"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 munged && return 0
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 munged
  }
  stop_daemon_munged || rc=1
  rm -f "$DIR/munged.ours"
fi

if [ "$rc" = 0 ]; then
  rm -f "$PIDS" "$DIR/slurmctld.pid" "$DIR/slurmd.pid"
  # A short spool dir under /tmp (see start_cluster.sh) is removed too.
  if [ -L "$DIR/spool" ]; then
    target=$(readlink "$DIR/spool")
    case "$target" in /tmp/rf-slurm-spool-*) rm -rf "$target" ;; esac
    rm -f "$DIR/spool"
  fi
  if [ "${RF_SLURM_CLEAN:-0}" = 1 ]; then
    rm -rf "$DIR"
  fi
  log "stopped"
fi
exit "$rc"
