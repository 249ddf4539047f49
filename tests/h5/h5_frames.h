/* SPDX-License-Identifier: BSD-3-Clause */
/* h5_frames.h -- the frames the HDF5 tests write, read and show pandas.
 *
 * Each is built the same way by the C round-trip test and by the pandas
 * check's writer, so both sides of a comparison come from one place. The
 * values are chosen to catch conversions: -0.0, a NaN with a payload,
 * infinities, the smallest subnormal, DBL_MAX, INT64_MIN and INT64_MAX.
 */
#ifndef H5_FRAMES_H
#define H5_FRAMES_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rankflow.h"

/* A double from its bits (NaN payloads survive only this way). */
static inline double h5t_bits(uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

static const char *const h5t_describe_labels[8] = {
    "count", "mean", "std", "min", "25%", "50%", "75%", "max"};

/* describe()'s shape: rows count..max, float64 columns id, x, y; with_int
 * adds int64 column n between x and y (so columns of two blocks
 * interleave). */
static inline rf_frame *h5t_summary(int with_int) {
  const double id[8] = {1000, 499.5, 288.8194360957494, 0, 249.75, 499.5,
                        749.25, 999};
  const double x[8] = {-0.0,
                       h5t_bits(0x7ff8000000000123u), /* NaN, payload */
                       INFINITY,
                       -INFINITY,
                       h5t_bits(1), /* 5e-324 */
                       DBL_MAX,
                       -1.5,
                       3.141592653589793};
  const double y[8] = {8, 1e-300, 0.1, -2, 2.5e10, 1.0 / 3, 0, 1};
  const int64_t n[8] = {INT64_MIN, INT64_MAX, 0, -1, 1, 42, -42, 1000000};
  rf_frame *f;
  if (rf_frame_create(8, &f) != RF_OK) return NULL;
  for (size_t i = 0; i < 8; i++) {
    if (rf_frame_set_label(f, i, h5t_describe_labels[i]) != RF_OK) goto fail;
  }
  if (rf_frame_add_f64(f, "id", id) != RF_OK ||
      rf_frame_add_f64(f, "x", x) != RF_OK ||
      (with_int && rf_frame_add_i64(f, "n", n) != RF_OK) ||
      rf_frame_add_f64(f, "y", y) != RF_OK) {
    goto fail;
  }
  return f;
fail:
  rf_frame_free(f);
  return NULL;
}

/* Labels and names beyond ASCII, of very different widths, one empty. */
static inline rf_frame *h5t_utf8(void) {
  const char *labels[4] = {"médiane", "σ", "",
                           "a label much longer than the others, to widen "
                           "the fixed-length strings of axis1"};
  const double mu[4] = {1, 2, 3, 4};
  const int64_t k[4] = {-1, 0, 1, 2};
  rf_frame *f;
  if (rf_frame_create(4, &f) != RF_OK) return NULL;
  for (size_t i = 0; i < 4; i++) {
    if (rf_frame_set_label(f, i, labels[i]) != RF_OK) goto fail;
  }
  if (rf_frame_add_f64(f, "µ", mu) != RF_OK ||
      rf_frame_add_i64(f, "k ≥ 0", k) != RF_OK ||
      rf_frame_add_f64(f, "x y", mu) != RF_OK) {
    goto fail;
  }
  return f;
fail:
  rf_frame_free(f);
  return NULL;
}

/* Only int64 columns: block 0 is then the int64 block. */
static inline rf_frame *h5t_ints(void) {
  const int64_t a[3] = {1, 2, 3}, b[3] = {INT64_MIN, 0, INT64_MAX};
  rf_frame *f;
  if (rf_frame_create(3, &f) != RF_OK) return NULL;
  if (rf_frame_set_label(f, 0, "r0") != RF_OK ||
      rf_frame_set_label(f, 1, "r1") != RF_OK ||
      rf_frame_set_label(f, 2, "r2") != RF_OK ||
      rf_frame_add_i64(f, "a", a) != RF_OK ||
      rf_frame_add_i64(f, "b", b) != RF_OK) {
    rf_frame_free(f);
    return NULL;
  }
  return f;
}

/* No rows (two typed columns), or no columns (three labelled rows). */
static inline rf_frame *h5t_no_rows(void) {
  rf_frame *f;
  if (rf_frame_create(0, &f) != RF_OK) return NULL;
  if (rf_frame_add_f64(f, "a", NULL) != RF_OK ||
      rf_frame_add_i64(f, "b", NULL) != RF_OK) {
    rf_frame_free(f);
    return NULL;
  }
  return f;
}

static inline rf_frame *h5t_no_columns(void) {
  rf_frame *f;
  if (rf_frame_create(3, &f) != RF_OK) return NULL;
  if (rf_frame_set_label(f, 0, "p") != RF_OK ||
      rf_frame_set_label(f, 1, "q") != RF_OK ||
      rf_frame_set_label(f, 2, "r") != RF_OK) {
    rf_frame_free(f);
    return NULL;
  }
  return f;
}

/* The frames by name (also their keys); NULL for an unknown name. */
static const char *const h5t_names[] = {"summary", "mixed", "utf8", "ints",
                                        "no_rows", "no_columns", NULL};

static inline rf_frame *h5t_frame(const char *name) {
  if (strcmp(name, "summary") == 0) return h5t_summary(0);
  if (strcmp(name, "mixed") == 0) return h5t_summary(1);
  if (strcmp(name, "utf8") == 0) return h5t_utf8();
  if (strcmp(name, "ints") == 0) return h5t_ints();
  if (strcmp(name, "no_rows") == 0) return h5t_no_rows();
  if (strcmp(name, "no_columns") == 0) return h5t_no_columns();
  return NULL;
}

#endif /* H5_FRAMES_H */
