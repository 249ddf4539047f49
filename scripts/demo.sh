#!/usr/bin/env bash
# demo.sh -- set up, build, and run the main job on several ranks: the
# timeseries describe() of the origin story, written to HDF5 and read back
# with pandas.
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks=${RANKS:-3}
out=${OUTPUT:-timeseries_summary.h5}
echo "demo: mpirun -np $ranks build/jobs/timeseries_summary --output $out"
mpirun -np "$ranks" --oversubscribe build/jobs/timeseries_summary --output "$out"
echo "demo: pandas.read_hdf(\"$out\", \"summary\"):"
/usr/bin/python3 -c "import pandas; print(pandas.read_hdf('$out', 'summary'))"
