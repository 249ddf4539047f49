#!/usr/bin/env bash
# lint_scripts.sh -- CTest `slurm_scripts_lint`: the batch scripts in slurm/
# are what users copy, so check them without a cluster: shellcheck-clean
# (with this directory's test scripts), each opens with a comment saying what
# it is for, has the #SBATCH lines a resumable job needs (--output with %j,
# --open-mode=append, --requeue, --signal=B:USR1@N with N well above the
# default drain grace), and all load one body the same way (the lines below
# the "the rest is rankflow's" marker, identical in every script), so a fix
# in slurm/rankflow-job.sh lands in all.
# Usage: lint_scripts.sh SLURM_SCRIPTS_DIR   (needs shellcheck, Debian's)
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$1
fail=0
bad() { echo "FAIL: $*"; fail=1; }

command -v shellcheck >/dev/null ||
  { echo "FAIL: shellcheck not found: install Debian's shellcheck (scripts/setup.sh)"; exit 1; }
scripts=("$dir/timeseries_summary.sbatch" "$dir/nino34_plumes.sbatch" "$dir/template.sbatch")
for s in "${scripts[@]}" "$dir/rankflow-job.sh"; do [ -f "$s" ] || bad "missing $s"; done
[ "$fail" = 0 ] || exit 1

# -x: follow each script's `. rankflow-job.sh` (its source-path directive).
shellcheck -x "${scripts[@]}" "$dir/rankflow-job.sh" || bad "shellcheck: slurm/"
(cd "$HERE" && shellcheck -x ./*.sh hello.sbatch) || bad "shellcheck: tests/slurm"

marker="# ---- the rest is rankflow's: slurm/rankflow-job.sh does the work"
body() { awk -v m="$marker" 'index($0, m) == 1 { on = 1 } on' "$1"; }
ref=$(body "$dir/template.sbatch")
[ -n "$ref" ] || bad "template.sbatch has no '$marker' line"
for s in "${scripts[@]}"; do
  n=${s##*/}
  [ "$(body "$s")" = "$ref" ] || bad "$n: body differs from template.sbatch's (below '$marker')"
  sed -n 2p "$s" | grep -q "^# $n -- " || bad "$n: line 2 is not '# $n -- what it is for'"
  grep -q '^#SBATCH --output=.*%j' "$s" || bad "$n: no '#SBATCH --output=...%j...'"
  grep -q '^#SBATCH --open-mode=append$' "$s" || bad "$n: no '#SBATCH --open-mode=append'"
  grep -q '^#SBATCH --requeue$' "$s" || bad "$n: no '#SBATCH --requeue'"
  grep -q '^set -euo pipefail$' "$s" || bad "$n: no 'set -euo pipefail'"
  lead=$(sed -n 's/^#SBATCH --signal=B:USR1@\([0-9]*\)$/\1/p' "$s")
  # Default drain grace 20 s + time to write outputs + Slurm's up to 60 s early.
  if [ -z "$lead" ] || [ "$lead" -lt 60 ]; then
    bad "$n: want '#SBATCH --signal=B:USR1@N', N >= 60 (got '${lead}')"
  fi
done
sed -n 1p "$dir/rankflow-job.sh" | grep -q '^# rankflow-job.sh -- ' ||
  bad "rankflow-job.sh: line 1 is not '# rankflow-job.sh -- what it is for'"
grep -q '^rankflow_main() {$' "$dir/rankflow-job.sh" || bad "rankflow-job.sh: no rankflow_main"
grep -qF "drain_grace=\${DRAIN_GRACE:-20}" "$dir/rankflow-job.sh" ||
  bad "rankflow-job.sh: default drain grace is not 20 s (below KillWait 30)"

# What a careless user meets without a cluster: one-line errors, exit 2.
# expect_error WANT_TEXT CMD...: runs CMD (from the checkout's root, outside
# any job); wants exit 2 and WANT_TEXT in its one line of stderr.
expect_error() {
  local want=$1 rc=0 err; shift
  err=$(cd "$dir/.." && env -u SLURM_JOB_ID -u SLURM_SUBMIT_DIR -u RANKFLOW_PROGRAM \
          -u RANKFLOW_PREFIX -u RANKFLOW_BUILD -u RANKFLOW_MAX_REQUEUES "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" = 2 ] || bad "$*: exit $rc, want 2"
  [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || bad "$*: want one line on stderr, got: $err"
  case $err in *"$want"*) ;; *) bad "$*: stderr '$err' does not say '$want'" ;; esac
}
expect_error "no program to run: tried /nonexistent/jobs/timeseries_summary (RANKFLOW_BUILD)" \
  RANKFLOW_BUILD=/nonexistent bash "$dir/timeseries_summary.sbatch"
expect_error "no program to run: tried /nonexistent/bin/rankflow-nino34-plumes (RANKFLOW_PREFIX)" \
  RANKFLOW_PREFIX=/nonexistent bash "$dir/nino34_plumes.sbatch"
expect_error "no program to run: tried /tmp (RANKFLOW_PROGRAM)" \
  RANKFLOW_PROGRAM=/tmp bash "$dir/template.sbatch"
expect_error "RANKFLOW_MAX_REQUEUES=ten is not a count" \
  RANKFLOW_PROGRAM=/bin/true RANKFLOW_MAX_REQUEUES=ten bash "$dir/template.sbatch"
expect_error "set program= in your copy of the script" bash "$dir/template.sbatch"
tmp=$(mktemp -d); cp "$dir/template.sbatch" "$tmp/"   # a copy away from its body
expect_error "cannot read /nonexistent/slurm/rankflow-job.sh" \
  SLURM_SUBMIT_DIR=/nonexistent bash "$tmp/template.sbatch"
rm -rf "$tmp"

if [ "$fail" = 0 ]; then echo "slurm_scripts_lint: OK"; fi
exit "$fail"
