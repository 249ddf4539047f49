/* SPDX-License-Identifier: BSD-3-Clause */
/* api/ may not include rank0's private header. */
#include "rank0/coord.h"
