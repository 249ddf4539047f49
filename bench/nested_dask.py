# SPDX-License-Identifier: BSD-3-Clause
"""nested_dask.py -- the dask peer of bench/nested.sh.

One task on a LocalCluster(2 workers x 1 thread) submits N subtasks one
after another through worker_client() (submit, result, next) after a
warm-up, timing each round trip inside the task; prints the median in
microseconds as `dask_nested_us=<n>`.
"""
import logging
import statistics
import sys
import time

from dask.distributed import Client, LocalCluster, worker_client


def inc(x):
    return x + 1


def parent(n, warmup):
    times = []
    with worker_client() as client:
        for i in range(-warmup, n):
            t0 = time.perf_counter()
            got = client.submit(inc, i, pure=False).result()
            t1 = time.perf_counter()
            assert got == i + 1
            if i >= 0:
                times.append((t1 - t0) * 1e6)
    return statistics.median(times)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        with Client(cluster) as client:
            med = client.submit(parent, n, 50, pure=False).result()
    print("dask: %d subtasks one after another from a task (worker_client): "
          "round trip median %.1f us" % (n, med))
    print("dask_nested_us=%.1f" % med)


if __name__ == "__main__":
    main()
