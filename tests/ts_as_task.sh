#!/usr/bin/env bash
# ts_as_task.sh MPIEXEC JOB -- timeseries_summary --as-task (one task that
# fans the summary out over the job as subtasks, the origin story's shape)
# writes bitwise the frame of the direct run, at 1, 2 and 4 ranks; with
# --write-data or --input it is refused (exit 2).
# SPDX-License-Identifier: BSD-3-Clause
set -u
mpiexec=$1 job=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
args=(--end 2000-03 --quiet)
"$mpiexec" -n 2 --oversubscribe "$job" "${args[@]}" --output "$tmp/direct.h5" \
  > /dev/null || { echo "FAIL - direct run"; exit 1; }
for n in 1 2 4; do
  "$mpiexec" -n "$n" --oversubscribe "$job" "${args[@]}" --as-task \
    --output "$tmp/task$n.h5" > "$tmp/out$n" 2>&1 ||
    { echo "FAIL - --as-task at $n ranks"; cat "$tmp/out$n"; fails=$((fails + 1)); }
done
/usr/bin/python3 - "$tmp" << 'PY' || fails=$((fails + 1))
import os, sys, pandas
d = sys.argv[1]
ref = pandas.read_hdf(os.path.join(d, "direct.h5"), "summary")
for n in (1, 2, 4):
    got = pandas.read_hdf(os.path.join(d, "task%d.h5" % n), "summary")
    same = got.index.equals(ref.index) and list(got.columns) == list(ref.columns) \
        and got.to_numpy().tobytes() == ref.to_numpy().tobytes()
    print("--as-task at %d ranks: %s" % (n, "same frame" if same else "DIFFERENT"))
    if not same:
        sys.exit(1)
PY
for bad in "--write-data $tmp/x.h5" "--input $tmp/direct.h5"; do
  # shellcheck disable=SC2086
  "$job" --as-task $bad --output "$tmp/y.h5" > "$tmp/bad" 2>&1
  code=$?
  if [ "$code" != 2 ] || ! grep -q "cannot be used together" "$tmp/bad"; then
    echo "FAIL - --as-task $bad: exit $code"; cat "$tmp/bad"; fails=$((fails + 1))
  fi
done
echo "$fails failed"
[ "$fails" = 0 ]
