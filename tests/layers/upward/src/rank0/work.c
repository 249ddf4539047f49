/* SPDX-License-Identifier: BSD-3-Clause */
/* The rank0/ function the base file calls. */
int rf_fixture_rank0_work(void);
int rf_fixture_rank0_work(void) { return 0; }
