#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""report_check.py MPIEXEC RETRY_TEST SLEEPY -- the JSON run report.

A flow with successes, a retried task and failed ones (test_flow_retry) at
1 and 3 ranks: the report is one valid JSON document; every task appears
once and every attempt once; each task's attempts match its attempt
records; a task's state agrees with its last attempt; the totals count the
tasks' states; timestamps are ordered. A run stopped by SIGTERM still
leaves a whole report (tasks not ended are counted). An unwritable
--report path is refused with exit 2.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

mpiexec, retry_test, sleepy = sys.argv[1:4]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        print("FAIL:", what)
        failures += 1


def validate(rep, ranks, code):
    check(rep["ranks"] == ranks, f"ranks {rep['ranks']}")
    check(rep["exit_code"] == code, f"exit_code {rep['exit_code']}")
    tasks = {t["key"]: t for t in rep["tasks"]}
    check(len(tasks) == len(rep["tasks"]), "a task appears twice")
    seen = set()
    per_task = {}
    for a in rep["attempts"]:
        k = (a["task"], a["attempt"])
        check(k not in seen, f"attempt {k} twice")
        seen.add(k)
        per_task.setdefault(a["task"], []).append(a)
        check(a["task"] in tasks, f"attempt of an unknown task {a['task']}")
        check(rep["start"] <= a["submitted"] <= a["started"] <= a["ended"]
              <= rep["end"], f"timestamps of {k} out of order")
        check(0 <= a["rank"] < ranks, f"rank {a['rank']}")
    counts = {}
    for key, t in tasks.items():
        counts[t["state"]] = counts.get(t["state"], 0) + 1
        atts = sorted(per_task.get(key, []), key=lambda a: a["attempt"])
        check(len(atts) == t["attempts"], f"{key}: {t['attempts']} attempts, "
              f"{len(atts)} records")
        check([a["attempt"] for a in atts] == list(range(1, len(atts) + 1)),
              f"{key}: attempts not numbered 1..n")
        if atts:
            check(all(a["retried"] for a in atts[:-1]) and not atts[-1]["retried"],
                  f"{key}: retried flags")
            check(atts[-1]["state"] == t["state"],
                  f"{key}: task {t['state']}, last attempt {atts[-1]['state']}")
    for state, n in rep["totals"].items():
        if state != "not_ended":
            check(counts.get(state, 0) == n, f"totals[{state}] = {n}, "
                  f"tasks say {counts.get(state, 0)}")
    return tasks


with tempfile.TemporaryDirectory() as tmp:
    for ranks in (1, 3):
        path = os.path.join(tmp, f"r{ranks}.json")
        r = subprocess.run([mpiexec, "-n", str(ranks), "--oversubscribe",
                            retry_test, "--report", path],
                           capture_output=True, text=True, timeout=120)
        # The test program exits 0 when its job ended as expected (code 1).
        check(r.returncode == 0, f"{ranks} ranks: test exit {r.returncode}")
        with open(path) as f:
            rep = json.load(f)
        tasks = validate(rep, ranks, 1)
        by_name = {t["name"]: t for t in tasks.values()}
        check(by_name["flaky"]["state"] == "completed" and
              by_name["flaky"]["attempts"] == 3, "flaky: 3 attempts, completed")
        check(by_name["broken"]["state"] == "failed" and
              by_name["broken"]["attempts"] == 1, "broken: 1 attempt, failed")
        check(rep["totals"]["completed"] == 1 and rep["totals"]["failed"] == 2,
              "totals")
        check([n for n in os.listdir(tmp) if ".tmp." in n] == [],
              "temporary report left")

    # Stopped by SIGTERM: the report is still written whole.
    path = os.path.join(tmp, "stopped.json")
    p = subprocess.Popen([mpiexec, "-n", "3", "--oversubscribe", sleepy,
                          "--tasks", "6", "--seconds", "30", "--report", path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    pids = subprocess.run(["pgrep", "-f", "^" + sleepy + " "],
                          capture_output=True, text=True).stdout.split()
    for pid in pids:
        os.kill(int(pid), signal.SIGTERM)
    p.wait(timeout=60)
    with open(path) as f:
        rep = json.load(f)
    check(rep["exit_code"] == 75, f"stopped run: exit_code {rep['exit_code']}")
    check(rep["totals"]["not_ended"] == 6, f"not ended {rep['totals']}")

    r = subprocess.run([retry_test, "--report", "/nonexistent/dir/r.json"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 2 and "--report: cannot create" in r.stderr,
          f"unwritable --report: exit {r.returncode} {r.stderr!r}")

print("report_check:", "FAIL" if failures else "PASS")
sys.exit(1 if failures else 0)
