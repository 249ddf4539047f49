#!/usr/bin/env bash
# journal_resume.sh MPIEXEC PROG RANKS HELLO TS -- the task journal.
#
# PROG is tests/test_flow_journal (tasks that leave one marker line per run
# and return i^2; a last task sums them), HELLO jobs/hello_flow, TS
# jobs/timeseries_summary. At RANKS ranks (1: directly; more: MPIEXEC):
# kill -9 mid-flow, then a rerun resumes (tasks in the journal are not run
# again, the sum is right); SIGUSR1 drains with 75 and the rerun runs every
# task exactly once in all; a torn last record is dropped with a warning;
# another flow's or identity's journal, an unwritable path and a file that
# is not a journal exit 2; --drain-grace bounds a drain; the timeseries
# frame after kill -9 and a resume is bitwise the uninterrupted run's.
# SPDX-License-Identifier: BSD-3-Clause
set -u
mpiexec=$1 prog=$2 ranks=$3 hello=$4 ts=$5
here=$(cd "$(dirname "$0")" && pwd)
. "$here/proc_lib.sh"
tmp=$(mktemp -d)
launcher=
fails=0
cleanup() {
  [ -n "$launcher" ] && kill -KILL $(job_pids "$launcher" "$(basename "$prog")") "$launcher" 2> /dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
expect() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }
has() { if grep -q -e "$2" "$3"; then pass "$1"; else fail "$1: no '$2' in:"; sed 's/^/    | /' "$3"; fi; }

launch() { # launch OUT BINARY ARGS...: in the background, sets launcher
  local out=$1 bin=$2
  shift 2
  if [ "$ranks" = 1 ]; then
    "$bin" "$@" > "$out" 2>&1 &
  else
    "$mpiexec" -n "$ranks" --oversubscribe "$bin" "$@" > "$out" 2>&1 &
  fi
  launcher=$!
}
run() { launch "$@"; wait "$launcher"; local c=$?; launcher=; return $c; }
# wait_for_size FILE BYTES: until FILE holds more than BYTES (10 s at most)
wait_for_size() {
  for _ in $(seq 200); do
    [ "$(stat -c %s "$1" 2> /dev/null || echo 0)" -gt "$2" ] && return 0
    sleep 0.05
  done
  return 1
}
# kill9: SIGKILL to the launcher (mpirun, or the single rank) and its
# ranks at once, as a node losing the job would.
kill9() {
  kill -KILL "$launcher" $(job_pids "$launcher" "$1") 2> /dev/null
  wait "$launcher" 2> /dev/null
  launcher=
}

N=40
want=$(awk -v n=$N 'BEGIN { s = 0; for (i = 0; i < n; i++) s += i * i; print s }')
J=$tmp/j.rfj M=$tmp/markers
common=(--tasks $N --seconds 0.1 --journal "$J" --markers "$M" --quiet)

# --- kill -9 mid-flow, then resume ------------------------------------
launch "$tmp/k1.out" "$prog" "${common[@]}"
wait_for_size "$J" 600 || fail "kill9: the journal never grew"
kill9 "$(basename "$prog")"
run "$tmp/k2.out" "$prog" "${common[@]}" --check --max-runs 2
expect "kill9: the resumed run exits 0" "$?" 0
has "kill9: the sum is right" "^sum $want from-journal" "$tmp/k2.out"
k=$(sed -n 's/^sum .* from-journal //p' "$tmp/k2.out")
if [ "${k:-0}" -ge 1 ] && [ "${k:-0}" -lt $N ]; then
  pass "kill9: $k of $N tasks came from the journal"
else
  fail "kill9: ${k:-no} tasks from the journal (want 1..$((N - 1)))"
fi

# --- a complete journal: nothing runs again -----------------------------
run "$tmp/again.out" "$prog" "${common[@]}" --check --max-runs 2
expect "complete: exit 0" "$?" 0
has "complete: every task from the journal" "^sum $want from-journal $N\$" "$tmp/again.out"

# --- SIGUSR1 drains with 75; the rerun runs each task once in all --------
rm -f "$J" "$M"
launch "$tmp/d1.out" "$prog" "${common[@]}"
wait_for_size "$J" 600 || fail "drain: the journal never grew"
if [ "$ranks" = 1 ]; then kill -USR1 "$launcher"; else kill -USR1 "$launcher"; fi
wait "$launcher"
expect "drain: exit 75" "$?" 75
launcher=
run "$tmp/d2.out" "$prog" "${common[@]}" --check --max-runs 1
expect "drain: the rerun exits 0 (each task ran once)" "$?" 0
has "drain: the sum is right" "^sum $want " "$tmp/d2.out"

# --- a torn last record --------------------------------------------------
truncate -s -5 "$J"
run "$tmp/t.out" "$prog" "${common[@]}" --max-runs 2
expect "torn: exit 0" "$?" 0
has "torn: warned" "dropping a torn last record" "$tmp/t.out"
has "torn: the sum is right" "^sum $want " "$tmp/t.out"

# --- refused journals: exit 2, one line ----------------------------------
run "$tmp/f1.out" "$hello" --journal "$J"
expect "foreign flow: exit 2" "$?" 2
has "foreign flow: says whose" "belongs to flow 'test_flow_journal', not 'hello_flow'" "$tmp/f1.out"
run "$tmp/f2.out" "$prog" --tasks 41 --markers "$M" --journal "$J"
expect "other identity: exit 2" "$?" 2
has "other identity: names the flag" "it has --tasks 40, this run --tasks 41" "$tmp/f2.out"
run "$tmp/f3.out" "$prog" --markers "$M" --journal "$tmp/no/such/dir/j"
expect "unwritable path: exit 2" "$?" 2
has "unwritable path: says why" "cannot create" "$tmp/f3.out"
echo "not a journal" > "$tmp/text"
run "$tmp/f4.out" "$prog" --markers "$M" --journal "$tmp/text"
expect "not a journal: exit 2" "$?" 2
has "not a journal: says so" "is not a rankflow journal" "$tmp/f4.out"

cp "$J" "$tmp/damaged.rfj"
printf 'X' | dd of="$tmp/damaged.rfj" bs=1 seek=200 conv=notrunc status=none
run "$tmp/f5.out" "$prog" "${common[@]/$J/$tmp/damaged.rfj}"
expect "damaged record: exit 2" "$?" 2
has "damaged record: says where" "is damaged at byte" "$tmp/f5.out"

# --- --drain-grace bounds a drain ----------------------------------------
launch "$tmp/g.out" "$prog" --tasks 4 --seconds 60 --markers "$M.g" \
  --journal "$tmp/g.rfj" --drain-grace 0.5
sleep 1.5
t0=$(date +%s.%N)
kill -USR1 "$launcher"
wait "$launcher"
code=$?
t1=$(date +%s.%N)
launcher=
expect "drain-grace: exit 75" "$code" 75
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
if awk -v t="$took" 'BEGIN { exit !(t < 5) }'; then
  pass "drain-grace: left after $took s"
else
  fail "drain-grace: took $took s"
fi

# --- the timeseries frame after kill -9 and a resume ---------------------
# With --write-data, killed in pass 1 (a pass-1 record is ~60 KB): the
# rerun reopens DATA.partial, writes only the missing partitions, and the
# data file equals the uninterrupted run's too.
ts_args=(--end 2000-07 --partition-freq 1w --quiet)
run "$tmp/ts_ref.out" "$ts" "${ts_args[@]}" --output "$tmp/ref.h5" \
  --write-data "$tmp/ref_data.h5"
expect "timeseries: reference run exits 0" "$?" 0
launch "$tmp/ts1.out" "$ts" "${ts_args[@]}" --output "$tmp/res.h5" \
  --write-data "$tmp/data.h5" --journal "$tmp/ts.rfj"
wait_for_size "$tmp/ts.rfj" 130000 || fail "timeseries: the journal never grew"
kill9 timeseries_summary
expect "timeseries: killed in pass 1 (the partial file is there)" \
  "$(ls "$tmp" | grep -c '^data.h5.partial$')" 1
run "$tmp/ts2.out" "$ts" "${ts_args[@]}" --output "$tmp/res.h5" \
  --write-data "$tmp/data.h5" --journal "$tmp/ts.rfj" --log-level info
expect "timeseries: resumed run exits 0" "$?" 0
has "timeseries: resumed from the journal" "[1-9][0-9]* finished tasks\?; resuming" "$tmp/ts2.out"
has "timeseries: reopened the partial data file" "resuming .*data.h5.partial" "$tmp/ts2.out"
/usr/bin/python3 - "$tmp" << 'PY'
import os, sys, h5py, numpy, pandas
d = sys.argv[1]
a, b = (pandas.read_hdf(os.path.join(d, p), "summary") for p in ("ref.h5", "res.h5"))
ok = a.index.equals(b.index) and list(a.columns) == list(b.columns) and \
    a.to_numpy().tobytes() == b.to_numpy().tobytes()
print("frame bitwise equal:", ok)
with h5py.File(os.path.join(d, "ref_data.h5")) as r, \
        h5py.File(os.path.join(d, "data.h5")) as s:
    for k in r["timeseries"]:
        same = numpy.array_equal(r["timeseries"][k][:], s["timeseries"][k][:])
        print("data", k, "equal:", same)
        ok = ok and same
sys.exit(0 if ok else 1)
PY
expect "timeseries: frame and data file equal the uninterrupted run's" "$?" 0
expect "timeseries: no partial file left" "$(ls "$tmp" | grep -c partial)" 0

echo "$fails failed"
[ "$fails" = 0 ]
