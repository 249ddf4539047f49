# shellcheck shell=bash
# proc_lib.sh -- sourced by tests that signal a job's ranks: find them among
# the descendants of the launcher the test started, never by name across
# the machine (tests run in parallel, and a user may run the same job).
# SPDX-License-Identifier: BSD-3-Clause

# job_pids LAUNCHER NAME: PIDs of processes named NAME (as ps shows it) in
# LAUNCHER's tree, LAUNCHER included.
job_pids() {
  local p=$1 name=$2 kid
  [ "$(ps -o comm= -p "$p" 2> /dev/null)" = "${name:0:15}" ] && echo "$p"
  for kid in $(pgrep -P "$p"); do job_pids "$kid" "$name"; done
}

# wait_gone PIDS...: wait (up to 12 s) until every process has exited; a
# zombie has (an exited rank may stay one until mpirun's daemon reaps it,
# and mpirun's own tear-down comes after).
wait_gone() {
  local p st alive
  for _ in $(seq 1 600); do
    alive=0
    for p in "$@"; do
      st=$(ps -o stat= -p "$p" 2> /dev/null || true)
      case "$st" in "" | Z*) ;; *) alive=1 ;; esac
    done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.02
  done
  return 1
}
