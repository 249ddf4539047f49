#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ts_job_check.py JOB MPIEXEC -- the timeseries job as a user sees it.

Runs the job on a small range (two days at 1 s, 1-day partitions) at 2
ranks, then reads its output as pandas users do: pandas.read_hdf(file,
"summary") must give the index count..max, float64 columns id, x, y, and
print exactly what the job printed (same values, same layout); h5py must
see the data parameters as attributes of /summary and the run facts in
/run; h5dump must dump the file. With --write-data (3 ranks) the rows go
to a file whose describe() by pandas equals the job's frame within the
conventions' tolerances, and --input on that file (2 ranks) gives the
bitwise same frame. Malformed --input files are refused with exit 2. A
failed run leaves no output file.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import pandas as pd

job, mpiexec = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        print("FAIL:", what)
        failures += 1


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "summary.h5")
    args = ["--start", "2000-01-01", "--end", "2000-01-03",
            "--partition-freq", "1d", "--seed", "7", "--output", out]
    run = subprocess.run([mpiexec, "-n", "2", "--oversubscribe", job] + args,
                         capture_output=True, text=True, timeout=120)
    check(run.returncode == 0, f"job exit code {run.returncode}: {run.stderr}")
    df = pd.read_hdf(out, "summary")
    check(list(df.index) == ["count", "mean", "std", "min", "25%", "50%",
                             "75%", "max"], f"index {list(df.index)}")
    check(list(df.columns) == ["id", "x", "y"], f"columns {list(df.columns)}")
    check(all(str(t) == "float64" for t in df.dtypes), f"dtypes {df.dtypes}")
    check(df.loc["count", "x"] == 172800, f"count {df.loc['count', 'x']}")
    check(str(df) + "\n" == run.stdout,
          "pandas prints the file differently from the job:\n"
          f"pandas:\n{df}\njob:\n{run.stdout}")
    with h5py.File(out, "r") as f:
        a = {k: (v.decode() if isinstance(v, bytes) else v)
             for k, v in f["summary"].attrs.items()}
        check(a["start"] == "2000-01-01" and a["end"] == "2000-01-03",
              f"start/end attributes {a}")
        check(a["freq"] == "1s" and a["partition_freq"] == "1d",
              "freq attributes")
        check(int(a["seed"]) == 7 and int(a["rows"]) == 172800 and
              int(a["partitions"]) == 2, "seed/rows/partitions attributes")
        check("run" in f and int(f["run"].attrs["ranks"]) == 2,
              "/run group with ranks")
    dump = subprocess.run(["h5dump", "-H", out], capture_output=True, text=True)
    check(dump.returncode == 0 and "block0_values" in dump.stdout,
          "h5dump reads the file")
    leftovers = [n for n in os.listdir(tmp) if n != "summary.h5"]
    check(leftovers == [], f"temporary files left: {leftovers}")

    # A run that fails (unknown flag) leaves no file.
    bad = os.path.join(tmp, "bad.h5")
    run = subprocess.run([job, "--output", bad, "--freq", "5q"],
                         capture_output=True, text=True, timeout=60)
    check(run.returncode == 2, f"bad --freq exit {run.returncode}")
    check(not os.path.exists(bad), "a failed run left its output")

    # --write-data at 3 ranks, then --input at 2: the same frame, bitwise;
    # pandas' own describe() of the written rows agrees (conventions).
    data = os.path.join(tmp, "data.h5")
    a, b = os.path.join(tmp, "a.h5"), os.path.join(tmp, "b.h5")
    run = subprocess.run([mpiexec, "-n", "3", "--oversubscribe", job] + args[:-2]
                         + ["--output", a, "--write-data", data],
                         capture_output=True, text=True, timeout=120)
    check(run.returncode == 0, f"--write-data exit {run.returncode}: {run.stderr}")
    check(not os.path.exists(data + ".partial"), "data.h5.partial left behind")
    run2 = subprocess.run([mpiexec, "-n", "2", "--oversubscribe", job,
                           "--input", data, "--output", b],
                          capture_output=True, text=True, timeout=120)
    check(run2.returncode == 0, f"--input exit {run2.returncode}: {run2.stderr}")
    check(run.stdout == run2.stdout, "--input prints another frame")
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        check(fa["summary/block0_values"][:].tobytes() ==
              fb["summary/block0_values"][:].tobytes(),
              "--input frame differs bitwise")
    with h5py.File(data, "r") as f:
        g = f["timeseries"]
        n = len(g["x"])
        check(n == 172800 and all(len(g[k]) == n for k in
                                  ("timestamp", "id", "name", "y")),
              "data lengths")
        check(list(g["partition_offsets"][:]) == [0, 86400, 172800],
              "partition_offsets")
        check(g["timestamp"][0] == 946684800 * 10**9 and
              g["timestamp"][1] - g["timestamp"][0] == 10**9, "timestamps")
        df_data = pd.DataFrame({"id": g["id"][:], "x": g["x"][:], "y": g["y"][:]})
        names = set(g["name"][:].tolist())
    check(len(names) == 26 and b"Alice" in names and b"Patricia" in names,
          f"names {sorted(names)[:5]}...")
    want = df_data.describe()
    got = pd.read_hdf(a, "summary")
    for col in ("id", "x", "y"):
        for row in want.index:
            w, g_ = float(want.loc[row, col]), float(got.loc[row, col])
            if row in ("count", "min", "max"):
                ok = w == g_
            elif row in ("mean", "std"):
                ok = abs(w - g_) <= 1e-12 * abs(w) or abs(w - g_) <= 1e-15
            else:
                ok = abs(w - g_) <= 1e-12 * abs(w)
            check(ok, f"{col} {row}: pandas {w!r}, rankflow {g_!r}")

    # Signed zeros and NaN in an input file: pandas skips NaN and treats
    # -0.0 as 0.0; so must the summary (quartiles, counts), exactly.
    odd = os.path.join(tmp, "odd.h5")
    with h5py.File(data, "r") as src, h5py.File(odd, "w") as dst:
        src.copy("timeseries", dst)
        x = dst["timeseries/x"][:]
        x[:50000] = 0.0
        x[50000:100000] = -0.0
        x[100000:100010] = float("nan")
        dst["timeseries/x"][:] = x
    c = os.path.join(tmp, "c.h5")
    run3 = subprocess.run([mpiexec, "-n", "2", "--oversubscribe", job,
                           "--input", odd, "--output", c],
                          capture_output=True, text=True, timeout=120)
    check(run3.returncode == 0, f"--input with -0.0/NaN: exit {run3.returncode}: "
          f"{run3.stderr[-500:]}")
    if run3.returncode == 0:
        want = pd.DataFrame({"x": x}).describe()["x"]
        got = pd.read_hdf(c, "summary")["x"]
        for row in want.index:
            w, g_ = float(want[row]), float(got[row])
            check(w == g_ or abs(w - g_) <= 1e-12 * abs(w) or abs(w - g_) <= 1e-15,
                  f"-0.0/NaN {row}: pandas {w!r}, rankflow {g_!r}")

    # Malformed inputs: exit 2 naming the problem, no output written.
    def broken(name, edit):
        path = os.path.join(tmp, name + ".h5")
        with h5py.File(data, "r") as src, h5py.File(path, "w") as dst:
            src.copy("timeseries", dst)
            edit(dst["timeseries"])
        return path

    def drop_y(g):
        del g["y"]

    def short_x(g):
        x = g["x"][:-5]
        del g["x"]
        g["x"] = x

    def bad_offsets(g):
        g["partition_offsets"][1] = 99

    cases = [("missing", broken("missing", drop_y), "dataset y is missing"),
             ("unequal", broken("unequal", short_x), "dataset x is of another length"),
             ("offsets", broken("offsets", bad_offsets), "partition_offsets do not match"),
             ("nohdf5", os.path.join(tmp, "a.txt"), "cannot"),
             ("absent", os.path.join(tmp, "absent.h5"), "cannot read")]
    with open(os.path.join(tmp, "a.txt"), "w") as f:
        f.write("not hdf5\n")
    for what, path, msg in cases:
        out = os.path.join(tmp, "never.h5")
        r = subprocess.run([mpiexec, "-n", "2", "--oversubscribe", job,
                            "--input", path, "--output", out],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 2, f"--input {what}: exit {r.returncode}")
        check(msg in r.stderr, f"--input {what}: no '{msg}' in {r.stderr!r}")
        check(not os.path.exists(out), f"--input {what} wrote an output")

print("ts_job_check:", "FAIL" if failures else "PASS")
sys.exit(1 if failures else 0)
