/* SPDX-License-Identifier: BSD-3-Clause */
/* A base file that reaches up: the checker must refuse both includes. */
#include "base.h"
#include "rank0/coord.h"
#include <mpi.h>
