/* tssummary.c -- describe() of a synthetic timeseries as a two-pass flow.
 *
 * The plan is cut into fixed pieces (at most 2^20 rows of one partition,
 * whatever the rank count), one task per piece. Pass 1 returns each
 * piece's moments, min, max and counts per order-preserving bin; rank 0
 * merges them in piece order (so the frame is bitwise the same at any rank
 * count) and finds the bins holding the order statistics the quartiles
 * need. Pass 2 regenerates each piece and returns only the values inside
 * those bins, as sorted runs; rank 0 picks the exact order statistics and
 * interpolates as pandas does. No rank ever holds the data: a worker holds
 * one chunk of rows and its bin counts, rank 0 the merged counts and the
 * few values inside the chosen bins.
 */
#include "rf_internal.h"

#include <unistd.h>
#include <xxhash.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PIECE_ROWS ((int64_t)1 << 20)
#define CHUNK 65536
#define NCOL 3
#define NBINS ((size_t)1 << RF_STATS_BIN_BITS)
#define NQ 3

static const char *const col_names[NCOL] = {"id", "x", "y"};
static const double quantiles[NQ] = {0.25, 0.5, 0.75};
static const char *const task_names[2] = {"rankflow.timeseries.pass1",
                                          "rankflow.timeseries.pass2"};
static const char *const step_names[2] = {"rankflow.timeseries.create",
                                          "rankflow.timeseries.close"};

/* ---- the task argument: the plan's parameters and the piece --------------- */

/* [start, end, freq, partition_freq, seed, partition, row0, n, input,
 *  write] (+ pass 2's targets): a task re-plans from the parameters. */
static rf_value *plan_arg(const rf_timeseries *ts) {
  rf_value *a = rf_value_list();
  const char *const *params = rf__ts_params;
  for (int i = 0; i < RF_TS_PARAMS; i++) {
    rf_value_list_append(a, rf_value_string(rf_timeseries_param(ts, params[i])));
  }
  if (rf_value_list_append(a, rf_value_int((int64_t)rf_timeseries_seed(ts))) !=
      RF_OK) {
    rf_value_free(a);
    return NULL;
  }
  return a;
}

static rf_value *piece_arg(const rf_timeseries *ts, size_t part, int64_t row0,
                           int64_t n, const rf_timeseries_io *io) {
  rf_value *a = plan_arg(ts);
  rf_value_list_append(a, rf_value_int((int64_t)part));
  rf_value_list_append(a, rf_value_int(row0));
  rf_value_list_append(a, rf_value_int(n));
  rf_value_list_append(a, rf_value_string(io->input ? io->input : ""));
  if (rf_value_list_append(a, rf_value_bool(io->write_data != NULL)) != RF_OK) {
    rf_value_free(a);
    return NULL;
  }
  return a;
}

typedef struct {
  rf_timeseries *ts;
  size_t part;
  int64_t row0, n;
  const char *input; /* read rows from this file ("" : generate them) */
  int write;         /* write generated rows to the open data file */
} piece;

/* A plan from an argument made by plan_arg (at item 0). */
static rf_status plan_read(const rf_value *a, rf_timeseries **ts) {
  const char *s[4];
  int64_t seed;
  for (int i = 0; i < 4; i++) {
    RF_ENSURE(rf_value_get_string(rf_value_item(a, (size_t)i), &s[i], NULL) ==
                  RF_OK,
              RF_ECODEC, "malformed plan argument");
  }
  RF_ENSURE(rf_value_get_int(rf_value_item(a, 4), &seed) == RF_OK, RF_ECODEC,
            "malformed plan argument");
  return rf_timeseries_plan(s[0], s[1], s[2], s[3], (uint64_t)seed, ts);
}

static rf_status piece_read(rf_ctx *ctx, piece *p) {
  const rf_value *a = rf_ctx_arg(ctx);
  int64_t v[3];
  memset(p, 0, sizeof *p);
  for (int i = 0; i < 3; i++) {
    if (rf_value_get_int(rf_value_item(a, (size_t)i + 5), &v[i]) != RF_OK) {
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "malformed piece argument");
    }
  }
  if (rf_value_get_string(rf_value_item(a, 8), &p->input, NULL) != RF_OK ||
      rf_value_get_bool(rf_value_item(a, 9), &p->write) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "malformed piece argument");
  }
  if (plan_read(a, &p->ts) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "plan: %s", rf_last_error());
  }
  p->part = (size_t)v[0];
  p->row0 = v[1];
  p->n = v[2];
  return RF_OK;
}

/* Scratch for one piece: a chunk of each column, and what is written. */
typedef struct {
  int64_t ids[CHUNK];
  double v[NCOL][CHUNK];
  int64_t times[CHUNK];
  char names[CHUNK][8];
} chunkbuf;

/* Drop NaN from v[0..k) (pandas' describe skips them); the new length. */
static size_t drop_nan(double *v, size_t k) {
  size_t o = 0;
  for (size_t i = 0; i < k; i++) {
    if (v[i] == v[i]) v[o++] = v[i];
  }
  return o;
}

/* Rows [off, off + k) of a piece into v[0..2] (id as double): read from
 * the input file, or generated (and written to the data file if asked). */
static rf_status chunk(const piece *p, int64_t off, size_t k, chunkbuf *cb,
                       int write) {
  int64_t first = (int64_t)p->part * rf_timeseries_partition_rows(p->ts, 0) +
                  p->row0 + off;
  if (p->input[0] != '\0') {
    RF_CHECK(rf__tsdata_read(p->input, first, k, cb->ids, cb->v[1], cb->v[2]));
  } else {
    RF_CHECK(rf_timeseries_generate(p->ts, p->part, p->row0 + off, k,
                                    write ? cb->times : NULL, cb->ids,
                                    write ? cb->names : NULL, cb->v[1],
                                    cb->v[2]));
    if (write) {
      RF_CHECK(rf__tsdata_write(first, k, cb->times, cb->ids,
                                (const char(*)[8])cb->names, cb->v[1],
                                cb->v[2]));
    }
  }
  for (size_t i = 0; i < k; i++) cb->v[0][i] = (double)cb->ids[i];
  return RF_OK;
}

/* End a pass: its result (taken), or a permanent failure with the reason. */
static rf_status finish(rf_ctx *ctx, rf_status st, rf_value *res) {
  if (st != RF_OK) {
    rf_value_free(res);
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "%s", rf_last_error());
  }
  rf_ctx_return(ctx, res);
  return RF_OK;
}

/* ---- pass 1: moments and bin counts ----------------------------------------- */

static rf_status pass1(rf_ctx *ctx) {
  piece p;
  rf_status st = piece_read(ctx, &p);
  if (st != RF_OK) return st;
  rf_moments m[NCOL] = {{0}};
  uint32_t *hist[NCOL] = {NULL};
  uint32_t lo[NCOL], hi[NCOL];
  chunkbuf *cb = rf__malloc(sizeof *cb);
  rf_value *res = NULL;
  for (int c = 0; c < NCOL; c++) {
    hist[c] = rf__calloc(NBINS, sizeof *hist[c]);
    lo[c] = UINT32_MAX;
    hi[c] = 0;
  }
  if (cb == NULL || hist[0] == NULL || hist[1] == NULL || hist[2] == NULL) {
    st = rf__error(RF_ENOMEM, "pass 1 scratch");
    goto done;
  }
  double *v[NCOL] = {cb->v[0], cb->v[1], cb->v[2]};
  for (int64_t off = 0; off < p.n; off += CHUNK) {
    size_t k = (size_t)(p.n - off < CHUNK ? p.n - off : CHUNK);
    RF_CHECK_GOTO(chunk(&p, off, k, cb, p.write), st, done);
    for (int c = 0; c < NCOL; c++) {
      size_t kc = p.input[0] ? drop_nan(v[c], k) : k; /* generated: no NaN */
      rf__moments_add(&m[c], v[c], kc);
      for (size_t i = 0; i < kc; i++) hist[c][rf__stats_bin(v[c][i])]++;
      /* Bins are monotone: the used range runs from min's to max's. */
      if (rf__stats_bin(m[c].min) < lo[c]) lo[c] = rf__stats_bin(m[c].min);
      if (rf__stats_bin(m[c].max) > hi[c]) hi[c] = rf__stats_bin(m[c].max);
    }
    if (rf_ctx_cancelled(ctx)) break; /* result is dropped anyway */
  }
  res = rf_value_list();
  for (int c = 0; c < NCOL && res != NULL; c++) {
    /* Non-empty bins as (bin, count) pairs of uint32, little-endian. */
    rf_buf pairs = {0};
    for (uint32_t b = lo[c]; b <= hi[c] && lo[c] != UINT32_MAX; b++) {
      if (hist[c][b] == 0) continue;
      uint32_t pair[2] = {b, hist[c][b]};
      if (rf__buf_append(&pairs, pair, sizeof pair) != RF_OK) break;
    }
    rf_value *col = rf_value_list();
    rf_value_list_append(col, rf_value_int(m[c].count));
    rf_value_list_append(col, rf_value_double(m[c].mean));
    rf_value_list_append(col, rf_value_double(m[c].m2));
    rf_value_list_append(col, rf_value_double(m[c].min));
    rf_value_list_append(col, rf_value_double(m[c].max));
    rf_value_list_append(col, pairs.oom ? NULL : rf_value_bytes(pairs.data, pairs.len));
    rf__buf_free(&pairs);
    if (rf_value_count(col) != 6 || rf_value_list_append(res, col) != RF_OK) {
      rf_value_free(res);
      res = NULL;
    }
  }
  if (res == NULL) st = rf__error(RF_ENOMEM, "pass 1 result");
done:
  for (int c = 0; c < NCOL; c++) rf__free(hist[c]);
  rf__free(cb);
  rf_timeseries_free(p.ts);
  return finish(ctx, st, res);
}

/* ---- pass 2: the values inside the chosen bins ------------------------------ */

/* Targets per column: the bins holding wanted order statistics. */
typedef struct {
  uint32_t bins[2 * NQ];
  int n;
} targets;

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

static rf_status pass2(rf_ctx *ctx) {
  piece p;
  rf_status st = piece_read(ctx, &p);
  if (st != RF_OK) return st;
  targets t[NCOL];
  const rf_value *tv = rf_value_item(rf_ctx_arg(ctx), 10);
  for (int c = 0; c < NCOL; c++) {
    const rf_value *l = rf_value_item(tv, (size_t)c);
    t[c].n = (int)rf_value_count(l);
    for (int j = 0; j < t[c].n && j < 2 * NQ; j++) {
      int64_t b = -1;
      (void)rf_value_get_int(rf_value_item(l, (size_t)j), &b);
      t[c].bins[j] = (uint32_t)b;
    }
    if (t[c].n > 2 * NQ) t[c].n = 2 * NQ;
  }
  rf_buf runs[NCOL][2 * NQ];
  memset(runs, 0, sizeof runs);
  chunkbuf *cb = rf__malloc(sizeof *cb);
  rf_value *res = NULL;
  if (cb == NULL) {
    st = rf__error(RF_ENOMEM, "pass 2 scratch");
    goto done;
  }
  double *v[NCOL] = {cb->v[0], cb->v[1], cb->v[2]};
  for (int64_t off = 0; off < p.n; off += CHUNK) {
    size_t k = (size_t)(p.n - off < CHUNK ? p.n - off : CHUNK);
    RF_CHECK_GOTO(chunk(&p, off, k, cb, 0), st, done);
    for (int c = 0; c < NCOL; c++) {
      size_t kc = p.input[0] ? drop_nan(v[c], k) : k; /* generated: no NaN */
      for (size_t i = 0; i < kc; i++) {
        uint32_t b = rf__stats_bin(v[c][i]);
        for (int j = 0; j < t[c].n; j++) {
          if (t[c].bins[j] != b) continue;
          RF_CHECK_GOTO(add_run(&runs[c][j], v[c][i]), st, done);
          break;
        }
      }
    }
    if (rf_ctx_cancelled(ctx)) break;
  }
  res = rf_value_list();
  for (int c = 0; c < NCOL && res != NULL; c++) {
    rf_value *col = rf_value_list();
    for (int j = 0; j < t[c].n; j++) {
      size_t n = rf__runs_sort((rf_valrun *)runs[c][j].data,
                               runs[c][j].len / sizeof(rf_valrun));
      rf_value_list_append(col, rf_value_bytes(runs[c][j].data,
                                               n * sizeof(rf_valrun)));
    }
    if (rf_value_count(col) != (size_t)t[c].n ||
        rf_value_list_append(res, col) != RF_OK) {
      rf_value_free(res);
      res = NULL;
    }
  }
  if (res == NULL) st = rf__error(RF_ENOMEM, "pass 2 result");
done:
  for (int c = 0; c < NCOL; c++) {
    for (int j = 0; j < 2 * NQ; j++) rf__buf_free(&runs[c][j]);
  }
  rf__free(cb);
  rf_timeseries_free(p.ts);
  return finish(ctx, st, res);
}

/* Steps around pass 1 when its rows are written: create the data file on
 * every rank (argument: the plan, then the path), and close it. */
static rf_status create_step(rf_step_ctx *ctx) {
  const rf_value *a = rf_step_arg(ctx);
  const char *path, *stamp;
  int reuse;
  rf_timeseries *ts;
  RF_ENSURE(rf_value_get_string(rf_value_item(a, 5), &path, NULL) == RF_OK &&
                rf_value_get_string(rf_value_item(a, 6), &stamp, NULL) ==
                    RF_OK &&
                rf_value_get_bool(rf_value_item(a, 7), &reuse) == RF_OK,
            RF_ECODEC, "malformed create argument");
  RF_CHECK(plan_read(a, &ts));
  rf_status st = rf__tsdata_create(ctx, ts, path, stamp, reuse);
  rf_timeseries_free(ts);
  return st;
}

static rf_status close_step(rf_step_ctx *ctx) {
  (void)ctx;
  return rf__tsdata_close();
}

rf_status rf_timeseries_register(rf_runtime *rt) {
  RF_CHECK(rf_task_register(rt, task_names[0], pass1, NULL, NULL));
  RF_CHECK(rf_task_register(rt, task_names[1], pass2, NULL, NULL));
  RF_CHECK(rf_step_register(rt, step_names[0], create_step, NULL));
  return rf_step_register(rt, step_names[1], close_step, NULL);
}

/* ---- rank 0: plan, merge, select ---------------------------------------------- */

typedef struct {
  size_t part;
  int64_t row0, n;
} piece_ref;

typedef struct {
  rf_flow *flow;
  const rf_timeseries *ts;
  const rf_timeseries_io *io;
  piece_ref *pieces;
  size_t npieces;
  rf_future **futs;
  rf_moments m[NCOL];
  uint64_t *hist[NCOL];
  /* per column and quartile: the positions a and a+1 (bin and offset) */
  uint32_t bin[NCOL][NQ][2];
  int64_t off[NCOL][NQ][2];
  targets t[NCOL];
  double q[NCOL][NQ];
  char stamp[40]; /* the data file's resume stamp ("" without a journal) */
} summary;

/* Submit one task per piece of a pass; extra (may be NULL) is appended to
 * each arg (pass 1: the resume stamp; pass 2: the targets). */
static rf_status submit_all(summary *s, const rf_task *task, int pass,
                            const rf_value *extra) {
  for (size_t i = 0; i < s->npieces; i++) {
    const piece_ref *p = &s->pieces[i];
    rf_timeseries_io io = *s->io;
    if (pass == 2) io.write_data = NULL; /* pass 2 only reads */
    rf_value *arg = piece_arg(s->ts, p->part, p->row0, p->n, &io);
    if (arg != NULL && extra != NULL) {
      rf_status st = rf_value_list_append(arg, rf_value_copy(extra));
      if (st != RF_OK) {
        rf_value_free(arg);
        arg = NULL;
      }
    }
    if (arg == NULL) return rf__error(RF_ENOMEM, "a piece's argument");
    RF_CHECK(rf_submit(s->flow, task, arg, &s->futs[i]));
  }
  return RF_OK;
}

static rf_status piece_result(summary *s, size_t i, const rf_value **out) {
  rf_status st = rf_future_result(s->futs[i], out);
  if (st == RF_ETASK || st == RF_EUPSTREAM || st == RF_ECANCELLED) {
    return rf__error(st, "piece %zu (partition %zu): %s", i,
                     s->pieces[i].part, rf_future_error(s->futs[i]));
  }
  return st;
}

static void release_all(summary *s) {
  for (size_t i = 0; i < s->npieces; i++) {
    rf_future_release(s->futs[i]);
    s->futs[i] = NULL;
  }
}

static rf_status merge_pass1(summary *s) {
  for (size_t i = 0; i < s->npieces; i++) {
    const rf_value *r;
    RF_CHECK(piece_result(s, i, &r));
    for (int c = 0; c < NCOL; c++) {
      const rf_value *col = rf_value_item(r, (size_t)c);
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
        return rf__error(RF_ECODEC, "malformed pass 1 result of piece %zu", i);
      }
      rf__moments_merge(&s->m[c], &pm); /* in piece order: reproducible */
      for (size_t k = 0; k < len / 8; k++) {
        uint32_t pair[2];
        memcpy(pair, (const uint8_t *)pairs + 8 * k, sizeof pair);
        RF_ENSURE(pair[0] < NBINS, RF_ECODEC, "bin %u out of range", pair[0]);
        s->hist[c][pair[0]] += pair[1];
      }
    }
  }
  release_all(s);
  return RF_OK;
}

/* Locate the bins of the order statistics each quartile interpolates.
 * The bins must hold exactly the values counted: RF_ECODEC otherwise. */
static rf_status choose_bins(summary *s) {
  for (int c = 0; c < NCOL; c++) {
    int64_t n = s->m[c].count;
    int64_t want[NQ][2];
    for (int q = 0; q < NQ; q++) {
      int64_t a = (int64_t)floor((double)(n - 1) * quantiles[q]);
      want[q][0] = a;
      want[q][1] = a + 1 < n ? a + 1 : a;
    }
    int64_t before = 0;
    s->t[c].n = 0;
    for (size_t b = 0; b < NBINS; b++) {
      uint64_t cnt = s->hist[c][b];
      if (cnt == 0) continue;
      for (int q = 0; q < NQ; q++) {
        for (int e = 0; e < 2; e++) {
          if (want[q][e] >= before && want[q][e] < before + (int64_t)cnt) {
            s->bin[c][q][e] = (uint32_t)b;
            s->off[c][q][e] = want[q][e] - before;
            int seen = 0;
            for (int j = 0; j < s->t[c].n; j++) seen |= s->t[c].bins[j] == b;
            if (!seen) s->t[c].bins[s->t[c].n++] = (uint32_t)b;
          }
        }
      }
      before += (int64_t)cnt;
    }
    RF_ENSURE(before == n, RF_ECODEC,
              "column %s: the bins hold %lld values, the moments %lld",
              col_names[c], (long long)before, (long long)n);
  }
  return RF_OK;
}

static rf_value *targets_value(const summary *s) {
  rf_value *all = rf_value_list();
  for (int c = 0; c < NCOL; c++) {
    rf_value *l = rf_value_list();
    for (int j = 0; j < s->t[c].n; j++) {
      rf_value_list_append(l, rf_value_int(s->t[c].bins[j]));
    }
    if (rf_value_list_append(all, l) != RF_OK) {
      rf_value_free(all);
      return NULL;
    }
  }
  return all;
}

static rf_status select_pass2(summary *s) {
  rf_buf runs[NCOL][2 * NQ];
  rf_status st = RF_OK;
  memset(runs, 0, sizeof runs);
  for (size_t i = 0; i < s->npieces && st == RF_OK; i++) {
    const rf_value *r;
    st = piece_result(s, i, &r);
    for (int c = 0; c < NCOL && st == RF_OK; c++) {
      const rf_value *col = rf_value_item(r, (size_t)c);
      if (rf_value_count(col) != (size_t)s->t[c].n) {
        st = rf__error(RF_ECODEC, "malformed pass 2 result of piece %zu", i);
      }
      for (int j = 0; j < s->t[c].n && st == RF_OK; j++) {
        const void *data;
        size_t len;
        st = rf_value_get_bytes(rf_value_item(col, (size_t)j), &data, &len);
        if (st == RF_OK && len % sizeof(rf_valrun) != 0) st = RF_ECODEC;
        if (st == RF_OK) st = rf__buf_append(&runs[c][j], data, len);
      }
    }
  }
  release_all(s);
  for (int c = 0; c < NCOL && st == RF_OK; c++) {
    size_t nruns[2 * NQ];
    for (int j = 0; j < s->t[c].n; j++) {
      nruns[j] = rf__runs_sort((rf_valrun *)runs[c][j].data,
                               runs[c][j].len / sizeof(rf_valrun));
    }
    for (int q = 0; q < NQ && st == RF_OK; q++) {
      double ab[2] = {NAN, NAN};
      if (s->m[c].count == 0) { /* no values: NaN, as pandas gives */
        s->q[c][q] = NAN;
        continue;
      }
      for (int e = 0; e < 2 && st == RF_OK; e++) {
        int j = 0;
        while (j < s->t[c].n && s->t[c].bins[j] != s->bin[c][q][e]) j++;
        if (j == s->t[c].n ||
            !rf__runs_pick((rf_valrun *)runs[c][j].data, nruns[j],
                           s->off[c][q][e], &ab[e])) {
          st = rf__error(RF_ECODEC, "pass 2 found fewer values than pass 1");
        }
      }
      double h = (double)(s->m[c].count - 1) * quantiles[q];
      s->q[c][q] = rf__quantile_lerp(ab[0], ab[1], h - floor(h));
    }
  }
  for (int c = 0; c < NCOL; c++) {
    for (int j = 0; j < 2 * NQ; j++) rf__buf_free(&runs[c][j]);
  }
  return st;
}

static rf_status build_frame(const summary *s, rf_frame **out) {
  static const char *const labels[8] = {"count", "mean", "std", "min",
                                        "25%",   "50%",  "75%", "max"};
  rf_frame *f;
  RF_CHECK(rf_frame_create(8, &f));
  rf_status st = RF_OK;
  for (int i = 0; i < 8 && st == RF_OK; i++) st = rf_frame_set_label(f, (size_t)i, labels[i]);
  for (int c = 0; c < NCOL && st == RF_OK; c++) {
    const rf_moments *m = &s->m[c];
    int none = m->count == 0; /* all NaN: pandas gives count 0, rest NaN */
    double v[8] = {(double)m->count, none ? NAN : m->mean, rf__moments_std(m),
                   none ? NAN : m->min, s->q[c][0], s->q[c][1], s->q[c][2],
                   none ? NAN : m->max};
    st = rf_frame_add_f64(f, col_names[c], v);
  }
  if (st != RF_OK) {
    rf_frame_free(f);
    return st;
  }
  *out = f;
  return RF_OK;
}

/* Create the data file (as FILE.partial) on every rank before pass 1.
 * With a journal, a FILE.partial that a stopped run left is reopened
 * instead when it carries a resume stamp: pass 1's task keys include the
 * stamp, so the pieces the journal holds were written into this very file
 * and only the others run. A new file gets a new stamp, so every piece
 * runs (and writes) again. */
static rf_status data_begin(summary *s, const rf_step *create, char **partial) {
  size_t len = strlen(s->io->write_data) + sizeof ".partial";
  int journal = rf_flow_runtime(s->flow)->opts.journal != NULL, reuse = 0;
  *partial = rf__malloc(len);
  if (*partial == NULL) return rf__error(RF_ENOMEM, "the data file's name");
  snprintf(*partial, len, "%s.partial", s->io->write_data);
  if (journal) {
    reuse = rf__tsdata_stamp(*partial, s->stamp, sizeof s->stamp) == RF_OK;
    if (reuse) {
      rf__log(RF_LOG_INFO, NULL, "resuming %s", *partial);
    } else {
      snprintf(s->stamp, sizeof s->stamp, "%016llx",
               (unsigned long long)XXH3_64bits_withSeed(
                   *partial, strlen(*partial),
                   rf__mono_ns() ^ ((uint64_t)getpid() << 32)));
    }
  }
  rf_value *arg = plan_arg(s->ts);
  if (arg == NULL ||
      rf_value_list_append(arg, rf_value_string(*partial)) != RF_OK ||
      rf_value_list_append(arg, rf_value_string(s->stamp)) != RF_OK ||
      rf_value_list_append(arg, rf_value_bool(reuse)) != RF_OK) {
    rf_value_free(arg);
    return rf__error(RF_ENOMEM, "the create step's argument");
  }
  rf_status st = rf_flow_step(s->flow, create, arg);
  rf_value_free(arg);
  if (st != RF_OK && !journal) (void)remove(*partial); /* nothing half-made */
  return st;
}

/* Close it on every rank after pass 1; keep it under its name only if
 * every piece was written. On failure it is removed, unless a journal is
 * on: then the rerun completes it. */
static rf_status data_end(summary *s, const rf_step *close, const char *partial,
                          rf_status st) {
  rf_status cst = rf_flow_step(s->flow, close, NULL);
  if (st == RF_OK) st = cst;
  if (st == RF_OK && rename(partial, s->io->write_data) != 0) {
    st = rf__error(RF_EIO, "renaming %s to %s: %s", partial, s->io->write_data,
                   strerror(errno));
  }
  if (st != RF_OK && rf_flow_runtime(s->flow)->opts.journal == NULL) {
    (void)remove(partial);
  }
  return st;
}

rf_status rf_timeseries_summary(rf_flow *flow, const rf_timeseries *ts,
                                const rf_timeseries_io *io, rf_frame **out) {
  static const rf_timeseries_io none = {NULL, NULL};
  summary s;
  rf_task *task[2];
  rf_step *step[2] = {NULL, NULL};
  char *partial = NULL;
  int writing = 0;
  rf_status st;
  *out = NULL;
  memset(&s, 0, sizeof s);
  s.flow = flow;
  s.ts = ts;
  s.io = io ? io : &none;
  RF_ENSURE(!(s.io->write_data && s.io->input), RF_EUSAGE,
            "--write-data and --input cannot be used together");
  rf_runtime *rt = rf_flow_runtime(flow);
  for (int i = 0; i < 2; i++) {
    RF_CHECK(rf_task_find(rt, task_names[i], &task[i]));
    for (uint32_t k = 0; k < rt->reg.nsteps; k++) {
      if (strcmp(rt->reg.steps[k]->name, step_names[i]) == 0) step[i] = rt->reg.steps[k];
    }
    RF_ENSURE(step[i] != NULL, RF_ENOTASK, "step '%s' is not registered",
              step_names[i]);
  }
  for (size_t p = 0; p < rf_timeseries_partitions(ts); p++) {
    int64_t rows = rf_timeseries_partition_rows(ts, p);
    s.npieces += (size_t)((rows + PIECE_ROWS - 1) / PIECE_ROWS);
  }
  s.pieces = rf__calloc(s.npieces ? s.npieces : 1, sizeof *s.pieces);
  s.futs = rf__calloc(s.npieces ? s.npieces : 1, sizeof *s.futs);
  for (int c = 0; c < NCOL; c++) s.hist[c] = rf__calloc(NBINS, sizeof *s.hist[c]);
  if (s.pieces == NULL || s.futs == NULL || s.hist[0] == NULL ||
      s.hist[1] == NULL || s.hist[2] == NULL) {
    st = rf__error(RF_ENOMEM, "planning the summary");
    goto done;
  }
  size_t k = 0;
  for (size_t p = 0; p < rf_timeseries_partitions(ts); p++) {
    int64_t rows = rf_timeseries_partition_rows(ts, p);
    for (int64_t r = 0; r < rows; r += PIECE_ROWS) {
      s.pieces[k++] = (piece_ref){p, r, rows - r < PIECE_ROWS ? rows - r : PIECE_ROWS};
    }
  }
  if (s.io->write_data != NULL) {
    st = data_begin(&s, step[0], &partial);
    writing = st == RF_OK;
    if (st != RF_OK) goto done;
  }
  rf_value *stamp = NULL;
  if (s.stamp[0] != '\0' && (stamp = rf_value_string(s.stamp)) == NULL) {
    st = rf__error(RF_ENOMEM, "the resume stamp");
  } else {
    st = submit_all(&s, task[0], 1, stamp); /* the stamp is part of the key */
  }
  rf_value_free(stamp);
  if (st == RF_OK) st = merge_pass1(&s);
  if (writing) {
    writing = 0;
    st = data_end(&s, step[1], partial, st);
  }
  if (st != RF_OK) goto done;
  RF_CHECK_GOTO(choose_bins(&s), st, done);
  rf_value *tv = targets_value(&s);
  if (tv == NULL) {
    st = rf__error(RF_ENOMEM, "pass 2 targets");
    goto done;
  }
  st = submit_all(&s, task[1], 2, tv);
  rf_value_free(tv);
  if (st != RF_OK) goto done;
  RF_CHECK_GOTO(select_pass2(&s), st, done);
  st = build_frame(&s, out);
done:
  if (s.futs != NULL) {
    for (size_t i = 0; i < s.npieces; i++) {
      if (s.futs[i] != NULL) (void)rf_future_cancel(s.futs[i]);
    }
    release_all(&s);
  }
  if (writing) (void)data_end(&s, step[1], partial, st);
  rf__free(partial);
  for (int c = 0; c < NCOL; c++) rf__free(s.hist[c]);
  rf__free(s.pieces);
  rf__free(s.futs);
  return st;
}
