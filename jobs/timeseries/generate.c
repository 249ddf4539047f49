/* SPDX-License-Identifier: BSD-3-Clause */
/* generate.c -- the rows of a synthetic timeseries, like dask's timeseries().
 *
 * Columns: id ~ Poisson(1000), name uniform over dask's 26 names, x and y
 * uniform in [-1, 1), at a fixed spacing from the partition's start. The
 * random numbers are counter-based (SplitMix64 evaluated at the row's
 * index in a stream keyed by seed, partition and column), so any row of
 * any partition can be made on its own: the same seed gives the same bits
 * whichever rank makes which piece, and a second pass can regenerate a
 * piece instead of keeping it. Poisson draws use the inverse CDF with a
 * guide table: one uniform and, on average, about one comparison.
 */
#include "timeseries.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/* dask's names, as 8-byte null-padded ASCII ("Patricia" fills all 8). */
static const char names[26][8] = {
    "Alice",  "Bob",      "Charlie", "Dan",    "Edith",   "Frank",  "George",
    "Hannah", "Ingrid",   "Jerry",   "Kevin",  "Laura",   "Michael", "Norbert",
    "Oliver", "Patricia", "Quinn",   "Ray",    "Sarah",   "Tim",    "Ursula",
    "Victor", "Wendy",    "Xavier",  "Yvonne", "Zelda"};

#define LAMBDA 1000.0
#define KMAX 2048   /* P(X > 2048) for Poisson(1000) is far below 2^-53 */
#define GUIDE 4096

static double cdf[KMAX + 1];
static uint16_t guide[GUIDE];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
  double acc = 0;
  for (int k = 0; k <= KMAX; k++) {
    acc += exp(-LAMBDA + k * log(LAMBDA) - lgamma(k + 1.0));
    cdf[k] = acc;
  }
  cdf[KMAX] = 2.0; /* every u in [0, 1) stops here at the latest */
  int k = 0;
  for (int g = 0; g < GUIDE; g++) {
    while (cdf[k] <= (double)g / GUIDE) k++;
    guide[g] = (uint16_t)k;
  }
}

/* SplitMix64's output number i of the stream keyed by key. */
static inline uint64_t mix(uint64_t key, uint64_t i) {
  uint64_t z = key + (i + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline double unit(uint64_t u) { /* [0, 1) with 53 bits */
  return (double)(u >> 11) * 0x1.0p-53;
}

enum { COL_ID, COL_NAME, COL_X, COL_Y };

static uint64_t stream(const rf_timeseries *ts, size_t partition, int col) {
  return mix(rf_timeseries_seed(ts), (uint64_t)partition * 4 + (uint64_t)col);
}

rf_status rf_timeseries_generate(const rf_timeseries *ts, size_t partition,
                                 int64_t row0, size_t n, int64_t *timestamp,
                                 int64_t *id, char (*name)[8], double *x,
                                 double *y) {
  RF_ENSURE(partition < rf_timeseries_partitions(ts), RF_EINVAL,
            "partition %zu of %zu", partition, rf_timeseries_partitions(ts));
  int64_t rows = rf_timeseries_partition_rows(ts, partition);
  RF_ENSURE(row0 >= 0 && row0 <= rows && (int64_t)n <= rows - row0,
            RF_EINVAL, "rows %lld..%lld of a partition of %lld",
            (long long)row0, (long long)row0 + (long long)n, (long long)rows);
  if (timestamp != NULL) {
    int64_t t0 = rf_timeseries_partition_start(ts, partition);
    int64_t step = rf_timeseries_freq_ns(ts);
    for (size_t i = 0; i < n; i++) timestamp[i] = t0 + (row0 + (int64_t)i) * step;
  }
  if (id != NULL) {
    (void)pthread_once(&table_once, build_table);
    uint64_t key = stream(ts, partition, COL_ID);
    for (size_t i = 0; i < n; i++) {
      double u = unit(mix(key, (uint64_t)(row0 + (int64_t)i)));
      int k = guide[(int)(u * GUIDE)];
      while (u >= cdf[k]) k++;
      id[i] = k;
    }
  }
  if (name != NULL) {
    uint64_t key = stream(ts, partition, COL_NAME);
    for (size_t i = 0; i < n; i++) {
      uint64_t u = mix(key, (uint64_t)(row0 + (int64_t)i)) >> 32;
      memcpy(name[i], names[(u * 26) >> 32], 8);
    }
  }
  double *cols[2] = {x, y};
  for (int c = 0; c < 2; c++) {
    if (cols[c] == NULL) continue;
    uint64_t key = stream(ts, partition, COL_X + c);
    for (size_t i = 0; i < n; i++) {
      cols[c][i] = 2.0 * unit(mix(key, (uint64_t)(row0 + (int64_t)i))) - 1.0;
    }
  }
  return RF_OK;
}
