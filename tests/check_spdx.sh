#!/usr/bin/env bash
# check_spdx.sh ROOT -- every source file names its licence: a C file's
# first line is the SPDX tag, a man page's is the tag as a roff comment,
# a script's (shell, Python, CMake, batch script, help2man include) stands
# in its opening comment, before the first line of code.
# SPDX-License-Identifier: BSD-3-Clause
set -u
root=$1
tag='SPDX-License-Identifier: BSD-3-Clause'
fail=0 n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  case $f in
    *.c | *.h)
      [ "$(head -n 1 "$f")" = "/* $tag */" ] ||
        { echo "${f#"$root"/}: line 1 is not '/* $tag */'"; fail=1; } ;;
    *.[0-9])
      [ "$(head -n 1 "$f")" = ".\\\" $tag" ] ||
        { echo "${f#"$root"/}: line 1 is not '.\\\" $tag'"; fail=1; } ;;
    *)
      # The opening comment: the lines before the first that is neither a
      # comment nor the shebang (Python's docstring counts as code).
      awk -v tag="# $tag" '
        NR == 1 && /^#!/ { next }
        /^#/ { if ($0 == tag) { found = 1; exit } next }
        { exit }
        END { exit !found }' "$f" ||
        { echo "${f#"$root"/}: no '# $tag' in its opening comment"; fail=1; } ;;
  esac
done < <(find "$root/src" "$root/include" "$root/jobs" "$root/tests" \
           "$root/bench" "$root/scripts" "$root/slurm" "$root/examples" \
           "$root/.ci" "$root/cmake" "$root/man" "$root/CMakeLists.txt" \
           \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' \
              -o -name '*.sbatch' -o -name '*.cmake' -o -name CMakeLists.txt \
              -o -name '*.[0-9]' -o -name '*.h2m' \
              -o -path "$root/.ci/run" \) -type f -print0 2>/dev/null)
[ "$n" -gt 100 ] || { echo "check_spdx: only $n source files found under $root"; fail=1; }
echo "check_spdx: $n files, $([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
