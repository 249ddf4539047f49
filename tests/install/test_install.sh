#!/usr/bin/env bash
# test_install.sh BUILD SOURCE MPIEXEC -- rankflow as another project
# gets it: install the build to a temporary prefix (and once with DESTDIR),
# then build examples/myflow, copied out of the source tree, against that
# prefix alone, with CMake (find_package, shared and static) and with make
# (pkg-config and mpicc, shared and static), and run each on 3 ranks. The
# installed programs run too, the batch scripts name the install, and the
# manual and the guide are where man and a reader look. EXAMPLE_CFLAGS (a
# sanitizer build's flags) is passed to the example's compiler.
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
build=$1 src=$2 mpiexec=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run3() { "$mpiexec" -n 3 --oversubscribe "$@"; }

# DESTDIR: everything lands under the staging directory, nothing else.
had_opt=0; [ -e /opt/rankflow ] && had_opt=1
DESTDIR=$tmp/stage cmake --install "$build" --prefix /opt/rankflow > "$tmp/stage.log"
for f in include/rankflow.h lib/librankflow.so.0 lib/librankflow.a \
         lib/pkgconfig/rankflow.pc lib/cmake/rankflow/rankflowConfig.cmake \
         bin/rankflow-hello-flow; do
  [ -e "$tmp/stage/opt/rankflow/$f" ] || bad "DESTDIR install lacks opt/rankflow/$f"
done
[ $had_opt = 1 ] || [ ! -e /opt/rankflow ] || bad "DESTDIR install created /opt/rankflow"
# The installed batch scripts name the final paths, not the staging ones.
slurm=$tmp/stage/opt/rankflow/share/rankflow/slurm
for f in template.sbatch timeseries_summary.sbatch nino34_plumes.sbatch; do
  grep -q '^installed="/opt/rankflow/share/rankflow/slurm/rankflow-job.sh" ' "$slurm/$f" ||
    bad "installed $f does not name /opt/rankflow/share/rankflow/slurm/rankflow-job.sh"
  [ -x "$slurm/$f" ] || bad "installed $f is not executable"
done
grep -qx 'rf_bindir="/opt/rankflow/bin"' "$slurm/rankflow-job.sh" ||
  bad "installed rankflow-job.sh does not name /opt/rankflow/bin"
! grep -rqF "$tmp/stage" "$slurm" || bad "the installed batch scripts name the DESTDIR"

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
cp -r "$src/examples/myflow" "$tmp/myflow"
want="sum of squares 1..100 = 338350"

check_run() { # name binary
  local out
  out=$(run3 "$2" --n 100 2>"$tmp/$1.err") || { bad "$1: exit $?"; cat "$tmp/$1.err"; return; }
  if [ "$out" = "$want" ]; then echo "$1: $out"; else bad "$1 printed '$out'"; fi
}

# CMake, shared and static.
for kind in shared static; do
  static=OFF; [ $kind = static ] && static=ON
  cmake -S "$tmp/myflow" -B "$tmp/cmake-$kind" -DCMAKE_PREFIX_PATH="$prefix" \
    -DMYFLOW_STATIC=$static -DCMAKE_C_FLAGS="${EXAMPLE_CFLAGS:-}" \
    > "$tmp/cmake-$kind.log" 2>&1 || { bad "cmake ($kind) failed"; cat "$tmp/cmake-$kind.log"; continue; }
  cmake --build "$tmp/cmake-$kind" > "$tmp/build-$kind.log" 2>&1 ||
    { bad "cmake --build ($kind) failed"; cat "$tmp/build-$kind.log"; continue; }
  check_run "cmake-$kind" "$tmp/cmake-$kind/myflow"
done

# make: pkg-config and mpicc, shared and static.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
make -C "$tmp/myflow" CFLAGS="-O2 -Wall -Wextra -Werror ${EXAMPLE_CFLAGS:-}" \
  myflow myflow-static > "$tmp/make.log" 2>&1 || { bad "make failed"; cat "$tmp/make.log"; }
[ -x "$tmp/myflow/myflow" ] && check_run make-shared "$tmp/myflow/myflow"
[ -x "$tmp/myflow/myflow-static" ] && check_run make-static "$tmp/myflow/myflow-static"

# Against the install only: the shared builds load the installed
# library, the static ones none, and nothing names the source tree.
for b in "$tmp/cmake-shared/myflow" "$tmp/myflow/myflow"; do
  [ -x "$b" ] || continue
  lib=$(ldd "$b" | awk '/librankflow/ { print $3 }')
  [ "$lib" -ef "$prefix/lib/librankflow.so.0" ] || bad "$b loads '$lib', not the installed library"
done
for b in "$tmp/cmake-static/myflow" "$tmp/myflow/myflow-static"; do
  [ -x "$b" ] || continue
  ! ldd "$b" | grep -q librankflow || bad "$b is static but loads librankflow"
done
if grep -rqsF "$src" "$tmp/cmake-shared/CMakeCache.txt" "$tmp/cmake-static/CMakeCache.txt" \
     "$prefix/lib/cmake/rankflow" "$prefix/lib/pkgconfig" "$prefix/share/rankflow"; then
  bad "the example's build or the installed config names the source tree $src"
fi

# The installed programs, renamed, find their library.
out=$(run3 "$prefix/bin/rankflow-hello-flow" --n 10 2>/dev/null) || bad "rankflow-hello-flow: exit $?"
case $out in *"sum of squares 1..10 = 385"*) echo "rankflow-hello-flow: $out" ;;
             *) bad "rankflow-hello-flow printed '$out'" ;; esac
[ "$("$prefix/bin/rankflow-timeseries-summary" --version)" = \
  "rankflow-timeseries-summary (rankflow $("$build/jobs/timeseries_summary" --version | sed 's/.*rankflow //')" ] ||
  bad "rankflow-timeseries-summary --version does not name itself and the version"
# Messages name the program as invoked; the journal keeps the flow's name,
# so the build's run and the installed program's resume one journal.
err=$("$prefix/bin/rankflow-timeseries-summary" --bogus 2>&1) && bad "--bogus: exit 0"
[ "$err" = "rankflow-timeseries-summary: unknown flag '--bogus'; see --help" ] ||
  bad "rankflow-timeseries-summary --bogus printed '$err', not naming itself"
ts_args=(--end 2000-01-03 --partition-freq 1d --journal "$tmp/ts.journal" --quiet)
"$build/jobs/timeseries_summary" "${ts_args[@]}" --output "$tmp/ts1.h5" > /dev/null ||
  bad "timeseries_summary (the build's) failed"
err=$("$prefix/bin/rankflow-timeseries-summary" "${ts_args[@]}" --output "$tmp/ts2.h5" \
        --log-level info 2>&1 > /dev/null) || bad "rankflow-timeseries-summary on the build's journal failed: $err"
case $err in *"4 finished tasks; resuming"*) ;; *) bad "the installed program did not resume the build's journal: $err" ;; esac

# The manual: every family page, a page per program, and every name a
# page lists reachable by man; the guide beside the other documents.
man_out() { MANWIDTH=80 man -M "$prefix/share/man" "$@" 2>&1; }
for name in rankflow rf_submit rf_future_wait RF_CHECK rf_frame_read_hdf5; do
  page=$(man_out 3 "$name" | head -n 1)
  case $page in *"(3)"*"rankflow manual"*) ;; *) bad "man 3 $name: '$page'" ;; esac
done
[ "$(man_out 3 rf_future_wait | sed -n 1p)" = "$(man_out 3 rf_future | sed -n 1p)" ] ||
  bad "man rf_future_wait does not open rf_future(3)"
for p in hello-flow timeseries-summary nino34-plumes parallel-pi; do
  out=$(man_out 1 "rankflow-$p")
  case $out in *"RANKFLOW-${p^^}(1)"*"--journal"*"EXIT STATUS"*) ;;
    *) bad "man 1 rankflow-$p lacks its title, the library's options or EXIT STATUS" ;; esac
done
[ -f "$prefix/share/doc/rankflow/guide/README.md" ] && [ -f "$prefix/share/doc/rankflow/guide/2-first-flow.md" ] ||
  bad "the guide is not in share/doc/rankflow/guide"

echo "test_install: $([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
