/* SPDX-License-Identifier: BSD-3-Clause */
/* coord.h -- a stand-in for the fixture. */
#include <hdf5.h>
