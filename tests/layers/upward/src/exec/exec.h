/* SPDX-License-Identifier: BSD-3-Clause */
/* exec.h -- a stand-in for the fixture. */
