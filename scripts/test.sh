#!/usr/bin/env bash
# test.sh -- set up, build, and run the whole test suite: the release build,
# then the same suite under AddressSanitizer + UBSan (leaks included).
# Usage: scripts/test.sh [ctest args...]
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
scripts/setup.sh release
ctest --preset release -j 2 "$@"
scripts/setup.sh asan
ctest --preset asan -j 2 "$@"
