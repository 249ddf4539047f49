/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_sort.h -- sorting timings, shared by the benchmark programs.
 *
 * Medians and percentiles of measured times need the samples in order;
 * one comparator serves every benchmark rather than a copy in each.
 */
#ifndef BENCH_SORT_H
#define BENCH_SORT_H

#include <stddef.h>
#include <stdlib.h>

static int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sort v[0..n) ascending, in place. */
static inline void bench_sort(double *v, size_t n) {
  qsort(v, n, sizeof *v, bench_cmp_double);
}

#endif /* BENCH_SORT_H */
