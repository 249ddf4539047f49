#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""h5_pandas_check.py DIR: check the frames h5_pandas_tool wrote into DIR.

For every record of DIR/expected.txt (format in h5_pandas_tool.c):
pandas.read_hdf gives exactly the index labels, column names, dtypes and
value bits; h5py finds the frame's and /run's attributes as scalars of the
right HDF5 types (strings fixed-length UTF-8, as PyTables needs them) and
the layout rankflow promises ([C][R] blocks, no `transposed`). Any warning
counts as a failure. Then writes pandas' own copy of each frame
(DIR/pandas_<name>.h5, pandas' fixed format) and lists them in
DIR/pandas_copies.txt for the C side to read back.
Run with /usr/bin/python3 (Debian's python3-pandas, -tables, -h5py).
"""
import os
import sys
import warnings

import h5py
import numpy as np
import pandas as pd

PANDAS_TEXT = {"pandas_type": "frame", "pandas_version": "0.15.2",
               "encoding": "UTF-8", "errors": "strict",
               "axis0_variety": "regular", "axis1_variety": "regular"}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def parse(path):
    frames, cur = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            kind = fields[0]
            if kind == "frame":
                cur = {"name": fields[1], "file": fields[2], "key": fields[3],
                       "labels": [], "columns": [], "attrs": []}
            elif kind == "label":
                cur["labels"].append(fields[1])
            elif kind == "column":
                cur["columns"].append((fields[1], fields[2],
                                       [int(b, 16) for b in fields[3:]]))
            elif kind == "attr":
                cur["attrs"].append(tuple(fields[1:5]))
            elif kind == "end":
                frames.append(cur)
    return frames


def text_attr(obj, name, where):
    """A scalar fixed-length UTF-8 string attribute, decoded; None if not."""
    if name not in obj.attrs:
        fail(f"{where}: no attribute {name!r}")
        return None
    aid = obj.attrs.get_id(name)
    t = aid.get_type()
    if not isinstance(t, h5py.h5t.TypeStringID) or t.is_variable_str() \
            or t.get_cset() != h5py.h5t.CSET_UTF8 or aid.shape != ():
        fail(f"{where}: {name!r} is not a scalar fixed-length UTF-8 string")
        return None
    v = obj.attrs[name]
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def check_attr(obj, where, name, typ, value):
    if typ == "str":
        got = text_attr(obj, name, where)
        if got is not None and got != value:
            fail(f"{where}: {name!r} is {got!r}, expected {value!r}")
        return
    if name not in obj.attrs:
        fail(f"{where}: no attribute {name!r}")
        return
    v = obj.attrs[name]
    want_dtype = np.dtype("<i8") if typ == "int" else np.dtype("<f8")
    if obj.attrs.get_id(name).shape != () or v.dtype != want_dtype:
        fail(f"{where}: {name!r} is {v.dtype} {obj.attrs.get_id(name).shape}")
    elif typ == "int" and int(v) != int(value):
        fail(f"{where}: {name!r} is {int(v)}, expected {value}")
    elif typ == "double" and int(np.float64(v).view("<u8")) != int(value, 16):
        fail(f"{where}: {name!r} is {v!r}, bits differ from {value}")


def check_strings(ds, want, where):
    t = ds.id.get_type()
    if not isinstance(t, h5py.h5t.TypeStringID) or t.is_variable_str() \
            or t.get_strpad() != h5py.h5t.STR_NULLPAD or ds.ndim != 1:
        fail(f"{where}: not null-padded fixed-length strings")
        return
    got = [b.decode("utf-8") for b in ds[()]] if ds.shape[0] else []
    if got != want:
        fail(f"{where}: holds {got}, expected {want}")
    if text_attr(ds, "kind", where) != "string":
        fail(f"{where}: kind is not 'string'")


def check_h5py(path, fr):
    key, names = fr["key"], [c[0] for c in fr["columns"]]
    with h5py.File(path, "r") as f:
        if sorted(f.keys()) != sorted([key, "run"]):
            fail(f"{path}: holds {sorted(f.keys())}")
        g = f[key]
        for name, value in PANDAS_TEXT.items():
            got = text_attr(g, name, path)
            if got is not None and got != value:
                fail(f"{path}: {name!r} is {got!r}")
        types = [t for t in ("f64", "i64") if any(c[1] == t for c in fr["columns"])]
        check_attr(g, path, "ndim", "int", "2")
        check_attr(g, path, "nblocks", "int", str(len(types)))
        check_strings(g["axis0"], names, f"{path} axis0")
        check_strings(g["axis1"], fr["labels"], f"{path} axis1")
        for i, t in enumerate(types):
            cols = [c for c in fr["columns"] if c[1] == t]
            if text_attr(g, f"block{i}_items_variety", path) != "regular":
                fail(f"{path}: block{i}_items_variety")
            check_strings(g[f"block{i}_items"], [c[0] for c in cols],
                          f"{path} block{i}_items")
            v = g[f"block{i}_values"]
            want = (np.dtype("<f8") if t == "f64" else np.dtype("<i8"))
            if v.dtype != want or v.shape != (len(cols), len(fr["labels"])):
                fail(f"{path}: block{i}_values is {v.dtype} {v.shape}")
            if "transposed" in v.attrs:
                fail(f"{path}: block{i}_values has 'transposed'")
        for group, name, typ, value in fr["attrs"]:
            check_attr(f[group], f"{path} /{group}", name, typ, value)


def check_pandas(path, fr):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = pd.read_hdf(path, fr["key"])
    if list(df.index) != fr["labels"]:
        fail(f"{path}: index {list(df.index)}, expected {fr['labels']}")
    names = [c[0] for c in fr["columns"]]
    if list(df.columns) != names:
        fail(f"{path}: columns {list(df.columns)}, expected {names}")
        return df
    for name, typ, bits in fr["columns"]:
        col = df[name]
        want = "float64" if typ == "f64" else "int64"
        if str(col.dtype) != want:
            fail(f"{path}: column {name!r} is {col.dtype}, expected {want}")
            continue
        got = [int(b) for b in col.to_numpy().view("<u8")]
        if got != bits:
            fail(f"{path}: column {name!r} bits {[hex(b) for b in got]}, "
                 f"expected {[hex(b) for b in bits]}")
    return df


def main():
    d = sys.argv[1]
    frames = parse(os.path.join(d, "expected.txt"))
    if len(frames) < 6:
        fail(f"only {len(frames)} frames in expected.txt")
    copies = []
    for fr in frames:
        path = os.path.join(d, fr["file"])
        try:
            df = check_pandas(path, fr)
        except Exception as e:  # any failure to read is the finding
            fail(f"pandas cannot read {path}:{fr['key']}: "
                 f"{type(e).__name__}: {e}")
            continue
        check_h5py(path, fr)
        print(f"{fr['name']}: pandas reads {df.shape[0]} x {df.shape[1]}, "
              f"dtypes {sorted(set(str(t) for t in df.dtypes))}")
        if df.shape[0] and df.shape[1]:
            # pandas stores an empty axis as a pickled object array, which
            # is not a layout rankflow reads: only non-empty copies.
            out = f"pandas_{fr['name']}.h5"
            df.to_hdf(os.path.join(d, out), fr["key"], mode="w",
                      format="fixed")
            copies.append(f"{fr['name']}\t{out}\t{fr['key']}\n")
    with open(os.path.join(d, "pandas_copies.txt"), "w") as f:
        f.writelines(copies)
    print("h5_pandas_check.py:", "FAIL" if failures else "PASS",
          f"({len(frames)} frames, {len(failures)} failures)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
