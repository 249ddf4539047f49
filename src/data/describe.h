/* SPDX-License-Identifier: BSD-3-Clause */
/* describe.h -- pandas' describe() of float columns, exact, in two passes
 * over pieces of rows that no rank ever holds together.
 *
 * A private module of the data layer, written as the public API it will
 * become (the datasets issue publishes it for any table): it includes only
 * rankflow.h, and one job uses it today.
 *
 * The work is cut into pieces (a piece: some rows of every column), each
 * run by a task, twice:
 *   pass 1  each piece adds its chunks of each column to a piece of pass 1
 *           (moments, min, max, and counts per order-preserving bin) and
 *           returns its result value; rank 0 merges the results in piece
 *           order (so the frame's bits are the same at any rank count) and
 *           asks for the targets: the bins holding the order statistics
 *           the quartiles need.
 *   pass 2  each piece is given the targets, adds its chunks again (it is
 *           regenerated or reread, never kept) and returns only the values
 *           inside those bins, as sorted (value, count) runs; rank 0 merges
 *           them, picks the order statistics and interpolates as numpy
 *           does.
 * The frame: rows count, mean, std (ddof 1), min, 25%, 50%, 75%, max, one
 * float64 column per input column. NaN is skipped, as pandas skips it; a
 * column of no values gives count 0 and NaN elsewhere.
 *
 * Memory: a piece holds 4 MiB of bin counts per column (pass 1), rank 0
 * 8 MiB per column and the few values inside the chosen bins.
 */
#ifndef RF_DESCRIBE_H
#define RF_DESCRIBE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rankflow.h"

/* ---- describe.c: a piece's pass (on the rank that runs the piece) ------ */
typedef struct rf_describe_piece rf_describe_piece;

/* A pass over ncols columns: pass 1 when targets is NULL, else pass 2
 * collecting the values inside the target bins (rf__describe_targets'
 * value, borrowed; malformed targets select nothing). RF_ENOMEM. */
rf_status rf__describe_piece_create(size_t ncols, const rf_value *targets,
                                    rf_describe_piece **out);
/* Add values[0..n) to column col. With skip_nan, NaN is dropped from
 * values in place first; without it the values must hold no NaN (the
 * caller made them). RF_ENOMEM (pass 2). */
rf_status rf__describe_piece_add(rf_describe_piece *p, size_t col,
                                 double *values, size_t n, int skip_nan);
/* The piece's result, a new value (caller frees). RF_ENOMEM. */
rf_status rf__describe_piece_result(rf_describe_piece *p, rf_value **out);
void rf__describe_piece_free(rf_describe_piece *p);

/* ---- describe.c: merging the pieces (rank 0) ----------------------------- */
typedef struct rf_describe rf_describe;

/* A summary of ncols columns named names[0..ncols) (copied when the frame
 * is made; borrowed until then). RF_ENOMEM. */
rf_status rf__describe_create(size_t ncols, const char *const *names,
                              rf_describe **out);
/* Merge piece number `piece`'s pass 1 result (call in piece order, every
 * piece once). RF_ECODEC naming the piece for a malformed result. */
rf_status rf__describe_merge1(rf_describe *d, size_t piece,
                              const rf_value *result);
/* After every pass 1 merge: the targets every piece of pass 2 is given (a
 * new value, caller frees). RF_ECODEC if the bins do not hold exactly the
 * values the moments counted; RF_ENOMEM. */
rf_status rf__describe_targets(rf_describe *d, rf_value **out);
/* Merge piece number `piece`'s pass 2 result (any order). RF_ECODEC,
 * RF_ENOMEM. */
rf_status rf__describe_merge2(rf_describe *d, size_t piece,
                              const rf_value *result);
/* After every pass 2 merge: the describe() frame (caller frees).
 * RF_ECODEC if pass 2 found fewer values than pass 1; RF_ENOMEM. */
rf_status rf__describe_frame(rf_describe *d, rf_frame **out);
void rf__describe_free(rf_describe *d);

/* ---- stats.c: the mergeable statistics describe() is made of ----------- */
typedef struct {
  int64_t count;
  double mean, m2, min, max;
} rf_moments;
/* Add n values (a chunk) to m; merge b into a (order matters bitwise:
 * merge in a fixed order for reproducible results). */
void rf__moments_add(rf_moments *m, const double *v, size_t n);
void rf__moments_merge(rf_moments *a, const rf_moments *b);
/* Standard deviation with ddof = 1 (NaN below two values). */
double rf__moments_std(const rf_moments *m);

/* Order-preserving bin of a value: v <= w implies bin(v) <= bin(w). The
 * bits are flipped so that the unsigned order of keys is the order of the
 * values (negatives reversed, positives above them); equal values always
 * share a bin. Inline: it runs once per value per pass. */
#define RF_STATS_BIN_BITS 20
static inline uint32_t rf__stats_bin(double v) {
  uint64_t u;
  v += 0.0; /* -0.0 + 0.0 is 0.0: one bin for both, without a branch */
  memcpy(&u, &v, sizeof u);
  u = (u >> 63) ? ~u : (u | 0x8000000000000000ull);
  return (uint32_t)(u >> (64 - RF_STATS_BIN_BITS));
}

/* A run of equal values, for second-pass selection. */
typedef struct {
  double value;
  int64_t count;
} rf_valrun;
/* Sort runs by value and merge equal ones; returns the new count. */
size_t rf__runs_sort(rf_valrun *runs, size_t n);
/* The value at 0-based position offset within sorted runs; 0 if past. */
int rf__runs_pick(const rf_valrun *runs, size_t n, int64_t offset,
                  double *out);
/* numpy's linear interpolation between order statistics a and b. */
double rf__quantile_lerp(double a, double b, double t);

#endif /* RF_DESCRIBE_H */
