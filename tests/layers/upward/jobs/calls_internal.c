/* SPDX-License-Identifier: BSD-3-Clause */
/* A job calling an internal function of the library: refused. */
int rf__coord_step(void);
int job_main(void);
int job_main(void) { return rf__coord_step(); }
