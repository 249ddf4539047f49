#!/usr/bin/env bash
# h5_pandas_check.sh TOOL SCRIPT WORKDIR: do pandas, h5py and h5dump read
# the frames rankflow writes, and does rankflow read what pandas writes?
#   1. TOOL --write twice, a second apart: the files must be byte-identical
#      (no time stamps; HDF5's have one-second resolution);
#   2. h5dump must dump every file;
#   3. SCRIPT (always /usr/bin/python3: Debian's pandas, tables and h5py
#      live there, not in whatever python3 is first on PATH) checks each
#      frame with pandas.read_hdf and the attributes with h5py, and writes
#      pandas' own copy of each frame;
#   4. TOOL --read checks each of pandas' copies is the frame, bit for bit.
# pandas, PyTables, h5py and h5dump are required (scripts/setup.sh installs
# them): without them the test fails, it never skips.
# SPDX-License-Identifier: BSD-3-Clause
set -eu
tool=$1 script=$2 work=$3
py=/usr/bin/python3
fail() { echo "h5_pandas_check: FAIL: $*" >&2; exit 1; }
"$py" -c 'import pandas, tables, h5py' ||
  fail "$py cannot import pandas, tables and h5py (install python3-pandas python3-tables python3-h5py)"
command -v h5dump >/dev/null || fail "h5dump is missing (install hdf5-tools)"

rm -rf "$work"
mkdir -p "$work/a" "$work/b"
"$tool" --write "$work/a" </dev/null || fail "writing the frames"
sleep 1.1
"$tool" --write "$work/b" </dev/null || fail "writing the frames again"
n=0
for f in "$work"/a/*.h5; do
  name=$(basename "$f")
  cmp "$f" "$work/b/$name" || fail "two writes of $name differ"
  h5dump "$f" >"$f.dump" 2>&1 || fail "h5dump cannot dump $name"
  grep -q 'ATTRIBUTE "pandas_type"' "$f.dump" || fail "h5dump: $name"
  n=$((n + 1))
done
[ "$n" -ge 6 ] || fail "only $n files written"
echo "h5_pandas_check: $n files, byte-identical twice, h5dump reads them"

"$py" "$script" "$work/a" || fail "pandas/h5py checks"

copies=0
while IFS=$'\t' read -r name file key; do
  "$tool" --read "$work/a/$file" --key "$key" --expect "$name" </dev/null ||
    fail "reading pandas' $file"
  copies=$((copies + 1))
done <"$work/a/pandas_copies.txt"
[ "$copies" -ge 4 ] || fail "only $copies of pandas' copies read"
echo "h5_pandas_check: rankflow reads $copies frames pandas wrote"
echo "h5_pandas_check: PASS"
