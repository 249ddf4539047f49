#!/usr/bin/env bash
# expect_exit.sh CODE REGEX CMD...: run CMD, pass when it exits with CODE and
# its combined output matches REGEX (grep -E; "" matches anything). Used for
# exit-code tests, which CTest alone cannot express.
# SPDX-License-Identifier: BSD-3-Clause
set -u
want=$1 regex=$2
shift 2
out=$("$@" 2>&1)
code=$?
printf '%s\n' "$out"
if [ "$code" -ne "$want" ]; then
  echo "expect_exit: exit code $code, expected $want: $*" >&2
  exit 1
fi
if [ -n "$regex" ] && ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then
  echo "expect_exit: output does not match /$regex/" >&2
  exit 1
fi
echo "expect_exit: PASS (exit $code)"
