/* SPDX-License-Identifier: BSD-3-Clause */
/* describe.c -- describe() of float columns, exact, in two passes.
 *
 * The method is in describe.h. What travels between a piece and rank 0
 * (the journal keeps it too):
 *   pass 1 result  per column [count, mean, m2, min, max, pairs], pairs
 *                  the non-empty bins as (bin, count) uint32 pairs,
 *                  little-endian bytes
 *   targets        per column [bin, ...]: the bins holding the order
 *                  statistics, each once
 *   pass 2 result  per column, per target bin, the sorted rf_valrun runs
 *                  of the values in it, as bytes
 * Rank 0 merges moments in piece order (bitwise reproducible) and adds
 * bin counts (exact in any order); runs are sorted once at the end.
 */
#include "describe.h"

#include <math.h>
#include <stdlib.h>

#include "data.h"

#define NBINS ((size_t)1 << RF_STATS_BIN_BITS)
#define NQ 3 /* quartiles */
#define NTARGETS (2 * NQ) /* each interpolates between two positions */

static const double quantiles[NQ] = {0.25, 0.5, 0.75};

/* ---- a piece's pass -------------------------------------------------------- */

typedef struct {
  rf_moments m;       /* pass 1 */
  uint32_t *hist;     /* pass 1: counts per bin */
  uint32_t lo, hi;    /* pass 1: the bins used lie in [lo, hi] */
  uint32_t bins[NTARGETS]; /* pass 2: target bins */
  int n;                   /* pass 2: how many */
  rf_buf runs[NTARGETS];   /* pass 2: values in each target bin */
} piece_col;

struct rf_describe_piece {
  size_t ncols;
  int pass; /* 1 or 2 */
  piece_col *cols;
};

void rf__describe_piece_free(rf_describe_piece *p) {
  if (p == NULL) return;
  for (size_t c = 0; c < p->ncols; c++) {
    rf__free(p->cols[c].hist);
    for (int j = 0; j < NTARGETS; j++) rf__buf_free(&p->cols[c].runs[j]);
  }
  rf__free(p->cols);
  rf__free(p);
}

/* Column c's target bins from the targets value (a list per column of
 * ints; a missing or malformed entry selects nothing there). */
static void read_targets(piece_col *col, const rf_value *l) {
  col->n = (int)rf_value_count(l);
  for (int j = 0; j < col->n && j < NTARGETS; j++) {
    int64_t b = -1;
    (void)rf_value_get_int(rf_value_item(l, (size_t)j), &b);
    col->bins[j] = (uint32_t)b;
  }
  if (col->n > NTARGETS) col->n = NTARGETS;
}

rf_status rf__describe_piece_create(size_t ncols, const rf_value *targets,
                                    rf_describe_piece **out) {
  *out = NULL;
  rf_describe_piece *p = rf__calloc(1, sizeof *p);
  if (p == NULL) return rf__error(RF_ENOMEM, "describe: a piece");
  p->ncols = ncols;
  p->pass = targets == NULL ? 1 : 2;
  p->cols = rf__calloc(ncols ? ncols : 1, sizeof *p->cols);
  if (p->cols == NULL) {
    rf__free(p);
    return rf__error(RF_ENOMEM, "describe: a piece");
  }
  for (size_t c = 0; c < ncols; c++) {
    piece_col *col = &p->cols[c];
    if (p->pass == 2) {
      read_targets(col, rf_value_item(targets, c));
      continue;
    }
    col->lo = UINT32_MAX;
    col->hi = 0;
    col->hist = rf__calloc(NBINS, sizeof *col->hist);
    if (col->hist == NULL) {
      rf__describe_piece_free(p);
      return rf__error(RF_ENOMEM, "pass 1 scratch");
    }
  }
  *out = p;
  return RF_OK;
}

/* Drop NaN from v[0..k) (pandas' describe skips them); the new length. */
static size_t drop_nan(double *v, size_t k) {
  size_t o = 0;
  for (size_t i = 0; i < k; i++) {
    if (v[i] == v[i]) v[o++] = v[i];
  }
  return o;
}

/* Count v into runs: a bin of an integer column holds a few distinct
 * values many times, so look at the last few runs before adding one. */
static rf_status add_run(rf_buf *runs, double v) {
  rf_valrun *r = (rf_valrun *)runs->data;
  size_t n = runs->len / sizeof *r;
  for (size_t k = n; k > 0 && k + 8 > n; k--) {
    if (r[k - 1].value == v) {
      r[k - 1].count++;
      return RF_OK;
    }
  }
  rf_valrun one = {v, 1};
  return rf__buf_append(runs, &one, sizeof one);
}

rf_status rf__describe_piece_add(rf_describe_piece *p, size_t col,
                                 double *v, size_t n, int skip_nan) {
  piece_col *c = &p->cols[col];
  if (skip_nan) n = drop_nan(v, n);
  if (p->pass == 1) {
    rf__moments_add(&c->m, v, n);
    for (size_t i = 0; i < n; i++) c->hist[rf__stats_bin(v[i])]++;
    /* Bins are monotone: the used range runs from min's to max's. */
    if (rf__stats_bin(c->m.min) < c->lo) c->lo = rf__stats_bin(c->m.min);
    if (rf__stats_bin(c->m.max) > c->hi) c->hi = rf__stats_bin(c->m.max);
    return RF_OK;
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t b = rf__stats_bin(v[i]);
    for (int j = 0; j < c->n; j++) {
      if (c->bins[j] != b) continue;
      RF_CHECK(add_run(&c->runs[j], v[i]));
      break;
    }
  }
  return RF_OK;
}

/* Pass 1's [count, mean, m2, min, max, pairs] of one column; NULL when
 * out of memory. */
static rf_value *pass1_column(const piece_col *c) {
  /* Non-empty bins as (bin, count) pairs of uint32, little-endian. */
  rf_buf pairs = {0};
  for (uint32_t b = c->lo; b <= c->hi && c->lo != UINT32_MAX; b++) {
    if (c->hist[b] == 0) continue;
    uint32_t pair[2] = {b, c->hist[b]};
    if (rf__buf_append(&pairs, pair, sizeof pair) != RF_OK) break;
  }
  rf_value *col = rf_value_list();
  rf_value_list_append(col, rf_value_int(c->m.count));
  rf_value_list_append(col, rf_value_double(c->m.mean));
  rf_value_list_append(col, rf_value_double(c->m.m2));
  rf_value_list_append(col, rf_value_double(c->m.min));
  rf_value_list_append(col, rf_value_double(c->m.max));
  rf_value_list_append(col, pairs.oom ? NULL
                                      : rf_value_bytes(pairs.data, pairs.len));
  rf__buf_free(&pairs);
  if (rf_value_count(col) != 6) {
    rf_value_free(col);
    return NULL;
  }
  return col;
}

/* Pass 2's runs per target bin of one column, sorted; NULL when out of
 * memory. */
static rf_value *pass2_column(piece_col *c) {
  rf_value *col = rf_value_list();
  for (int j = 0; j < c->n; j++) {
    size_t n = rf__runs_sort((rf_valrun *)c->runs[j].data,
                             c->runs[j].len / sizeof(rf_valrun));
    rf_value_list_append(col, rf_value_bytes(c->runs[j].data,
                                             n * sizeof(rf_valrun)));
  }
  if (rf_value_count(col) != (size_t)c->n) {
    rf_value_free(col);
    return NULL;
  }
  return col;
}

rf_status rf__describe_piece_result(rf_describe_piece *p, rf_value **out) {
  rf_value *res = rf_value_list();
  for (size_t c = 0; c < p->ncols && res != NULL; c++) {
    rf_value *col = p->pass == 1 ? pass1_column(&p->cols[c])
                                 : pass2_column(&p->cols[c]);
    if (rf_value_list_append(res, col) != RF_OK) {
      rf_value_free(res);
      res = NULL;
    }
  }
  *out = res;
  if (res == NULL) {
    return rf__error(RF_ENOMEM, "pass %d result", p->pass);
  }
  return RF_OK;
}

/* ---- rank 0: merging the pieces -------------------------------------------- */

typedef struct {
  rf_moments m;
  uint64_t *hist;
  /* per quartile: the positions a and a+1 it interpolates (bin, offset) */
  uint32_t bin[NQ][2];
  int64_t off[NQ][2];
  uint32_t targets[NTARGETS];
  int ntargets;
  rf_buf runs[NTARGETS]; /* merged pass 2 runs per target */
  double q[NQ];
} column;

struct rf_describe {
  size_t ncols;
  const char *const *names;
  column *cols;
};

void rf__describe_free(rf_describe *d) {
  if (d == NULL) return;
  for (size_t c = 0; c < d->ncols; c++) {
    rf__free(d->cols[c].hist);
    for (int j = 0; j < NTARGETS; j++) rf__buf_free(&d->cols[c].runs[j]);
  }
  rf__free(d->cols);
  rf__free(d);
}

rf_status rf__describe_create(size_t ncols, const char *const *names,
                              rf_describe **out) {
  *out = NULL;
  rf_describe *d = rf__calloc(1, sizeof *d);
  if (d != NULL) d->cols = rf__calloc(ncols ? ncols : 1, sizeof *d->cols);
  if (d == NULL || d->cols == NULL) {
    rf__free(d);
    return rf__error(RF_ENOMEM, "planning the summary");
  }
  d->ncols = ncols;
  d->names = names;
  for (size_t c = 0; c < ncols; c++) {
    d->cols[c].hist = rf__calloc(NBINS, sizeof *d->cols[c].hist);
    if (d->cols[c].hist == NULL) {
      rf__describe_free(d);
      return rf__error(RF_ENOMEM, "planning the summary");
    }
  }
  *out = d;
  return RF_OK;
}

rf_status rf__describe_merge1(rf_describe *d, size_t piece,
                              const rf_value *r) {
  for (size_t c = 0; c < d->ncols; c++) {
    const rf_value *col = rf_value_item(r, c);
    rf_moments pm;
    const void *pairs;
    size_t len;
    if (rf_value_get_int(rf_value_item(col, 0), &pm.count) != RF_OK ||
        rf_value_get_double(rf_value_item(col, 1), &pm.mean) != RF_OK ||
        rf_value_get_double(rf_value_item(col, 2), &pm.m2) != RF_OK ||
        rf_value_get_double(rf_value_item(col, 3), &pm.min) != RF_OK ||
        rf_value_get_double(rf_value_item(col, 4), &pm.max) != RF_OK ||
        rf_value_get_bytes(rf_value_item(col, 5), &pairs, &len) != RF_OK ||
        len % 8 != 0) {
      return rf__error(RF_ECODEC, "malformed pass 1 result of piece %zu",
                       piece);
    }
    rf__moments_merge(&d->cols[c].m, &pm); /* in piece order: reproducible */
    for (size_t k = 0; k < len / 8; k++) {
      uint32_t pair[2];
      memcpy(pair, (const uint8_t *)pairs + 8 * k, sizeof pair);
      RF_ENSURE(pair[0] < NBINS, RF_ECODEC, "bin %u out of range", pair[0]);
      d->cols[c].hist[pair[0]] += pair[1];
    }
  }
  return RF_OK;
}

/* Locate the bins of the order statistics each quartile interpolates.
 * The bins must hold exactly the values counted: RF_ECODEC otherwise. */
static rf_status choose_bins(column *col, const char *name) {
  int64_t n = col->m.count;
  int64_t want[NQ][2];
  for (int q = 0; q < NQ; q++) {
    int64_t a = (int64_t)floor((double)(n - 1) * quantiles[q]);
    want[q][0] = a;
    want[q][1] = a + 1 < n ? a + 1 : a;
  }
  int64_t before = 0;
  col->ntargets = 0;
  for (size_t b = 0; b < NBINS; b++) {
    uint64_t cnt = col->hist[b];
    if (cnt == 0) continue;
    for (int q = 0; q < NQ; q++) {
      for (int e = 0; e < 2; e++) {
        if (want[q][e] >= before && want[q][e] < before + (int64_t)cnt) {
          col->bin[q][e] = (uint32_t)b;
          col->off[q][e] = want[q][e] - before;
          int seen = 0;
          for (int j = 0; j < col->ntargets; j++) {
            seen |= col->targets[j] == b;
          }
          if (!seen) col->targets[col->ntargets++] = (uint32_t)b;
        }
      }
    }
    before += (int64_t)cnt;
  }
  RF_ENSURE(before == n, RF_ECODEC,
            "column %s: the bins hold %lld values, the moments %lld", name,
            (long long)before, (long long)n);
  return RF_OK;
}

rf_status rf__describe_targets(rf_describe *d, rf_value **out) {
  *out = NULL;
  for (size_t c = 0; c < d->ncols; c++) {
    RF_CHECK(choose_bins(&d->cols[c], d->names[c]));
  }
  rf_value *all = rf_value_list();
  for (size_t c = 0; c < d->ncols; c++) {
    rf_value *l = rf_value_list();
    for (int j = 0; j < d->cols[c].ntargets; j++) {
      rf_value_list_append(l, rf_value_int(d->cols[c].targets[j]));
    }
    if (rf_value_list_append(all, l) != RF_OK) {
      rf_value_free(all);
      return rf__error(RF_ENOMEM, "pass 2 targets");
    }
  }
  *out = all;
  return RF_OK;
}

rf_status rf__describe_merge2(rf_describe *d, size_t piece,
                              const rf_value *r) {
  for (size_t c = 0; c < d->ncols; c++) {
    column *col = &d->cols[c];
    const rf_value *cv = rf_value_item(r, c);
    RF_ENSURE(rf_value_count(cv) == (size_t)col->ntargets, RF_ECODEC,
              "malformed pass 2 result of piece %zu", piece);
    for (int j = 0; j < col->ntargets; j++) {
      const void *data;
      size_t len;
      RF_CHECK(rf_value_get_bytes(rf_value_item(cv, (size_t)j), &data, &len));
      if (len % sizeof(rf_valrun) != 0) return RF_ECODEC;
      RF_CHECK(rf__buf_append(&col->runs[j], data, len));
    }
  }
  return RF_OK;
}

/* Pick column col's quartiles from its merged runs. */
static rf_status select_quartiles(column *col) {
  size_t nruns[NTARGETS];
  for (int j = 0; j < col->ntargets; j++) {
    nruns[j] = rf__runs_sort((rf_valrun *)col->runs[j].data,
                             col->runs[j].len / sizeof(rf_valrun));
  }
  for (int q = 0; q < NQ; q++) {
    double ab[2] = {NAN, NAN};
    if (col->m.count == 0) { /* no values: NaN, as pandas gives */
      col->q[q] = NAN;
      continue;
    }
    for (int e = 0; e < 2; e++) {
      int j = 0;
      while (j < col->ntargets && col->targets[j] != col->bin[q][e]) j++;
      if (j == col->ntargets ||
          !rf__runs_pick((rf_valrun *)col->runs[j].data, nruns[j],
                         col->off[q][e], &ab[e])) {
        return rf__error(RF_ECODEC, "pass 2 found fewer values than pass 1");
      }
    }
    double h = (double)(col->m.count - 1) * quantiles[q];
    col->q[q] = rf__quantile_lerp(ab[0], ab[1], h - floor(h));
  }
  return RF_OK;
}

rf_status rf__describe_frame(rf_describe *d, rf_frame **out) {
  static const char *const labels[8] = {"count", "mean", "std", "min",
                                        "25%",   "50%",  "75%", "max"};
  *out = NULL;
  for (size_t c = 0; c < d->ncols; c++) RF_CHECK(select_quartiles(&d->cols[c]));
  rf_frame *f;
  RF_CHECK(rf_frame_create(8, &f));
  rf_status st = RF_OK;
  for (int i = 0; i < 8 && st == RF_OK; i++) {
    st = rf_frame_set_label(f, (size_t)i, labels[i]);
  }
  for (size_t c = 0; c < d->ncols && st == RF_OK; c++) {
    const column *col = &d->cols[c];
    const rf_moments *m = &col->m;
    int none = m->count == 0; /* all NaN: pandas gives count 0, rest NaN */
    double v[8] = {(double)m->count, none ? NAN : m->mean,
                   rf__moments_std(m), none ? NAN : m->min, col->q[0],
                   col->q[1], col->q[2], none ? NAN : m->max};
    st = rf_frame_add_f64(f, d->names[c], v);
  }
  if (st != RF_OK) {
    rf_frame_free(f);
    return st;
  }
  *out = f;
  return RF_OK;
}
