#!/usr/bin/env bash
# run_hello.sh -- CTest `slurm_hello`: submit hello.sbatch to the test
# cluster, wait (bounded) for it to end, and check that it COMPLETED with
# ExitCode 0:0 and both MPI ranks reported.
# Usage: run_hello.sh HELLO_MPI_BINARY WORK_DIR   (needs RF_SLURM_DIR)
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$1 work=$2
# shellcheck source=slurm_lib.sh
. "$HERE/slurm_lib.sh"

rm -rf "$work"; mkdir -p "$work"; cd "$work"
t0=$SECONDS
jid=$(sbatch --parsable -o "$work/hello-%j.out" "$HERE/hello.sbatch" "$bin")
jid=${jid%%;*}
echo "submitted job $jid"
state=$(rf_slurm_wait "$jid" 90) || { scancel "$jid" 2>/dev/null || true; }
exit_code=$(rf_slurm_field "$jid" ExitCode)
out=$work/hello-$jid.out
echo "job $jid: JobState=$state ExitCode=$exit_code after $((SECONDS - t0))s"
echo "----- $out"; cat "$out" 2>/dev/null || true; echo "-----"
fail=0
[ "$state" = COMPLETED ] || { echo "FAIL: JobState=$state, want COMPLETED"; fail=1; }
[ "$exit_code" = 0:0 ] || { echo "FAIL: ExitCode=$exit_code, want 0:0"; fail=1; }
for r in 0 1; do
  grep -q "^hello from rank $r of 2 " "$out" 2>/dev/null ||
    { echo "FAIL: no line from rank $r of 2"; fail=1; }
done
grep -q '^ALLREDUCE OK' "$out" 2>/dev/null || { echo "FAIL: no ALLREDUCE OK"; fail=1; }
if [ "$fail" = 0 ]; then echo "slurm_hello: OK"; fi
exit "$fail"
