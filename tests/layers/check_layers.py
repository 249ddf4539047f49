#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""check_layers.py -- the library's layers stay layers.

Usage: check_layers.py ROOT [OBJECT...]

Reads every file under ROOT/src (and ROOT/jobs) and fails, naming the
file and the line, when:
  - a file includes a header of a layer it may not see (src/README.md
    lists the layers and what each may include: only layers below it), or
    a header private to its own folder from elsewhere (rank0/coord.h);
  - base/ or data/ includes <mpi.h>, base/ includes <msgpack.h>, or a file
    outside h5/ includes <hdf5.h>;
  - a job includes anything of the library but rankflow.h (by any path,
    "..." or <...>), except the private modules jobs/timeseries is allowed
    (data/describe.h, h5/rows.h).
Given object files (the library's, and the jobs'), it also reads their
symbols (nm) and fails on a call from a file of one layer to a function
defined in a layer above it (an upward call made without an include is
still an upward call), and on a job calling an internal rf__ function
other than the private modules'. Last it prints the largest circle of the
library's files that call each other (a strongly connected component of
the call graph between object files), which within a layer is allowed.
"""
import os
import re
import subprocess
import sys

# Each layer and the layers it may include or call (its own included).
LAYERS = {
    "base": {"base"},
    "data": {"base", "data"},
    "h5": {"base", "data", "h5"},
    "wire": {"base", "data", "wire"},
    "exec": {"base", "data", "wire", "exec"},
    "rank0/out": {"base", "data", "wire", "exec", "rank0/out"},
    "rank0": {"base", "data", "wire", "exec", "rank0/out", "rank0"},
    "worker": {"base", "data", "wire", "exec", "worker"},
    "api": {"base", "data", "wire", "exec", "rank0/out", "rank0", "worker",
            "api"},
}
JOB_PRIVATE = {"data/describe.h", "h5/rows.h"}
JOB_PRIVATE_CALLS = ("rf__describe_", "rf__rows_")
# Headers only their own folder includes.
PRIVATE = {"rank0/coord.h": {"rank0"}}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

failures = []


def fail(where, why):
    failures.append(f"{where}: {why}")


def layer_of(src, path):
    """The layer of a path under src/ (None for files outside a layer)."""
    rel = os.path.relpath(path, src)
    if rel.startswith("rank0/out/"):
        return "rank0/out"
    head = rel.split(os.sep)[0]
    return head if head in LAYERS else None


def resolve(src, here, name):
    """The file an #include "name" in directory here names, under src/."""
    for base in (here, src):
        path = os.path.normpath(os.path.join(base, name))
        if os.path.exists(path):
            return path
    return None


def check_sources(root):
    src = os.path.join(root, "src")
    for dirpath, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            layer = layer_of(src, path)
            rel = os.path.relpath(path, root)
            if layer is None:
                fail(rel, "is in no layer folder")
                continue
            for n, line in enumerate(open(path, encoding="utf-8"), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                where = f"{rel}:{n}"
                if kind == "<":
                    if name == "mpi.h" and layer in ("base", "data"):
                        fail(where, f"{layer}/ includes <mpi.h>")
                    if name == "msgpack.h" and layer == "base":
                        fail(where, "base/ includes <msgpack.h>")
                    if name == "hdf5.h" and layer != "h5":
                        fail(where, "only h5/ includes <hdf5.h>")
                    continue
                if name == "rankflow.h":
                    continue
                target = resolve(src, dirpath, name)
                if target is None:
                    fail(where, f'includes "{name}", which is not under src/')
                    continue
                other = layer_of(src, target)
                own = os.path.relpath(target, src)
                if other not in LAYERS[layer]:
                    fail(where, f'{layer}/ includes "{name}" of {other}/, '
                                f"a layer it may not see")
                elif own in PRIVATE and layer not in PRIVATE[own]:
                    fail(where, f'{layer}/ includes "{own}", private to '
                                f"{'/'.join(sorted(PRIVATE[own]))}/")


def check_jobs(root):
    jobs = os.path.join(root, "jobs")
    src = os.path.join(root, "src")
    for dirpath, dirs, files in os.walk(jobs):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            timeseries = os.path.relpath(dirpath, jobs) == "timeseries"
            for n, line in enumerate(open(path, encoding="utf-8"), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                # What it names: a file beside the job (its own, unless
                # that path leads into src/), else one of src/.
                near = os.path.normpath(os.path.join(dirpath, name))
                if kind == '"' and os.path.exists(near):
                    target = near
                elif os.path.exists(os.path.join(src, name)):
                    target = os.path.normpath(os.path.join(src, name))
                else:
                    continue  # a system header, or rankflow.h
                inside = os.path.relpath(target, src)
                if inside.startswith(".."):
                    continue  # the job's own header
                if timeseries and inside in JOB_PRIVATE:
                    continue
                fail(f"{rel}:{n}", f'a job includes "{name}": jobs use '
                                   f"rankflow.h")


def read_symbols(o):
    """The functions object o defines and the ones it leaves undefined."""
    nm = subprocess.run(["nm", o], capture_output=True, text=True,
                        check=True).stdout
    defined, used = set(), set()
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRC":
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
    return defined, used


def symbols(objects, root):
    """Per library object: its layer, the functions it defines and the
    ones it leaves undefined."""
    out = {}
    for o in objects:
        m = re.search(r"/src/(.+)\.c\.o(bj)?$", o)
        if not m:
            continue
        name = m.group(1) + ".c"
        layer = layer_of(os.path.join(root, "src"),
                         os.path.join(root, "src", name))
        out[name] = (layer,) + read_symbols(o)
    return out


def check_job_calls(objects):
    """A job calls the public API, and the timeseries job the private
    modules' rf__ functions besides."""
    for o in objects:
        m = re.search(r"/jobs/(?:CMakeFiles/[^/]+\.dir/)?(.+)\.c\.o(bj)?$", o)
        if not m:
            continue
        job = "jobs/" + m.group(1) + ".c"
        timeseries = job.startswith("jobs/timeseries/")
        _, used = read_symbols(o)
        for s in sorted(used):
            if not s.startswith("rf__"):
                continue
            if timeseries and s.startswith(JOB_PRIVATE_CALLS):
                continue
            fail(job, f"calls {s}, an internal function of the library")


def check_calls(objects, root):
    check_job_calls(objects)
    files = symbols(objects, root)
    owner = {s: f for f, (_, d, _) in files.items() for s in d}
    graph = {}
    for f, (layer, _, used) in files.items():
        graph[f] = set()
        for s in sorted(used):
            g = owner.get(s)
            if g is None or g == f:
                continue
            graph[f].add(g)
            if files[g][0] not in LAYERS[layer]:
                fail(f"src/{f}", f"calls {s} of src/{g}, a layer above it")
    return graph


def largest_circle(graph):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                comps.append(sorted(comp))
    return max(comps, key=len) if comps else []


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = sys.argv[1]
    objects = sys.argv[2:]
    check_sources(root)
    check_jobs(root)
    if objects:
        graph = check_calls(objects, root)
        circle = largest_circle(graph)
        print(f"{len(graph)} files; the largest circle of mutual calls has "
              f"{len(circle)}: {' '.join(circle)}")
    for f in failures:
        print(f)
    print("check_layers:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
