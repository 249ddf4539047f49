/* SPDX-License-Identifier: BSD-3-Clause */
/* data.h -- a stand-in for the fixture. */
