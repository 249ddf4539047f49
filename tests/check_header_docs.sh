#!/usr/bin/env bash
# check_header_docs.sh HEADER: every RF_API declaration in the public header
# is documented: a comment ends right above it, or it continues a run of
# declarations whose first one has such a comment (one comment may cover a
# group of accessors). Preprocessor lines (#if/#endif around declarations)
# are transparent. Prints each undocumented declaration; fails if any.
# SPDX-License-Identifier: BSD-3-Clause
set -u
awk '
  /\*\/[ \t]*$/          { commented = 1; next }   # a comment just ended
  /^#(if|else|endif)/   { next }                  # #if/#endif: transparent
  /^RF_API/              { if (!commented && !in_group) { print FILENAME ":" FNR ": undocumented: " $0; bad++ }
                           in_group = 1; commented = 0; next }
  /^[ \t]/ && in_group   { next }                  # continuation lines
  /^$/                   { in_group = 0; commented = 0; next }
                         { if ($0 !~ /^\/\*/ && $0 !~ /^ \*/) { in_group = 0; commented = 0 } }
  END { if (bad) { print bad " undocumented declaration(s)"; exit 1 } print "all RF_API declarations documented" }
' "$1"
