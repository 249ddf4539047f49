/* SPDX-License-Identifier: BSD-3-Clause */
/* A job that reaches the library's insides by a relative path and by an
 * angle include: refused. (Scanned, never compiled.) */
#include "../src/rank0/coord.h"
#include <exec/exec.h>
