/* SPDX-License-Identifier: BSD-3-Clause */
/* A data file that includes MPI: refused. */
#include <mpi.h>
#include "data.h"
