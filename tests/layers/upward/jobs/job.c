/* SPDX-License-Identifier: BSD-3-Clause */
/* A job that includes an internal header: refused. */
#include "rankflow.h"
#include "exec/exec.h"
