#!/usr/bin/env bash
# sbatch_jobs.sh -- CTest `slurm_timeseries_sbatch` / `slurm_nino34_sbatch`:
# submit the real slurm/timeseries_summary.sbatch or slurm/nino34_plumes.sbatch,
# as a user would (from a work directory, arguments after the script), to the
# test cluster with small inputs, and check the job and what it wrote: state
# COMPLETED with ExitCode 0:0 and one run; the log named by the script's
# --output (NAME-JOBID.out in the submit directory) tells the run and its
# exit; the journal is on by default; timeseries: the HDF5 summary read by
# pandas.read_hdf; nino34 (against hostile_http on 127.0.0.1, 100 ms
# latency): three 30000-byte PNGs. installed: BUILD_DIR installed to a
# prefix in WORK_DIR, that prefix's share/rankflow/slurm/timeseries_summary.sbatch
# submitted with no setting at all: it must run its own install's program.
#
# Usage: sbatch_jobs.sh timeseries|installed SLURM_SCRIPTS_DIR BUILD_DIR WORK_DIR
#        sbatch_jobs.sh nino34 SLURM_SCRIPTS_DIR BUILD_DIR WORK_DIR HOSTILE_HTTP
# BUILD_DIR is the build holding jobs/; it reaches the batch script as
# RANKFLOW_BUILD through sbatch's exported environment. The script finds its
# body (slurm/rankflow-job.sh) beside the submitted file, as it does for a
# user submitting from elsewhere. Needs RF_SLURM_DIR.
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=$1 scripts=$2 build=$3 work=$4
[ -x "$build/jobs/timeseries_summary" ] || { echo "FAIL: no $build/jobs/ (BUILD_DIR)"; exit 1; }
# shellcheck source=slurm_lib.sh
. "$HERE/slurm_lib.sh"

fail=0
bad() { echo "FAIL: $*"; fail=1; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"
export RANKFLOW_BUILD=$build
unset JOURNAL DRAIN_GRACE RANKFLOW_PROGRAM RANKFLOW_PREFIX RANKFLOW_SRUN_MPI RANKFLOW_MAX_REQUEUES

srv_pid=""
# shellcheck disable=SC2317  # reached through `trap`
cleanup() { if [ -n "$srv_pid" ]; then stop_server "$srv_pid"; fi; }
trap cleanup EXIT

case $mode in
  timeseries)
    name=timeseries_summary
    want_program="$build/jobs/$name (RANKFLOW_BUILD)"
    args=(--end 2000-01-15 --partition-freq 1d --output "$work/s.h5")
    ;;
  installed)
    name=timeseries_summary
    cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
    scripts=$work/prefix/share/rankflow/slurm
    unset RANKFLOW_BUILD
    want_program="$work/prefix/bin/rankflow-timeseries-summary (this script's install)"
    args=(--end 2000-01-15 --partition-freq 1d --output "$work/s.h5")
    ;;
  nino34)
    name=nino34_plumes
    # shellcheck source=../servers/server_lib.sh
    . "$HERE/../servers/server_lib.sh"
    want_program="$build/jobs/$name (RANKFLOW_BUILD)"
    start_server "$5" "$work/server.out" --max-seconds 150
    srv_pid=$pid
    [ -n "$port" ] || { echo "FAIL: hostile_http printed no port"; exit 1; }
    echo "hostile_http on port $port"
    args=(--year 2022 --months 1-3 --dir "$work/img" --retries 2
          --base-url "http://127.0.0.1:$port/delay/100")
    ;;
  *) echo "usage: $0 timeseries|installed|nino34 ..." >&2; exit 2 ;;
esac

t0=$SECONDS
# -n 2: the test node has 2 CPUs (the script asks for more on a real cluster).
jid=$(sbatch --parsable -n 2 "$scripts/$name.sbatch" "${args[@]}")
jid=${jid%%;*}
echo "submitted $name.sbatch as job $jid: ${args[*]}"
state=$(rf_slurm_wait "$jid" 100) || { scancel "$jid" 2>/dev/null || true; }
exit_code=$(rf_slurm_field "$jid" ExitCode)
restarts=$(rf_slurm_field "$jid" Restarts)
log=$work/$name-$jid.out
echo "job $jid: JobState=$state ExitCode=$exit_code Restarts=$restarts after $((SECONDS - t0))s"
echo "----- $log"; cat "$log" 2>/dev/null || echo "(missing)"; echo "-----"

[ "$state" = COMPLETED ] || bad "JobState=$state, want COMPLETED"
[ "$exit_code" = 0:0 ] || bad "ExitCode=$exit_code, want 0:0"
[ "$restarts" = 0 ] || bad "Restarts=$restarts, want 0"
[ -s "$log" ] || bad "no log $log (the script's --output=$name-%j.out)"
grep -q "job $jid run 1 (SLURM_RESTART_COUNT=0)" "$log" || bad "log: no 'run 1' line"
grep -qF "program: $want_program" "$log" || bad "log: no 'program: $want_program' line"
grep -qF "starting: srun --mpi=pmix --kill-on-bad-exit=1 ${want_program% (*}" "$log" ||
  bad "log: srun not started with --mpi=pmix ${want_program% (*}"
grep -q "srun exited with 0 after" "$log" || bad "log: no 'srun exited with 0' line"
grep -q "flow completed (run 1)" "$log" || bad "log: no 'flow completed' line"
journal=$(sed -n 's/.*\] journal: //p' "$log" | head -n 1)
case $journal in
  "$work/$name-"*.journal) [ -s "$journal" ] || bad "journal $journal is missing or empty" ;;
  *) bad "journal '$journal' is not $work/$name-CHECKSUM.journal (on by default)" ;;
esac
runs=$(sacct -c -n -j "$jid" -o State 2>/dev/null | awk 'NF' | wc -l)
[ "$runs" = 1 ] || bad "sacct -c lists $runs runs of job $jid, want 1"

case $mode in
  timeseries|installed)
    /usr/bin/python3 - "$work/s.h5" <<'EOF' || bad "pandas.read_hdf of $work/s.h5"
import sys
import pandas as pd
f = pd.read_hdf(sys.argv[1], "summary")
print(f)
assert list(f.index) == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"], f.index
assert list(f.columns) == ["id", "x", "y"], f.columns
assert (f.loc["count"] == 14 * 86400).all(), f.loc["count"]  # 14 days of 1 s rows
print("pandas.read_hdf: OK")
EOF
    ;;
  nino34)
    for m in 01 02 03; do
      png=$work/img/2022$m.png
      size=$(stat -c %s "$png" 2>/dev/null || echo missing)
      [ "$size" = 30000 ] || bad "$png: size $size, want 30000"
      [ "$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        bad "$png: no PNG signature"
    done
    extra=$(find "$work/img" -type f ! -name '20220[123].png' | wc -l)
    [ "$extra" = 0 ] || bad "$extra unexpected files in $work/img"
    ;;
esac

if [ "$fail" = 0 ]; then echo "slurm_${mode}_sbatch: OK"; fi
exit "$fail"
