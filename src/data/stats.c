/* SPDX-License-Identifier: BSD-3-Clause */
/* stats.c -- mergeable statistics and exact quantiles in bounded memory.
 *
 * describe() needs count, mean, std, min and max (mergeable moments: each
 * piece keeps count, mean and the sum of squared deviations M2, merged with
 * Chan et al.'s update, always in the same order so results are bitwise the
 * same for any rank count) and exact quartiles. Quartiles take two passes
 * over data that is cheaper to regenerate than to keep: the first pass
 * also counts values per bin of an order-preserving 20-bit key (sign,
 * exponent and 8 mantissa bits of the value as a double), which needs no
 * range known in advance; merged counts locate the bins that hold the
 * wanted order statistics; the second pass returns only the values in
 * those bins, as sorted (value, count) runs, and the order statistics are
 * picked from them.
 */
#include "describe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- moments --------------------------------------------------------- */

void rf__moments_add(rf_moments *m, const double *v, size_t n) {
  if (n == 0) return;
  /* Two passes over a chunk in cache: its mean, then its M2 about that
   * mean (more accurate than a running update), then merge. */
  double sum = 0, lo = v[0], hi = v[0];
  for (size_t i = 0; i < n; i++) {
    sum += v[i];
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  double mean = sum / (double)n, m2 = 0;
  for (size_t i = 0; i < n; i++) {
    double d = v[i] - mean;
    m2 += d * d;
  }
  rf_moments c = {(int64_t)n, mean, m2, lo, hi};
  rf__moments_merge(m, &c);
}

void rf__moments_merge(rf_moments *a, const rf_moments *b) {
  if (b->count == 0) return;
  if (a->count == 0) {
    *a = *b;
    return;
  }
  double na = (double)a->count, nb = (double)b->count, n = na + nb;
  double delta = b->mean - a->mean;
  a->mean += delta * nb / n;
  a->m2 += b->m2 + delta * delta * na * nb / n;
  a->count += b->count;
  if (b->min < a->min) a->min = b->min;
  if (b->max > a->max) a->max = b->max;
}

double rf__moments_std(const rf_moments *m) {
  return m->count > 1 ? sqrt(m->m2 / (double)(m->count - 1)) : NAN;
}

/* ---- selection --------------------------------------------------------- */

static int run_cmp(const void *a, const void *b) {
  double x = ((const rf_valrun *)a)->value, y = ((const rf_valrun *)b)->value;
  return (x > y) - (x < y);
}

size_t rf__runs_sort(rf_valrun *runs, size_t n) {
  if (n == 0) return 0;
  qsort(runs, n, sizeof *runs, run_cmp);
  size_t out = 0;
  for (size_t i = 1; i < n; i++) {
    if (runs[i].value == runs[out].value) runs[out].count += runs[i].count;
    else runs[++out] = runs[i];
  }
  return out + 1;
}

int rf__runs_pick(const rf_valrun *runs, size_t n, int64_t offset,
                  double *out) {
  for (size_t i = 0; i < n; i++) {
    if (offset < runs[i].count) {
      *out = runs[i].value;
      return 1;
    }
    offset -= runs[i].count;
  }
  return 0;
}

double rf__quantile_lerp(double a, double b, double t) {
  /* numpy's linear interpolation, exactly as it rounds. */
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}
