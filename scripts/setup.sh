#!/usr/bin/env bash
# setup.sh -- install the Debian packages rankflow needs (when missing) and
# build it. Sourced knowledge lives here once: demo.sh, test.sh and CI all
# call it. Usage: scripts/setup.sh [release|debug|asan]   (default release)
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
cd "$(dirname "$0")/.."

# Build, MPI, wire format, hashing, JSON, parallel HDF5; libcurl and CA
# certificates (the download job, TLS verified); a private Slurm cluster
# for the batch-script tests (slurmctld, slurmd, munge, PMIx) and
# shellcheck for the scripts; help2man (section-1 pages from --help),
# mandoc (the manual's linter) and man-db; procps, valgrind,
# curl, file and zlib (the hostile HTTP test server) and chromium (the
# timeline page) for tests; pandas/PyTables/h5py to check our HDF5 files as users read
# them; mpi4py, dask and GNU time for benchmarks against peers.
PACKAGES=(build-essential cmake pkg-config git
          openmpi-bin libopenmpi-dev
          libmsgpack-dev libxxhash-dev libyajl-dev libhdf5-openmpi-dev hdf5-tools
          libcurl4-openssl-dev ca-certificates
          slurmctld slurmd slurm-client munge libpmix-dev shellcheck
          help2man mandoc man-db
          procps time valgrind curl file zlib1g-dev chromium
          python3-pandas python3-tables python3-h5py
          python3-mpi4py python3-dask)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    }
    SUDO=sudo
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

preset=${1:-release}
cmake --preset "$preset" -DBUILD_TESTING=ON > /dev/null
cmake --build --preset "$preset" -j "$(nproc)"
