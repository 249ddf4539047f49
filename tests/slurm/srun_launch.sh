#!/usr/bin/env bash
# srun_launch.sh -- CTest `slurm_srun_launch`: how a rankflow program meets
# srun on the test cluster. Debian's Open MPI joins a job only through PMIx:
# started by `srun --mpi=none` (or a cluster whose MpiDefault is none) it
# would abort inside MPI_Init with twenty lines about rebuilding Open MPI;
# rankflow must instead exit 3 with one line naming `srun --mpi=pmix`. And
# the check must not misfire: `srun --mpi=pmix` runs the flow, --help needs
# no MPI at all, and mpirun inside an srun step (its own PMIx) runs it too;
# so do task hosts (--isolate) started inside the step.
# Usage: srun_launch.sh HELLO_FLOW MPIEXEC   (needs RF_SLURM_DIR)
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
flow=$1 mpiexec=$2
# shellcheck source=slurm_lib.sh
. "$HERE/slurm_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
want="sum of squares 1..10 = 385 (2 ranks)"

# run NAME CMD...: runs CMD (bounded), keeps rc, stdout, and stderr without
# srun's own "srun: ..." lines.
run() {
  local name=$1; shift
  rc=0
  timeout 90 "$@" > "$tmp/$name.out" 2> "$tmp/$name.all" || rc=$?
  grep -v '^srun: ' "$tmp/$name.all" > "$tmp/$name.err" || true
  echo "$name: exit $rc"; sed 's/^/  | /' "$tmp/$name.out" "$tmp/$name.all"
}

run none srun -n 2 --mpi=none "$flow" --n 10
[ "$rc" = 3 ] || bad "srun --mpi=none: exit $rc, want 3"
[ "$(wc -l < "$tmp/none.err")" = 1 ] || bad "srun --mpi=none: want one line on stderr (rank 0's)"
grep -q "started by srun without PMIx.*run srun --mpi=pmix $flow" "$tmp/none.err" ||
  bad "srun --mpi=none: the line does not name srun --mpi=pmix"
[ ! -s "$tmp/none.out" ] || bad "srun --mpi=none: printed on stdout"

run pmix srun -n 2 --mpi=pmix "$flow" --n 10
[ "$rc" = 0 ] || bad "srun --mpi=pmix: exit $rc"
[ "$(cat "$tmp/pmix.out")" = "$want" ] || bad "srun --mpi=pmix: printed '$(cat "$tmp/pmix.out")'"

# Task hosts inside a PMIx step: started by the workers, they must not
# take themselves for ranks of the step (its variables are removed).
run isolate srun -n 2 --mpi=pmix "$flow" --n 10 --isolate
[ "$rc" = 0 ] || bad "srun --mpi=pmix ... --isolate: exit $rc"
[ "$(cat "$tmp/isolate.out")" = "$want" ] ||
  bad "srun --mpi=pmix ... --isolate: printed '$(cat "$tmp/isolate.out")'"

run help srun -n 2 --mpi=none "$flow" --help
[ "$rc" = 0 ] || bad "srun --mpi=none ... --help: exit $rc, want 0 (help needs no MPI)"
[ "$(grep -c '^Usage: ' "$tmp/help.out")" = 1 ] || bad "--help: want one usage (rank 0's)"

run mpirun srun -n 1 --mpi=none "$mpiexec" -n 2 --oversubscribe "$flow" --n 10
[ "$rc" = 0 ] || bad "mpirun inside an srun step: exit $rc"
[ "$(cat "$tmp/mpirun.out")" = "$want" ] || bad "mpirun inside an srun step: printed '$(cat "$tmp/mpirun.out")'"

if [ "$fail" = 0 ]; then echo "slurm_srun_launch: OK"; fi
exit "$fail"
