# SPDX-License-Identifier: BSD-3-Clause
"""mpi4py_tasks.py -- the mpi4py.futures peer of bench/task_throughput.

Why: rankflow's task rate only means something next to what a Python user
gets on the same machine with the same number of workers. mpi4py.futures
is the closest peer (MPI, one coordinator, the other ranks are workers), so
this script runs the same workload as task_throughput --mode rate: N empty
tasks (noop returns its argument), timed inside the process after a
warm-up, the map consumed fully, the MEDIAN of --reps repetitions reported.
It runs once per chunksize given (1 = one message per task, the default;
100 = the hand-tuned batching a user has to know to ask for).

Run (rank 0 runs this script, ranks 1.. are the pool's workers):
  mpiexec --oversubscribe -n 3 /usr/bin/python3 -m mpi4py.futures \\
      bench/mpi4py_tasks.py --n 100000 --chunksizes 1,100
Prints one line per chunksize starting "RESULT " with key=value pairs.
"""
import argparse
import statistics
import sys
import time


def noop(x):
    return x


def consume(executor, n, chunksize):
    """Map noop over range(n), read and check every result; wall seconds."""
    t0 = time.perf_counter()  # CLOCK_MONOTONIC on Linux
    count = 0
    for i, r in enumerate(executor.map(noop, range(n), chunksize=chunksize)):
        if r != i:
            raise RuntimeError(f"task {i} returned {r!r}")
        count += 1
    t1 = time.perf_counter()
    if count != n:
        raise RuntimeError(f"got {count} results for {n} tasks")
    return t1 - t0


def main():
    from mpi4py import MPI
    from mpi4py.futures import MPIPoolExecutor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--warmup", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--chunksizes", default="1,100")
    args = ap.parse_args()
    chunksizes = [int(c) for c in args.chunksizes.split(",")]

    with MPIPoolExecutor() as executor:
        # Under `-m mpi4py.futures` the pool is every rank but this one.
        workers = MPI.COMM_WORLD.Get_size() - 1
        for c in chunksizes:
            warm = consume(executor, args.warmup, c)
            print(f"RESULT_DETAIL mode=mpi4py chunksize={c} workers={workers} "
                  f"warmup_tasks={args.warmup} warmup_s={warm:.4f}", flush=True)
            rates = [args.n / consume(executor, args.n, c)
                     for _ in range(args.reps)]
            med = statistics.median(rates)
            print(f"RESULT mode=mpi4py chunksize={c} workers={workers} "
                  f"n={args.n} reps={args.reps} tasks_per_s={med:.0f} "
                  f"best_tasks_per_s={max(rates):.0f} "
                  f"us_per_task={1e6 / med:.3f} "
                  f"all_tasks_per_s={','.join(f'{r:.0f}' for r in rates)}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
