# shellcheck shell=bash
# bench_lib.sh -- sourced by the benchmark scripts: one way to run a
# measured command, so every benchmark fails the same way (a benchmark
# that failed has no number).
#
# bench_run NAME DIR CMD...: run CMD under $TIMEOUT seconds, keeping its
# stdout and stderr as DIR/NAME.out and DIR/NAME.err; on failure say why
# (prefixed with $0's name), show their last lines, and exit 1.
# SPDX-License-Identifier: BSD-3-Clause
bench_run() {
  local name=$1 dir=$2 rc=0 me
  me=$(basename "$0")
  shift 2
  timeout -k 10 "$TIMEOUT" "$@" > "$dir/$name.out" 2> "$dir/$name.err" || rc=$?
  if [[ $rc -ne 0 ]]; then
    if [[ $rc -eq 124 ]]; then
      echo "$me: $name timed out after ${TIMEOUT}s: $*" >&2
    else
      echo "$me: $name failed (exit $rc): $*" >&2
    fi
    tail -n 20 "$dir/$name.out" "$dir/$name.err" >&2 || true
    exit 1
  fi
}
