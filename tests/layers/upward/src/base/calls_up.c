/* SPDX-License-Identifier: BSD-3-Clause */
/* A base file calling a function of rank0/ without including anything
 * of it: the checker must see the call in the object files. */
int rf_fixture_rank0_work(void);
int rf_fixture_base_work(void);
int rf_fixture_base_work(void) { return rf_fixture_rank0_work(); }
