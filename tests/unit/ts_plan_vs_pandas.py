#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ts_plan_vs_pandas.py -- rf_timeseries_plan's bounds equal pandas'.

dask.datasets.timeseries cuts its partitions at
pd.date_range(start, end, freq=partition_freq); rankflow claims the same
data model, so for every case below the bounds printed by ts_plan_print
must equal pandas' (computed here, in this run: nothing expected is written
down by hand), each partition must hold (b[i+1] - b[i]) / freq rows, and
the cases pandas cannot cut into a whole partition (fewer than two bounds)
must be errors that say so. Run as: ts_plan_vs_pandas.py <ts_plan_print>.
pandas is required (scripts/setup.sh installs python3-pandas): without it
the test fails, it never skips.
"""
import subprocess
import sys

import pandas as pd

# (start, end, freq, partition_freq, why the case is here)
CASES = [
    ("2000", "2001", "1s", "4w", "the defaults: dask's seed workload"),
    ("2000-01-01", "2000-01-03", "1s", "1d", "days"),
    ("2000-01-02", "2000-03-01", "1s", "w", "start on a Sunday"),
    ("2000-01-02T05:00:00", "2000-03-01", "1min", "w",
     "start on a Sunday with a time of day: kept"),
    ("2000-01-05T05:30:00", "2000-03-01", "1s", "w",
     "start mid-week: rolls to Sunday, keeps the time"),
    ("2000-01-05", "2000-03-01", "1h", "2w", "mid-week, two weeks"),
    ("2000-01-02T12:00:00", "2000-01-19T10:00:00", "1h", "w",
     "Sunday start: a mid-week end rolls back, keeping its time"),
    ("2000-01-04T12:00:00", "2000-01-19T10:00:00", "1h", "w",
     "mid-week start: the end does not roll back"),
    ("2000-01-02T12:00:00", "2000-01-16T10:00:00", "1h", "w",
     "Sunday start, Sunday end earlier in the day"),
    ("2000-01-08T23:59:59", "2000-02-01", "1s", "w",
     "Saturday 23:59:59 rolls to Sunday 23:59:59"),
    ("2000-12-31T23:59:59", "2001-01-22", "1s", "w",
     "a Sunday at 23:59:59 across a year end"),
    ("2000-02-27", "2000-03-02", "1h", "1d", "leap day 2000"),
    ("1900-02-27", "1900-03-03", "1h", "1d", "1900 is not a leap year"),
    ("2100-02-27", "2100-03-03", "1min", "1d", "2100 is not a leap year"),
    ("2004-02-01", "2004-04-01", "1s", "w", "weeks across a leap day"),
    ("1999-12-25", "2000-01-10", "1s", "1d", "days across a year end"),
    ("1999-12", "2000-02", "1s", "4w", "YYYY-MM dates"),
    ("1969-12-20", "1970-01-20", "1s", "w", "across the epoch"),
    ("2000", "2000-01-01T06:00:00", "1min", "1h", "hours"),
    ("2000", "2000-01-02", "5min", "2h", "counts on both"),
    ("2000", "2000-01-02", "15s", "90min", "minutes"),
    ("2000-03-01T10:20:30", "2000-03-05", "1s", "1d",
     "a start with a time of day, fixed frequency"),
    ("2000", "2000-03", "1d", "13d", "13 days"),
    ("2000", "2001", "1h", "3w", "three weeks"),
    ("2000", "2002", "1d", "52w", "52 weeks"),
    ("2000", "2000-01-05", "h", "d", "bare units mean a count of 1"),
    ("2000", "2000-02", "1d", "w", "bare w"),
    ("2000", "2000-01-31", "1w", "2w", "weekly rows"),
    ("1678", "1679", "1h", "4w", "the first year"),
    ("2261", "2261-12-31T23:59:59", "1h", "4w", "the last year"),
    ("1678", "2261-12-31T23:59:59", "1d", "4w",
     "the whole range: longer than INT64_MAX ns"),
    ("2000", "2000-01-03", "1s", "4w", "one bound: no whole partition"),
    ("2000-01-03", "2000-01-08", "1s", "w", "no bound at all"),
    ("2000", "2000", "1s", "1d", "end equals start"),
    ("2001", "2000", "1s", "1d", "end before start"),
    ("2000", "2000-01-02", "7min", "1h", "not a multiple"),
    ("2000", "2000-01-05", "2d", "1d", "freq longer than partition freq"),
]


def delta_ns(freq):
    """A frequency's length in ns ("s" is "1s", as pandas reads it)."""
    return pd.Timedelta(freq if freq[0].isdigit() else "1" + freq).value


def ours(prog, case):
    """(exit code, header fields, [(iso, ns, rows)], error text)."""
    res = subprocess.run([prog, *case[:4]], capture_output=True, text=True,
                         check=False)
    lines = res.stdout.splitlines()
    if res.returncode != 0:
        return res.returncode, None, None, res.stdout.strip() + res.stderr
    head = lines[0].split()
    header = {head[i]: int(head[i + 1]) for i in range(0, len(head), 2)}
    bounds = [tuple(line.split()) for line in lines[1:]]
    return 0, header, bounds, ""


def check(prog, case):
    """A list of problems with one case (empty: it passes)."""
    start, end, freq, pfreq, _ = case
    expect = pd.date_range(start, end, freq=pfreq)
    ns = [int(v) for v in expect.asi8]
    iso = list(expect.strftime("%Y-%m-%dT%H:%M:%S"))
    fns = delta_ns(freq)
    code, header, bounds, err = ours(prog, case)
    if len(ns) < 2 or any((b - a) % fns for a, b in zip(ns, ns[1:])):
        # pandas gives no whole partition, or one we cannot fill at freq.
        if code != 2 or "EUSAGE" not in err:
            return [f"expected a usage error, got exit {code} {err!r}"]
        if pd.Timestamp(end) <= pd.Timestamp(start):
            want = "is not after"
        elif len(ns) < 2:
            noun = "boundary" if len(ns) == 1 else "boundaries"
            want = f"holds no whole {pfreq} partition (pandas gives " \
                   f"{len(ns)} {noun})"
        else:
            want = "is not a multiple"
        return [] if want in err else [f"error {err!r} lacks {want!r}"]
    if code != 0:
        return [f"pandas gives {len(ns)} bounds, we fail: {err}"]
    problems = []
    got_ns = [int(b[1]) for b in bounds]
    got_iso = [b[0] for b in bounds]
    if got_ns != ns:
        problems.append(f"bounds differ: ours {got_ns[:3]}... "
                        f"({len(got_ns)}), pandas {ns[:3]}... ({len(ns)})")
    if got_iso != iso:
        problems.append(f"ISO bounds differ: {got_iso[:2]} vs {iso[:2]}")
    rows = [(b - a) // fns for a, b in zip(ns, ns[1:])]
    got_rows = [int(b[2]) for b in bounds[:-1]]
    if got_rows != rows:
        problems.append(f"rows differ: {got_rows[:3]} vs {rows[:3]}")
    want = {"partitions": len(ns) - 1, "rows": sum(rows), "freq_ns": fns}
    if header != want:
        problems.append(f"header {header} != {want}")
    return problems


def main():
    prog = sys.argv[1]
    failed = 0
    for case in CASES:
        problems = check(prog, case)
        tag = "ok  " if not problems else "FAIL"
        print(f"{tag} {' '.join(case[:4])}  ({case[4]})")
        for p in problems:
            print(f"     {p}")
        failed += bool(problems)
    # The acceptance numbers, as a cross-check of the first case.
    _, header, _, _ = ours(prog, CASES[0])
    if header != {"partitions": 13, "rows": 31449600, "freq_ns": 10**9}:
        print(f"FAIL defaults: {header}")
        failed += 1
    print(f"ts_plan_vs_pandas: {'PASS' if not failed else 'FAIL'} "
          f"({len(CASES)} cases, {failed} failed, pandas {pd.__version__})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
