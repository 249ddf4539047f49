#!/usr/bin/env bash
# parallel_pi.sh MPIEXEC JOB -- the parallel_pi job end to end: at 7 ranks
# (two pretend nodes) widths 1,2,3 write a frame pandas reads, a row per
# task with comm_size equal to its width and pi to 1e-10; a width above
# the workers exits 2 naming it; at one rank width 1 runs inline.
# SPDX-License-Identifier: BSD-3-Clause
set -u
mpiexec=$1 job=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
RANKFLOW_FAKE_NODES=2 "$mpiexec" -n 7 --oversubscribe "$job" --tasks 30 \
  --widths 1,2,3 --output "$tmp/pi.h5" > "$tmp/out" 2>&1 ||
  { fail "7 ranks: exit $?"; cat "$tmp/out"; }
/usr/bin/python3 - "$tmp/pi.h5" << 'PY' || fail "the frame"
import math, sys, pandas
d = pandas.read_hdf(sys.argv[1], "tasks")
assert list(d.columns) == ["width", "comm_size", "estimate"], d.columns
assert len(d) == 30 and all(t == "float64" for t in d.dtypes.astype(str))
assert (d["width"] == [1 + i % 3 for i in range(30)]).all()
assert (d["comm_size"] == d["width"]).all()
assert ((d["estimate"] - math.pi).abs() < 1e-10).all()
PY
"$mpiexec" -n 3 --oversubscribe "$job" --widths 1,4 --output "$tmp/x.h5" \
  > "$tmp/wide" 2>&1
code=$?
[ "$code" = 2 ] || fail "width 4 on 2 workers: exit $code, want 2"
grep -q "runs on 4 ranks; this job has 2 workers" "$tmp/wide" ||
  { fail "width 4: no clear error"; cat "$tmp/wide"; }
[ ! -e "$tmp/x.h5" ] || fail "width 4: an output was written"
"$job" --widths 1 --tasks 3 --output "$tmp/one.h5" > "$tmp/one" 2>&1 ||
  { fail "1 rank, width 1: exit $?"; cat "$tmp/one"; }
echo "$fails failed"
[ "$fails" = 0 ]
