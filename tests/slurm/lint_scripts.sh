#!/usr/bin/env bash
# lint_scripts.sh -- CTest `slurm_scripts_lint`: the batch scripts in slurm/
# are what users copy, so check them without a cluster: shellcheck-clean
# (with this directory's test scripts), each opens with a comment saying what
# it is for, has the #SBATCH lines a resumable job needs (--output with %j,
# --open-mode=append, --requeue, --signal=B:USR1@N with N well above the
# default drain grace), and all share one body (the part below the
# "same in every rankflow batch script" marker), so a fix lands in all.
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
for s in "${scripts[@]}"; do [ -f "$s" ] || bad "missing $s"; done
[ "$fail" = 0 ] || exit 1

shellcheck "${scripts[@]}" || bad "shellcheck: slurm/*.sbatch"
(cd "$HERE" && shellcheck -x ./*.sh hello.sbatch) || bad "shellcheck: tests/slurm"

marker='# ---- the rest is the same in every rankflow batch script'
body() { sed -n "/^$marker/,\$p" "$1"; }
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
grep -qF "drain_grace=\${DRAIN_GRACE:-20}" "$dir/template.sbatch" ||
  bad "template.sbatch: default drain grace is not 20 s (below KillWait 30)"

if [ "$fail" = 0 ]; then echo "slurm_scripts_lint: OK"; fi
exit "$fail"
