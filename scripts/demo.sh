#!/usr/bin/env bash
# demo.sh -- set up, build, and run the main job on several ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh release
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks=${RANKS:-4}
echo "demo: mpirun -np $ranks build/jobs/hello_flow --n 100000"
mpirun -np "$ranks" --oversubscribe build/jobs/hello_flow --n 100000
