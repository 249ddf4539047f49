/* SPDX-License-Identifier: BSD-3-Clause */
/* base.h -- a stand-in for the fixture. */
