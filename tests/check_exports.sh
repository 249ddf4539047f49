#!/usr/bin/env bash
# check_exports.sh LIBRARY HEADER MAJOR -- the shared library is what
# programs link against: its SONAME is librankflow.so.MAJOR, and it
# exports exactly the functions rankflow.h declares with RF_API (no rf__
# internal, nothing else), so the header is the whole interface.
# SPDX-License-Identifier: BSD-3-Clause
set -u
lib=$1 header=$2 major=$3
fail=0
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "librankflow.so.$major" ] ||
  { echo "SONAME is '$soname', not librankflow.so.$major"; fail=1; }
# Each RF_API declaration, joined up to its ';': the name before '('.
declared=$(awk '/^RF_API/ { decl = 1; text = "" }
                decl { text = text " " $0; if (index($0, ";")) {
                         sub(/\(.*/, "", text); n = split(text, w, /[ *]+/)
                         print w[n]; decl = 0 } }' "$header" | sort -u)
# (A sanitizer build adds its own __asan/__ubsan bookkeeping symbols.)
exported=$(nm -D --defined-only "$lib" | awk '{ print $3 }' |
  grep -Ev '^__(asan|odr_asan|ubsan|sancov)' | sort -u)
extra=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
[ -z "$extra" ] || { echo "exported but not in the header:"; echo "$extra"; fail=1; }
[ -z "$missing" ] || { echo "declared but not exported:"; echo "$missing"; fail=1; }
n=$(printf '%s\n' "$declared" | grep -c .)
[ "$n" -gt 50 ] || { echo "only $n declarations found in $header"; fail=1; }
echo "check_exports: $soname, $n functions, $([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
