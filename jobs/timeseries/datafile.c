/* SPDX-License-Identifier: BSD-3-Clause */
/* datafile.c -- a synthetic timeseries' rows in one HDF5 file, in parallel.
 *
 * Layout: group /timeseries with 1-D datasets of equal length timestamp
 * (int64 ns since the epoch), id (int64), name (8-byte null-padded ASCII),
 * x, y (float64), partition_offsets (int64, partitions + 1) and the data
 * parameters as attributes. It is a rows file (src/h5/rows.h): created and
 * closed collectively, in steps, and written by whichever rank makes a
 * piece, into the piece's rows; space is allocated early and the file
 * flushed right after creation, so a killed run leaves a file that can be
 * reopened. Reading (--input) needs nothing collective: a task opens the
 * file read-only, reads its rows, and closes it.
 */
#include "timeseries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5/rows.h"

enum { D_TIME, D_ID, D_NAME, D_X, D_Y, D_OFFSETS, ND };
static const char *const dnames[ND] = {"timestamp", "id", "name", "x", "y",
                                       "partition_offsets"};
static const rf_rows_type dtypes[ND] = {RF_ROWS_I64, RF_ROWS_I64,
                                        RF_ROWS_TEXT8, RF_ROWS_F64,
                                        RF_ROWS_F64, RF_ROWS_I64};

#define GROUP "timeseries"
#define STAMP_ATTR "rankflow_resume_stamp"

/* The file this process writes into, between the create and close steps. */
static rf_rows *out;

/* The columns of ts's data file. */
static void columns(const rf_timeseries *ts, rf_rows_column cols[ND]) {
  for (int i = 0; i < ND; i++) {
    cols[i].name = dnames[i];
    cols[i].type = dtypes[i];
    cols[i].length = i == D_OFFSETS
                         ? (uint64_t)rf_timeseries_partitions(ts) + 1
                         : (uint64_t)rf_timeseries_rows(ts);
  }
}

rf_value *rf_timeseries_attrs(const rf_timeseries *ts) {
  rf_value *m = rf_value_map();
  rf_status st = RF_OK;
  for (int i = 0; i < TS_PARAMS && st == RF_OK; i++) {
    st = rf_value_map_set(m, ts_params[i], rf_value_string(rf_timeseries_param(
                                               ts, ts_params[i])));
  }
  if (st == RF_OK) {
    st = rf_value_map_set(m, "seed",
                          rf_value_int((int64_t)rf_timeseries_seed(ts)));
  }
  if (st == RF_OK) {
    st = rf_value_map_set(m, "rows", rf_value_int(rf_timeseries_rows(ts)));
  }
  if (st == RF_OK) {
    st = rf_value_map_set(m, "partitions",
                          rf_value_int((int64_t)rf_timeseries_partitions(ts)));
  }
  if (st != RF_OK) {
    rf_value_free(m);
    return NULL;
  }
  return m;
}

/* A new file: its attributes, then rank 0 writes the partition offsets,
 * and every rank flushes (so a killed run leaves a file to reopen). */
static rf_status create(rf_step_ctx *ctx, const rf_timeseries *ts,
                        const char *path, const char *stamp) {
  rf_rows_column cols[ND];
  columns(ts, cols);
  rf_value *attrs = rf_timeseries_attrs(ts), *file = NULL;
  rf_status st = attrs != NULL ? RF_OK : RF_ENOMEM;
  if (st == RF_OK && stamp[0] != '\0') {
    file = rf_value_map();
    st = file ? rf_value_map_set(file, STAMP_ATTR, rf_value_string(stamp))
              : RF_ENOMEM;
  }
  if (st == RF_ENOMEM) st = rf_error_set(st, "data attributes");
  if (st == RF_OK) {
    st = rf__rows_create(rf_step_comm(ctx), path, GROUP, cols, ND, attrs,
                         file, &out);
  }
  rf_value_free(attrs);
  rf_value_free(file);
  if (st != RF_OK) return st;
  if (rf_step_rank(ctx) == 0) {
    size_t nparts = rf_timeseries_partitions(ts);
    int64_t *offs = rf_malloc((nparts + 1) * sizeof *offs);
    if (offs == NULL) st = rf_error_set(RF_ENOMEM, "partition offsets");
    for (size_t p = 0; offs != NULL && p <= nparts; p++) {
      offs[p] = (int64_t)p * rf_timeseries_partition_rows(ts, 0);
    }
    if (st == RF_OK) st = rf__rows_write(out, D_OFFSETS, 0, nparts + 1, offs);
    rf_free(offs);
  }
  /* Collective: every rank flushes, whatever rank 0 met. */
  rf_status fst = rf__rows_flush(out);
  if (st == RF_OK) st = fst;
  if (st != RF_OK) {
    (void)rf__rows_close(out);
    out = NULL;
  }
  return st;
}

rf_status ts_data_create(rf_step_ctx *ctx, const rf_timeseries *ts,
                         const char *path, const char *stamp, int reuse) {
  if (!reuse) return create(ctx, ts, path, stamp);
  rf_rows_column cols[ND];
  columns(ts, cols);
  return rf__rows_reopen(rf_step_comm(ctx), path, GROUP, cols, ND,
                         STAMP_ATTR, stamp, &out);
}

rf_status ts_data_close(void) {
  rf_status st = rf__rows_close(out);
  out = NULL;
  return st;
}

rf_status ts_data_write(int64_t first, size_t n, const int64_t *timestamp,
                        const int64_t *id, const char (*name)[8],
                        const double *x, const double *y) {
  const void *bufs[D_OFFSETS] = {timestamp, id, name, x, y};
  for (int i = 0; i < D_OFFSETS; i++) {
    RF_CHECK(rf__rows_write(out, (size_t)i, (uint64_t)first, n, bufs[i]));
  }
  return RF_OK;
}

rf_status ts_data_stamp(const char *path, char *stamp, size_t len) {
  rf_rows *r;
  int ok = rf__rows_open(path, NULL, &r) == RF_OK &&
           rf__rows_attr_text(r, 1, STAMP_ATTR, stamp, len);
  if (r != NULL) (void)rf__rows_close(r);
  return ok ? RF_OK : rf_error_set(RF_EIO, "%s has no resume stamp", path);
}

/* ---- reading (--input) ---------------------------------------------------- */

static rf_status bad_input(const char *path, const char *what) {
  return rf_error_set(RF_EUSAGE, "--input %s: %s", path, what);
}

/* The plan a data file was written for, checked against its datasets. */
static rf_status open_plan(rf_rows *r, const char *path, rf_timeseries **ts) {
  char p[TS_PARAMS][64];
  int64_t seed;
  for (int i = 0; i < TS_PARAMS; i++) {
    if (!rf__rows_attr_text(r, 0, ts_params[i], p[i], sizeof p[i])) {
      return rf_error_set(RF_EUSAGE, "--input %s: attribute %s of /timeseries "
                          "is missing or not a string", path, ts_params[i]);
    }
  }
  if (!rf__rows_attr_int(r, "seed", &seed)) {
    return bad_input(path, "attribute seed of /timeseries is missing");
  }
  if (rf_timeseries_plan(p[0], p[1], p[2], p[3], (uint64_t)seed, ts) != RF_OK) {
    char why[600];
    snprintf(why, sizeof why, "its parameters do not plan: %s",
             rf_last_error());
    return bad_input(path, why);
  }
  int64_t rows = rf_timeseries_rows(*ts);
  for (int d = 0; d < D_OFFSETS; d++) {
    int64_t n = rf__rows_length(r, dnames[d], dtypes[d]);
    if (n != rows) {
      return rf_error_set(RF_EUSAGE, "--input %s: dataset %s is %s (%lld rows "
                          "planned)", path, dnames[d],
                          n < 0 ? "missing or of the wrong type"
                                : "of another length",
                          (long long)rows);
    }
  }
  size_t nparts = rf_timeseries_partitions(*ts);
  if (rf__rows_length(r, dnames[D_OFFSETS], RF_ROWS_I64) !=
      (int64_t)nparts + 1) {
    return bad_input(path,
                     "partition_offsets is missing or of the wrong length");
  }
  int64_t *offs = rf_malloc((nparts + 1) * sizeof *offs);
  int ok = offs != NULL && rf__rows_read(r, dnames[D_OFFSETS], RF_ROWS_I64, 0,
                                         nparts + 1, offs) == RF_OK;
  for (size_t i = 0; ok && i <= nparts; i++) {
    ok = offs[i] == (int64_t)i * rf_timeseries_partition_rows(*ts, 0);
  }
  rf_free(offs);
  return ok ? RF_OK
            : bad_input(path, "partition_offsets do not match its partitions");
}

rf_status rf_timeseries_open(const char *path, rf_timeseries **out) {
  *out = NULL;
  rf_rows *r;
  rf_status st = rf__rows_open(path, GROUP, &r);
  if (st == RF_EIO) return bad_input(path, "cannot open it as an HDF5 file");
  if (st == RF_EUSAGE) {
    return bad_input(path, "no /timeseries group (not written by "
                     "--write-data?)");
  }
  if (st != RF_OK) return st;
  rf_timeseries *ts = NULL;
  st = open_plan(r, path, &ts);
  (void)rf__rows_close(r);
  if (st != RF_OK) {
    rf_timeseries_free(ts);
    return st;
  }
  *out = ts;
  return RF_OK;
}

rf_status ts_data_read(const char *path, int64_t first, size_t n,
                       int64_t *id, double *x, double *y) {
  rf_rows *r;
  RF_CHECK(rf__rows_open(path, GROUP, &r));
  rf_status st = rf__rows_read(r, "id", RF_ROWS_I64, (uint64_t)first, n, id);
  if (st == RF_OK) {
    st = rf__rows_read(r, "x", RF_ROWS_F64, (uint64_t)first, n, x);
  }
  if (st == RF_OK) {
    st = rf__rows_read(r, "y", RF_ROWS_F64, (uint64_t)first, n, y);
  }
  rf_status cst = rf__rows_close(r);
  return st != RF_OK ? st : cst;
}
