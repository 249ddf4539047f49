#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""downloads_peers.py -- the Python peers of bench/downloads.sh.

Downloads the twelve monthly Nino 3.4 plume images of one year from
--base-url (the same URLs the nino34_plumes job fetches:
{base}/{YYYY}{MM}0800/current/images/nino34.rescaling.ENSMEAN.png, saved as
{dir}/{YYYY}{MM}.png) with one of two runners:

  dask     dask.distributed LocalCluster(n_workers=2, threads_per_worker=1,
           processes=True) and client.map(fetch, urls, paths, pure=False):
           the origin story's "after" runner.
  threads  concurrent.futures.ThreadPoolExecutor(12) + urllib.request.

Timing is inside this process and excludes start-up: the cluster (or pool)
is created first, the clock starts right before the twelve tasks are
submitted and stops when all twelve have returned, i.e. when the last file
has been written (each task writes its file before it returns). Then every
file is checked to be the expected size (outside the clock).

Prints one line:
  RESULT peer=<peer> seconds=<s> files=12 bytes=<total> setup_s=<s>
(setup_s: cluster/pool start, not included in seconds). Exit 1 on any
failed download or wrong size.

Usage: downloads_peers.py --peer dask|threads --base-url URL --dir DIR
       [--year 2022] [--size 30000]
"""

import argparse
import logging
import os
import sys
import time
import urllib.request


def fetch(url, path):
    """GET url (no proxies) and write the body to path; returns its size."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=60) as resp:
        body = resp.read()
    with open(path, "wb") as f:
        f.write(body)
    return len(body)


def urls_and_paths(base, year, outdir):
    urls, paths = [], []
    for month in range(1, 13):
        stamp = f"{year:04d}{month:02d}"
        urls.append(f"{base}/{stamp}0800/current/images/nino34.rescaling.ENSMEAN.png")
        paths.append(os.path.join(outdir, f"{stamp}.png"))
    return urls, paths


def run_dask(urls, paths):
    # Silence distributed's INFO/WARNING chatter (start-up, shutdown).
    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from dask.distributed import Client, LocalCluster

    t_setup = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    client.wait_for_workers(2)
    setup = time.perf_counter() - t_setup
    try:
        t0 = time.perf_counter()
        futures = client.map(fetch, urls, paths, pure=False)
        sizes = client.gather(futures)
        seconds = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    return seconds, setup, sizes


def run_threads(urls, paths):
    from concurrent.futures import ThreadPoolExecutor

    t_setup = time.perf_counter()
    with ThreadPoolExecutor(12) as pool:
        setup = time.perf_counter() - t_setup
        t0 = time.perf_counter()
        sizes = list(pool.map(fetch, urls, paths))
        seconds = time.perf_counter() - t0
    return seconds, setup, sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer", choices=("dask", "threads"), required=True)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--year", type=int, default=2022)
    ap.add_argument("--size", type=int, default=30000,
                    help="expected bytes of every file (default 30000)")
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    urls, paths = urls_and_paths(args.base_url.rstrip("/"), args.year, args.dir)
    runner = run_dask if args.peer == "dask" else run_threads
    seconds, setup, sizes = runner(urls, paths)

    bad = [(p, os.path.getsize(p) if os.path.exists(p) else None)
           for p in paths
           if not os.path.exists(p) or os.path.getsize(p) != args.size]
    if bad or any(s != args.size for s in sizes):
        for p, n in bad:
            print(f"{p}: {n if n is not None else 'missing'} bytes, want {args.size}",
                  file=sys.stderr)
        print(f"task sizes: {sizes}", file=sys.stderr)
        return 1
    total = sum(os.path.getsize(p) for p in paths)
    print(f"RESULT peer={args.peer} seconds={seconds:.4f} files={len(paths)} "
          f"bytes={total} setup_s={setup:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
