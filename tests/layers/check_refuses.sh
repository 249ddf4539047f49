#!/usr/bin/env bash
# check_refuses.sh CHECKER TREE OBJECT...: the checker, run on a tree that
# breaks every rule once, exits 1 and names each break.
# SPDX-License-Identifier: BSD-3-Clause
set -u
out=$(/usr/bin/python3 "$1" "${@:2}")
rc=$?
echo "$out"
fail=0
[ "$rc" -eq 1 ] || { echo "check_refuses: exit $rc, not 1"; fail=1; }
while read -r want; do
  grep -qF -- "$want" <<< "$out" || { echo "check_refuses: no '$want'"; fail=1; }
done <<'LINES'
src/base/clock.c:4: base/ includes "rank0/coord.h" of rank0/, a layer it may not see
src/base/clock.c:5: base/ includes <mpi.h>
src/data/codec.c:3: data/ includes <mpi.h>
src/rank0/coord.h:3: only h5/ includes <hdf5.h>
jobs/job.c:4: a job includes "exec/exec.h": jobs use rankflow.h
src/base/calls_up.c: calls rf_fixture_rank0_work of src/rank0/work.c, a layer above it
src/api/flow.c:3: api/ includes "rank0/coord.h", private to rank0/
jobs/reach.c:4: a job includes "../src/rank0/coord.h": jobs use rankflow.h
jobs/reach.c:5: a job includes "exec/exec.h": jobs use rankflow.h
jobs/calls_internal.c: calls rf__coord_step, an internal function of the library
LINES
echo "check_refuses: $([ $fail -eq 0 ] && echo PASS || echo FAIL)"
exit $fail
