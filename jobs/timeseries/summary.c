/* SPDX-License-Identifier: BSD-3-Clause */
/* summary.c -- describe() of a synthetic timeseries as a two-pass flow.
 *
 * The plan is cut into fixed pieces (at most 2^20 rows of one partition,
 * whatever the rank count), one task per piece, and described exactly in
 * two passes by the library's describe module (src/data/describe.h): pass
 * 1 returns each piece's moments and bin counts, rank 0 merges them in
 * piece order (so the frame is bitwise the same at any rank count) and
 * finds the bins holding the quartiles' order statistics; pass 2
 * regenerates each piece (or rereads it from --input) and returns only the
 * values inside those bins. No rank ever holds the data: a worker holds
 * one chunk of rows and its bin counts, rank 0 the merged counts and the
 * few values inside the chosen bins. With --write-data, pass 1 also
 * writes the rows it generates into the data file (datafile.c), which
 * collective steps create and close around it.
 */
#include "timeseries.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "data/describe.h"

#define PIECE_ROWS ((int64_t)1 << 20)
#define CHUNK 65536
#define NCOL 3

static const char *const col_names[NCOL] = {"id", "x", "y"};
static const char *const task_names[2] = {"rankflow.timeseries.pass1",
                                          "rankflow.timeseries.pass2"};
static const char *const step_names[2] = {"rankflow.timeseries.create",
                                          "rankflow.timeseries.close"};

/* ---- the task argument: the plan's parameters and the piece --------------- */

/* [start, end, freq, partition_freq, seed, partition, row0, n, input,
 *  write] (+ pass 2's targets): a task re-plans from the parameters. */
static rf_value *plan_arg(const rf_timeseries *ts) {
  rf_value *a = rf_value_list();
  const char *const *params = ts_params;
  for (int i = 0; i < TS_PARAMS; i++) {
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

/* Rows [off, off + k) of a piece into v[0..2] (id as double): read from
 * the input file, or generated (and written to the data file if asked). */
static rf_status chunk(const piece *p, int64_t off, size_t k, chunkbuf *cb,
                       int write) {
  int64_t first = (int64_t)p->part * rf_timeseries_partition_rows(p->ts, 0) +
                  p->row0 + off;
  if (p->input[0] != '\0') {
    RF_CHECK(ts_data_read(p->input, first, k, cb->ids, cb->v[1], cb->v[2]));
  } else {
    RF_CHECK(rf_timeseries_generate(p->ts, p->part, p->row0 + off, k,
                                    write ? cb->times : NULL, cb->ids,
                                    write ? cb->names : NULL, cb->v[1],
                                    cb->v[2]));
    if (write) {
      RF_CHECK(ts_data_write(first, k, cb->times, cb->ids,
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

/* ---- the passes: one task per piece -------------------------------------------
 * Both read or make the piece's rows chunk by chunk and add each column
 * to the describe module's piece; pass 1 also writes the rows it makes
 * when asked. Generated rows hold no NaN; read ones may (pandas skips
 * them). targets: NULL for pass 1, else pass 2's targets. */
static rf_status pass(rf_ctx *ctx, const rf_value *targets) {
  piece p;
  rf_status st = piece_read(ctx, &p);
  if (st != RF_OK) return st;
  int first_pass = targets == NULL;
  rf_describe_piece *d = NULL;
  rf_value *res = NULL;
  chunkbuf *cb = rf_malloc(sizeof *cb);
  if (cb == NULL) {
    st = rf_error_set(RF_ENOMEM, "pass %d scratch", first_pass ? 1 : 2);
    goto done;
  }
  RF_CHECK_GOTO(rf__describe_piece_create(NCOL, targets, &d), st, done);
  for (int64_t off = 0; off < p.n; off += CHUNK) {
    size_t k = (size_t)(p.n - off < CHUNK ? p.n - off : CHUNK);
    RF_CHECK_GOTO(chunk(&p, off, k, cb, first_pass && p.write), st, done);
    for (int c = 0; c < NCOL; c++) {
      RF_CHECK_GOTO(rf__describe_piece_add(d, (size_t)c, cb->v[c], k,
                                           p.input[0] != '\0'),
                    st, done);
    }
    if (rf_ctx_cancelled(ctx)) break; /* result is dropped anyway */
  }
  st = rf__describe_piece_result(d, &res);
done:
  rf__describe_piece_free(d);
  rf_free(cb);
  rf_timeseries_free(p.ts);
  return finish(ctx, st, res);
}

static rf_status pass1(rf_ctx *ctx) { return pass(ctx, NULL); }

static rf_status pass2(rf_ctx *ctx) {
  return pass(ctx, rf_value_item(rf_ctx_arg(ctx), 10));
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
  rf_status st = ts_data_create(ctx, ts, path, stamp, reuse);
  rf_timeseries_free(ts);
  return st;
}

static rf_status close_step(rf_step_ctx *ctx) {
  (void)ctx;
  return ts_data_close();
}

rf_status rf_timeseries_register(rf_runtime *rt) {
  /* Pass 1 writes into the data file a collective step opened in this
   * process: never in a task host. */
  static const rf_task_options in_process = {.isolate = RF_ISOLATE_NEVER};
  RF_CHECK(rf_task_register(rt, task_names[0], pass1, &in_process, NULL));
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
  rf_describe *d;
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
    if (arg == NULL) return rf_error_set(RF_ENOMEM, "a piece's argument");
    RF_CHECK(rf_submit(s->flow, task, arg, &s->futs[i]));
  }
  return RF_OK;
}

static rf_status piece_result(summary *s, size_t i, const rf_value **out) {
  rf_status st = rf_future_result(s->futs[i], out);
  if (st == RF_ETASK || st == RF_EUPSTREAM || st == RF_ECANCELLED) {
    return rf_error_set(st, "piece %zu (partition %zu): %s", i,
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

/* Merge every piece's result of a pass, in piece order, then release
 * them. On a failure the futures stay: the caller cancels the pieces that
 * have not run, rather than wait for them. */
static rf_status merge(summary *s, int pass) {
  for (size_t i = 0; i < s->npieces; i++) {
    const rf_value *r;
    RF_CHECK(piece_result(s, i, &r));
    RF_CHECK(pass == 1 ? rf__describe_merge1(s->d, i, r)
                       : rf__describe_merge2(s->d, i, r));
  }
  release_all(s);
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
  int journal = rf_journal_path(rf_flow_runtime(s->flow)) != NULL, reuse = 0;
  *partial = rf_malloc(len);
  if (*partial == NULL) return rf_error_set(RF_ENOMEM, "the data file's name");
  snprintf(*partial, len, "%s.partial", s->io->write_data);
  if (journal) {
    reuse = ts_data_stamp(*partial, s->stamp, sizeof s->stamp) == RF_OK;
    if (reuse) {
      rf_log(RF_LOG_INFO, "resuming %s", *partial);
    } else {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      uint64_t ns = (uint64_t)now.tv_sec * 1000000000ull +
                    (uint64_t)now.tv_nsec;
      snprintf(s->stamp, sizeof s->stamp, "%016llx",
               (unsigned long long)XXH3_64bits_withSeed(
                   *partial, strlen(*partial),
                   ns ^ ((uint64_t)getpid() << 32)));
    }
  }
  rf_value *arg = plan_arg(s->ts);
  if (arg == NULL ||
      rf_value_list_append(arg, rf_value_string(*partial)) != RF_OK ||
      rf_value_list_append(arg, rf_value_string(s->stamp)) != RF_OK ||
      rf_value_list_append(arg, rf_value_bool(reuse)) != RF_OK) {
    rf_value_free(arg);
    return rf_error_set(RF_ENOMEM, "the create step's argument");
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
    st = rf_error_set(RF_EIO, "renaming %s to %s: %s", partial,
                      s->io->write_data, strerror(errno));
  }
  if (st != RF_OK && rf_journal_path(rf_flow_runtime(s->flow)) == NULL) {
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
    RF_CHECK(rf_step_find(rt, step_names[i], &step[i]));
  }
  for (size_t p = 0; p < rf_timeseries_partitions(ts); p++) {
    int64_t rows = rf_timeseries_partition_rows(ts, p);
    s.npieces += (size_t)((rows + PIECE_ROWS - 1) / PIECE_ROWS);
  }
  s.pieces = rf_calloc(s.npieces ? s.npieces : 1, sizeof *s.pieces);
  s.futs = rf_calloc(s.npieces ? s.npieces : 1, sizeof *s.futs);
  if (s.pieces == NULL || s.futs == NULL) {
    st = rf_error_set(RF_ENOMEM, "planning the summary");
    goto done;
  }
  RF_CHECK_GOTO(rf__describe_create(NCOL, col_names, &s.d), st, done);
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
    st = rf_error_set(RF_ENOMEM, "the resume stamp");
  } else {
    st = submit_all(&s, task[0], 1, stamp); /* the stamp is part of the key */
  }
  rf_value_free(stamp);
  if (st == RF_OK) st = merge(&s, 1);
  if (writing) {
    writing = 0;
    st = data_end(&s, step[1], partial, st);
  }
  if (st != RF_OK) goto done;
  rf_value *tv;
  RF_CHECK_GOTO(rf__describe_targets(s.d, &tv), st, done);
  st = submit_all(&s, task[1], 2, tv);
  rf_value_free(tv);
  if (st != RF_OK) goto done;
  RF_CHECK_GOTO(merge(&s, 2), st, done);
  st = rf__describe_frame(s.d, out);
done:
  if (s.futs != NULL) {
    for (size_t i = 0; i < s.npieces; i++) {
      if (s.futs[i] != NULL) (void)rf_future_cancel(s.futs[i]);
    }
    release_all(&s);
  }
  if (writing) (void)data_end(&s, step[1], partial, st);
  rf_free(partial);
  rf__describe_free(s.d);
  rf_free(s.pieces);
  rf_free(s.futs);
  return st;
}
