#!/usr/bin/env bash
# faults.sh MPIEXEC FAULT_FLOW RANKS: a task that crashes, exits or hangs
# never costs the job (tests/fault_flow.c has one misbehaving task):
#  - plain, a segfault kills the job, but first a line names the task;
#  - with --isolate, segv/abort/exit end that task crashed, the job exits
#    1 with every other task completed; a crash on the first attempt only
#    is retried and completes;
#  - a plain task past --task-timeout that looks at rf_ctx_cancelled ends
#    timed-out (exit 1); one that ignores it ends the job with exit 3 and a
#    line naming it, --drain-grace after its limit;
#  - a drain (SIGUSR1 to every rank, as srun sends it) whose running task
#    ignores cancel exits 75 within --drain-grace + 2 s, plain or isolated.
# SPDX-License-Identifier: BSD-3-Clause
set -u
mpiexec=$1 prog=$2 ranks=$3
. "$(dirname "$0")/proc_lib.sh"
out=$(mktemp) work=$(mktemp -d)
trap 'rm -rf "$out" "$work"' EXIT
fails=0
fail() { echo "faults: FAIL: $*"; echo "--- output:"; cat "$out"; fails=$((fails + 1)); }

run() { # run ARGS...: the flow at $ranks ranks, output in $out, sets $code
  if [ "$ranks" -eq 1 ]; then
    timeout 60 "$prog" "$@" > "$out" 2>&1
  else
    timeout 60 "$mpiexec" -n "$ranks" --oversubscribe "$prog" "$@" > "$out" 2>&1
  fi
  code=$?
}
expect() { # expect CODE PATTERN...: exit code and lines in the output
  local want=$1
  shift
  [ "$code" -eq "$want" ] || { fail "$case: exit $code, expected $want"; return; }
  for p in "$@"; do
    grep -Eq -- "$p" "$out" || { fail "$case: no line matching '$p'"; return; }
  done
  echo "faults: ok: $case (exit $code)"
}

# The sum of i*i over 0..19 without index 3 (9), and with it.
all=2470 without3=2461

case="plain segv names the task"
run --bad segv
if [ "$code" -ne 0 ] && grep -Eq '\[rank [0-9]+\] fatal: SIGSEGV in task work-[0-9a-f]{16} \(attempt 1\); rerun with --isolate to contain it' "$out"; then
  echo "faults: ok: $case (exit $code)"
else
  fail "$case (exit $code)"
fi

for bad in segv abort exit; do
  case="isolated $bad is contained"
  run --bad "$bad" --isolate
  expect 1 "^task 3: crashed after 1 attempt: " "^completed=19$" "^sum=$without3$"
done
case="isolated segv names the signal"
run --bad segv --isolate
expect 1 "killed by SIGSEGV"
case="isolated crash on the first attempt only is retried"
run --bad segv --bad-once --retries 1 --isolate
expect 0 "^completed=20$" "^sum=$all$"

case="plain cooperative task past --task-timeout ends timed-out"
run --bad coop --task-timeout 1 --sleep 0.01
expect 1 "^task 3: timed-out after 1 attempt: ran past its time limit of 1 s" \
  "over its time limit of 1 s: cancelled" "^completed=19$"
case="isolated hung task past --task-timeout is killed, retried, timed-out"
run --bad hang --task-timeout 1 --retries 1 --isolate --sleep 0.01
expect 1 "^task 3: timed-out after 2 attempts: ran past its time limit of 1 s" \
  "^completed=19$"
case="plain hung task past --task-timeout + --drain-grace ends the job"
t0=$(date +%s.%N)
run --bad hang --task-timeout 1 --drain-grace 1 --sleep 0.01
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
expect 3 "fatal: task work-[0-9a-f]{16} \(attempt 1\) is still running past its time limit of 1 s"
awk -v t="$took" 'BEGIN { exit !(t < 8) }' || fail "$case: took $took s"

# Resume after a plain crash: the task that was running when the rank died
# runs isolated, and the flow runs to its end (exit 1: that task crashed).
case="a resume runs the task that killed the rank isolated"
j="$work/journal"
run --bad segv --sleep 0.2 --journal "$j"
first=$code
run --bad segv --sleep 0.2 --journal "$j"
[ "$first" -ne 0 ] || fail "$case: the first run exited 0"
expect 1 "work-[0-9a-f]{16}: was running when an earlier run ended: running it isolated" \
  "^task 3: crashed after 1 attempt: killed by SIGSEGV" "^completed=19$" "^sum=$without3$"

# The crash limit counts across resumes, and --retry-failed lifts it.
case="--crash-limit counts crashes across resumes"
j="$work/limit"
for _ in 1 2; do run --bad segv --isolate --crash-limit 2 --journal "$j"; done
expect 1 "^task 3: crashed after 1 attempt: killed by SIGSEGV \(crashed --crash-limit 2 times"
case="a task at its crash limit is not run again by a resume"
run --bad segv --isolate --crash-limit 2 --journal "$j"
expect 1 "^task 3: crashed after 0 attempts: crashed its task host 2 times in earlier runs"
case="--retry-failed runs it again"
run --bad segv --bad-once --retries 1 --isolate --crash-limit 2 --journal "$j" --retry-failed
expect 0 "^completed=20$" "^sum=$all$"
case="--crash-limit within one run stops the retries"
run --bad segv --isolate --retries 5 --crash-limit 3
expect 1 "^task 3: crashed after 3 attempts: killed by SIGSEGV \(crashed --crash-limit 3 times"

# Drains: SIGUSR1 to every rank (and task host) 1.5 s in, grace 1 s.
# signal_all SIG ARGS...: run, signal every rank and task host 1.5 s in
# (with HOSTS_FIRST=1 the task hosts 0.3 s before the ranks, as when the
# batch system's signal reaches them first); sets $code and $took.
signal_all() {
  local sig=$1
  shift
  if [ "$ranks" -eq 1 ]; then
    "$prog" "$@" > "$out" 2>&1 &
  else
    "$mpiexec" -n "$ranks" --oversubscribe "$prog" "$@" > "$out" 2>&1 &
  fi
  local launcher=$!
  sleep 1.5
  local pids
  pids=$(job_pids "$launcher" "$(basename "$prog")")
  local t0
  t0=$(date +%s.%N)
  if [ "${HOSTS_FIRST:-0}" = 1 ]; then
    local p hosts=""
    for p in $pids; do # a task host is a child of a rank, of the same name
      [ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')" 2> /dev/null)" = \
        "$(ps -o comm= -p "$p")" ] && hosts="$hosts $p"
    done
    [ -n "$hosts" ] || fail "$case: no task host found"
    # shellcheck disable=SC2086 # one word per pid
    kill -"$sig" $hosts 2> /dev/null
    sleep 0.3
  fi
  # shellcheck disable=SC2086 # one word per pid
  kill -"$sig" $pids 2> /dev/null
  # Until every rank and host has exited (then the launcher's own end).
  # shellcheck disable=SC2086 # one word per pid
  wait_gone $pids
  took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

  for _ in $(seq 1 600); do
    kill -0 "$launcher" 2> /dev/null || break
    sleep 0.02
  done
  kill -KILL "$launcher" 2> /dev/null
  wait "$launcher"
  code=$?
}
for mode in plain isolated; do
  case="drain with a $mode task that ignores cancel"
  extra=()
  [ "$mode" = isolated ] && extra=(--isolate)
  signal_all USR1 --bad hang --bad-index 0 --tasks 2 --sleep 60 --drain-grace 1 \
    "${extra[@]}"
  # The grace (1 s) + 2 s for every process to be gone. Sanitizer builds
  # spend seconds more in exit-time leak checks (FAULTS_DRAIN_LIMIT).
  limit=${FAULTS_DRAIN_LIMIT:-3}
  [ "$code" -eq 75 ] || fail "$case: exit $code, expected 75"
  awk -v t="$took" -v l="$limit" 'BEGIN { exit !(t <= l) }' ||
    fail "$case: took $took s (limit $limit)"
  [ "$code" -eq 75 ] && echo "faults: ok: $case (exit 75 after $took s)"
done

# A drain starts nothing new, isolated tasks queued in a task host included:
# 0.05 s tasks, SIGUSR1 after 1.5 s, a grace of 3 s that would let some 60
# more start per worker.
case="a drain starts no queued isolated task"
signal_all USR1 --tasks 400 --sleep 0.05 --isolate --drain-grace 3
workers=$((ranks > 1 ? ranks - 1 : 1))
# The totals line counts what completed during the drain too.
done_n=$(sed -n 's/.*flow ended in .* tasks, \([0-9]*\) completed.*/\1/p' "$out")
most=$((workers * 36 + 10))
if [ "$code" -eq 75 ] && [ -n "$done_n" ] && [ "$done_n" -le "$most" ]; then
  echo "faults: ok: $case ($done_n completed, at most $most)"
else
  fail "$case: exit $code, ${done_n:-no} tasks completed (at most $most)"
fi

# scancel signals every process of the step, task hosts too: a host that
# dies of the job's SIGTERM is a stop, not a crash counted by the limit.
case="a task host stopped with its job is not a crash"
j="$work/stopped"
HOSTS_FIRST=1 signal_all TERM --bad hang --bad-index 0 --tasks 2 --sleep 30 \
  --isolate --crash-limit 1 --journal "$j"
[ "$code" -eq 75 ] || fail "$case: exit $code, expected 75"
run --tasks 2 --sleep 0.01 --isolate --crash-limit 1 --journal "$j"
expect 0 "^completed=2$"

[ "$fails" -eq 0 ] && echo "faults: PASS ($ranks ranks)" && exit 0
echo "faults: $fails failed"
exit 1
