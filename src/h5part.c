/* h5part.c -- a synthetic timeseries' rows in one HDF5 file, in parallel.
 *
 * Layout: group /timeseries with 1-D datasets of equal length timestamp
 * (int64 ns since the epoch), id (int64), name (8-byte null-padded ASCII),
 * x, y (float64), partition_offsets (int64, partitions + 1) and the data
 * parameters as attributes. Parallel HDF5 creates and closes a file
 * collectively, so both are collective steps; in between every rank keeps
 * the file open and whichever rank makes a piece writes its rows into the
 * piece's hyperslab with independent I/O (checked to work with Debian's
 * HDF5 1.10 and dynamic workers). Space is allocated early and the file
 * flushed right after creation, so a killed run leaves a file that can be
 * reopened. Reading (--input) needs nothing collective: a task opens the
 * file read-only, reads its piece in chunks, and closes it.
 */
#include "rf_h5.h"

#include <string.h>

enum { D_TIME, D_ID, D_NAME, D_X, D_Y, D_OFFSETS, ND };
static const char *const dnames[ND] = {"timestamp", "id", "name", "x", "y",
                                       "partition_offsets"};

/* The file this process writes into, between the create and close steps. */
static struct {
  hid_t file, group, ds[ND], name_type;
} out = {H5I_INVALID_HID, H5I_INVALID_HID,
         {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID,
          H5I_INVALID_HID, H5I_INVALID_HID},
         H5I_INVALID_HID};

#define RF_H5CALL(call, what)                                                  \
  do {                                                                       \
    if ((call) < 0) {                                                        \
      st = rf__error(RF_EHDF5, "%s failed", what);                           \
      goto fail;                                                             \
    }                                                                        \
  } while (0)

static hid_t name_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return t;
  if (H5Tset_size(t, 8) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(t, H5T_CSET_ASCII) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

static void close_out(void) {
  for (int i = 0; i < ND; i++) {
    if (out.ds[i] >= 0) H5Dclose(out.ds[i]);
    out.ds[i] = H5I_INVALID_HID;
  }
  if (out.name_type >= 0) H5Tclose(out.name_type);
  if (out.group >= 0) H5Gclose(out.group);
  out.name_type = out.group = H5I_INVALID_HID;
}

static int read_str_attr(hid_t obj, const char *name, char *buf, size_t len);
static int64_t dataset_len(hid_t g, const char *name, H5T_class_t cls,
                           size_t size);

#define STAMP_ATTR "rankflow_resume_stamp"

/* Reopen a data file a stopped run left (every rank, collectively): it
 * must carry the stamp and hold the plan's rows, or it is not ours. */
static rf_status reopen(rf_step_ctx *ctx, const rf_timeseries *ts,
                        const char *path, const char *stamp) {
  rf_status st = RF_OK;
  char have[64] = "";
  hid_t fapl = H5I_INVALID_HID;
  RF_H5CALL(fapl = H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
  RF_H5CALL(H5Pset_fapl_mpio(fapl, rf_step_comm(ctx), MPI_INFO_NULL),
            "H5Pset_fapl_mpio");
  out.file = H5Fopen(path, H5F_ACC_RDWR, fapl);
  if (out.file < 0) {
    st = rf__error(RF_EIO, "cannot reopen %s to resume it", path);
    goto fail;
  }
  RF_H5CALL(out.group = H5Gopen2(out.file, "timeseries", H5P_DEFAULT),
            "opening /timeseries");
  if (!read_str_attr(out.file, STAMP_ATTR, have, sizeof have) ||
      strcmp(have, stamp) != 0) {
    st = rf__error(RF_EIO, "%s is not the file this journal wrote; remove it",
                   path);
    goto fail;
  }
  RF_H5CALL(out.name_type = name_type(), "the name type");
  for (int i = 0; i < ND; i++) {
    RF_H5CALL(out.ds[i] = H5Dopen2(out.group, dnames[i], H5P_DEFAULT),
              "opening a dataset");
  }
  if (dataset_len(out.group, "x", H5T_FLOAT, 8) != rf_timeseries_rows(ts)) {
    st = rf__error(RF_EIO, "%s was made for another plan; remove it", path);
    goto fail;
  }
  H5Pclose(fapl);
  return RF_OK;
fail:
  if (fapl >= 0) H5Pclose(fapl);
  close_out();
  if (out.file >= 0) H5Fclose(out.file);
  out.file = H5I_INVALID_HID;
  return st;
}

rf_status rf__tsdata_stamp(const char *path, char *stamp, size_t len) {
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  int ok = f >= 0 && read_str_attr(f, STAMP_ATTR, stamp, len);
  if (f >= 0) H5Fclose(f);
  rf__h5_quiet_end(&quiet);
  return ok ? RF_OK : rf__error(RF_EIO, "%s has no resume stamp", path);
}

/* Step: create the file at path for the plan on every rank, or with
 * reopen = 1 open the one a stopped run left. A non-empty stamp is kept
 * in the file (a resumed run checks it). */
rf_status rf__tsdata_create(rf_step_ctx *ctx, const rf_timeseries *ts,
                            const char *path, const char *stamp, int reuse) {
  if (reuse) {
    rf_h5_quiet q;
    rf__h5_quiet_begin(&q);
    rf_status rst = reopen(ctx, ts, path, stamp);
    rf__h5_quiet_end(&q);
    return rst;
  }
  rf_status st = RF_OK;
  hid_t fapl = H5I_INVALID_HID, ocpl = H5I_INVALID_HID, space = H5I_INVALID_HID;
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  hsize_t rows = (hsize_t)rf_timeseries_rows(ts);
  hsize_t nparts = rf_timeseries_partitions(ts);
  RF_H5CALL(fapl = H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
  RF_H5CALL(H5Pset_fapl_mpio(fapl, rf_step_comm(ctx), MPI_INFO_NULL),
          "H5Pset_fapl_mpio");
  out.file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (out.file < 0) {
    st = rf__error(RF_EIO, "cannot create %s", path);
    goto fail;
  }
  RF_H5CALL(ocpl = H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate");
  RF_H5CALL(H5Pset_obj_track_times(ocpl, 0), "H5Pset_obj_track_times");
  RF_H5CALL(out.group = H5Gcreate2(out.file, "timeseries", H5P_DEFAULT, ocpl,
                                 H5P_DEFAULT), "creating /timeseries");
  H5Pclose(ocpl);
  RF_H5CALL(ocpl = H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
  RF_H5CALL(H5Pset_obj_track_times(ocpl, 0), "H5Pset_obj_track_times");
  RF_H5CALL(H5Pset_alloc_time(ocpl, H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
  RF_H5CALL(out.name_type = name_type(), "the name type");
  const hid_t types[ND] = {H5T_STD_I64LE, H5T_STD_I64LE, out.name_type,
                           H5T_IEEE_F64LE, H5T_IEEE_F64LE, H5T_STD_I64LE};
  for (int i = 0; i < ND; i++) {
    hsize_t n = i == D_OFFSETS ? nparts + 1 : rows;
    RF_H5CALL(space = H5Screate_simple(1, &n, NULL), "H5Screate_simple");
    out.ds[i] = H5Dcreate2(out.group, dnames[i], types[i], space, H5P_DEFAULT,
                           ocpl, H5P_DEFAULT);
    H5Sclose(space);
    space = H5I_INVALID_HID;
    RF_H5CALL(out.ds[i], "creating a dataset");
  }
  /* The data parameters: attributes are metadata, written by all ranks. */
  rf_value *attrs = rf_timeseries_attrs(ts);
  if (attrs == NULL) {
    st = rf__error(RF_ENOMEM, "data attributes");
    goto fail;
  }
  st = rf__h5_set_attrs(out.group, attrs);
  rf_value_free(attrs);
  if (st != RF_OK) goto fail;
  if (stamp[0] != '\0') {
    rf_value *sa = rf_value_map();
    st = sa ? rf_value_map_set(sa, STAMP_ATTR, rf_value_string(stamp))
            : RF_ENOMEM;
    if (st == RF_OK) st = rf__h5_set_attrs(out.file, sa);
    rf_value_free(sa);
    if (st != RF_OK) goto fail;
  }
  if (rf_step_rank(ctx) == 0) {
    int64_t *offs = rf__malloc((nparts + 1) * sizeof *offs);
    if (offs == NULL) {
      st = rf__error(RF_ENOMEM, "partition offsets");
      goto fail;
    }
    for (hsize_t p = 0; p <= nparts; p++) {
      offs[p] = (int64_t)p * rf_timeseries_partition_rows(ts, 0);
    }
    herr_t rc = H5Dwrite(out.ds[D_OFFSETS], H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                         H5P_DEFAULT, offs);
    rf__free(offs);
    RF_H5CALL(rc, "writing partition_offsets");
  }
  /* Flushed now: a killed run leaves a file that can be reopened. */
  RF_H5CALL(H5Fflush(out.file, H5F_SCOPE_GLOBAL), "H5Fflush");
  H5Pclose(ocpl);
  H5Pclose(fapl);
  rf__h5_quiet_end(&quiet);
  return RF_OK;
fail:
  if (space >= 0) H5Sclose(space);
  if (ocpl >= 0) H5Pclose(ocpl);
  if (fapl >= 0) H5Pclose(fapl);
  close_out();
  if (out.file >= 0) H5Fclose(out.file);
  out.file = H5I_INVALID_HID;
  rf__h5_quiet_end(&quiet);
  return st;
}

rf_status rf__tsdata_close(void) {
  close_out();
  rf_status st = RF_OK;
  if (out.file >= 0 && H5Fclose(out.file) < 0) {
    st = rf__error(RF_EHDF5, "closing the data file failed");
  }
  out.file = H5I_INVALID_HID;
  return st;
}

/* Write rows [first, first + n) of the file from the arrays. */
rf_status rf__tsdata_write(int64_t first, size_t n, const int64_t *timestamp,
                           const int64_t *id, const char (*name)[8],
                           const double *x, const double *y) {
  RF_ENSURE(out.file >= 0, RF_ESTATE, "no data file is open for writing");
  const void *bufs[5] = {timestamp, id, name, x, y};
  const hid_t mem[5] = {H5T_NATIVE_INT64, H5T_NATIVE_INT64, out.name_type,
                        H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE};
  hsize_t start = (hsize_t)first, count = n;
  for (int i = 0; i < 5; i++) {
    hid_t fs = H5Dget_space(out.ds[i]);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    herr_t rc = fs < 0 || ms < 0 ? -1
                : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count,
                                      NULL);
    if (rc >= 0) rc = H5Dwrite(out.ds[i], mem[i], ms, fs, H5P_DEFAULT, bufs[i]);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    if (rc < 0) {
      return rf__error(RF_EHDF5, "writing rows %lld..%lld of %s",
                       (long long)first, (long long)first + (long long)n,
                       dnames[i]);
    }
  }
  return RF_OK;
}

/* ---- reading (--input) ---------------------------------------------------- */

rf_value *rf_timeseries_attrs(const rf_timeseries *ts) {
  const char *const *params = rf__ts_params;
  rf_value *m = rf_value_map();
  rf_status st = RF_OK;
  for (int i = 0; i < RF_TS_PARAMS && st == RF_OK; i++) {
    st = rf_value_map_set(m, params[i],
                          rf_value_string(rf_timeseries_param(ts, params[i])));
  }
  if (st == RF_OK) {
    st = rf_value_map_set(m, "seed", rf_value_int((int64_t)rf_timeseries_seed(ts)));
  }
  if (st == RF_OK) st = rf_value_map_set(m, "rows", rf_value_int(rf_timeseries_rows(ts)));
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

static rf_status bad_input(const char *path, const char *what) {
  return rf__error(RF_EUSAGE, "--input %s: %s", path, what);
}

/* A string attribute of obj into buf. */
static int read_str_attr(hid_t obj, const char *name, char *buf, size_t len) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return 0;
  hid_t t = H5Aget_type(a), mt = H5Tcopy(H5T_C_S1);
  /* HDF5 converts no strings between character sets: read in the file's. */
  int ok = t >= 0 && mt >= 0 && H5Tget_class(t) == H5T_STRING &&
           !H5Tis_variable_str(t) && H5Tget_size(t) < len &&
           H5Tset_size(mt, H5Tget_size(t) + 1) >= 0 &&
           H5Tset_cset(mt, H5Tget_cset(t)) >= 0 && H5Aread(a, mt, buf) >= 0;
  if (ok) buf[H5Tget_size(t)] = '\0';
  if (mt >= 0) H5Tclose(mt);
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return ok;
}

static int read_i64_attr(hid_t obj, const char *name, int64_t *v) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return 0;
  hid_t t = H5Aget_type(a);
  int ok = t >= 0 && H5Tget_class(t) == H5T_INTEGER &&
           H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return ok;
}

/* Length of dataset name in group if it is 1-D of the class and size
 * wanted; -1 otherwise. */
static int64_t dataset_len(hid_t g, const char *name, H5T_class_t cls,
                           size_t size) {
  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return -1;
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t t = H5Dget_type(d), s = H5Dget_space(d);
  hsize_t n = 0;
  int ok = t >= 0 && s >= 0 && H5Tget_class(t) == cls && H5Tget_size(t) == size &&
           H5Sget_simple_extent_ndims(s) == 1 &&
           H5Sget_simple_extent_dims(s, &n, NULL) == 1;
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  H5Dclose(d);
  return ok ? (int64_t)n : -1;
}

rf_status rf_timeseries_open(const char *path, rf_timeseries **out) {
  *out = NULL;
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  rf_status st = RF_OK;
  rf_timeseries *ts = NULL;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), g = H5I_INVALID_HID;
  if (f < 0) {
    st = bad_input(path, "cannot open it as an HDF5 file");
    goto done;
  }
  if (H5Lexists(f, "timeseries", H5P_DEFAULT) <= 0 ||
      (g = H5Gopen2(f, "timeseries", H5P_DEFAULT)) < 0) {
    st = bad_input(path, "no /timeseries group (not written by --write-data?)");
    goto done;
  }
  char p[RF_TS_PARAMS][64];
  int64_t seed;
  const char *const *params = rf__ts_params;
  for (int i = 0; i < RF_TS_PARAMS; i++) {
    if (!read_str_attr(g, params[i], p[i], sizeof p[i])) {
      st = rf__error(RF_EUSAGE, "--input %s: attribute %s of /timeseries is "
                     "missing or not a string", path, params[i]);
      goto done;
    }
  }
  if (!read_i64_attr(g, "seed", &seed)) {
    st = bad_input(path, "attribute seed of /timeseries is missing");
    goto done;
  }
  if (rf_timeseries_plan(p[0], p[1], p[2], p[3], (uint64_t)seed, &ts) != RF_OK) {
    char why[600];
    snprintf(why, sizeof why, "its parameters do not plan: %s", rf_last_error());
    st = bad_input(path, why);
    goto done;
  }
  int64_t rows = rf_timeseries_rows(ts);
  const struct { int d; H5T_class_t cls; size_t size; } want[] = {
      {D_TIME, H5T_INTEGER, 8}, {D_ID, H5T_INTEGER, 8}, {D_NAME, H5T_STRING, 8},
      {D_X, H5T_FLOAT, 8},      {D_Y, H5T_FLOAT, 8}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    int64_t n = dataset_len(g, dnames[want[i].d], want[i].cls, want[i].size);
    if (n != rows) {
      st = rf__error(RF_EUSAGE, "--input %s: dataset %s is %s (%lld rows "
                     "planned)", path, dnames[want[i].d],
                     n < 0 ? "missing or of the wrong type" : "of another length",
                     (long long)rows);
      goto done;
    }
  }
  size_t nparts = rf_timeseries_partitions(ts);
  if (dataset_len(g, dnames[D_OFFSETS], H5T_INTEGER, 8) != (int64_t)nparts + 1) {
    st = bad_input(path, "partition_offsets is missing or of the wrong length");
    goto done;
  }
  int64_t *offs = rf__malloc((nparts + 1) * sizeof *offs);
  hid_t d = offs ? H5Dopen2(g, dnames[D_OFFSETS], H5P_DEFAULT) : -1;
  int ok = d >= 0 && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                             H5P_DEFAULT, offs) >= 0;
  for (size_t i = 0; ok && i <= nparts; i++) {
    ok = offs[i] == (int64_t)i * rf_timeseries_partition_rows(ts, 0);
  }
  if (d >= 0) H5Dclose(d);
  rf__free(offs);
  if (!ok) st = bad_input(path, "partition_offsets do not match its partitions");
done:
  if (g >= 0) H5Gclose(g);
  if (f >= 0) H5Fclose(f);
  rf__h5_quiet_end(&quiet);
  if (st != RF_OK) {
    rf_timeseries_free(ts);
    return st;
  }
  *out = ts;
  return RF_OK;
}

rf_status rf__tsdata_read(const char *path, int64_t first, size_t n,
                          int64_t *id, double *x, double *y) {
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  rf_status st = RF_OK;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) st = rf__error(RF_EIO, "cannot open %s", path);
  const int ds[3] = {D_ID, D_X, D_Y};
  void *bufs[3] = {id, x, y};
  const hid_t mem[3] = {H5T_NATIVE_INT64, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE};
  hsize_t start = (hsize_t)first, count = n;
  for (int i = 0; i < 3 && st == RF_OK; i++) {
    char name[64];
    snprintf(name, sizeof name, "timeseries/%s", dnames[ds[i]]);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t fs = d >= 0 ? H5Dget_space(d) : -1;
    hid_t ms = H5Screate_simple(1, &count, NULL);
    herr_t rc = fs < 0 || ms < 0 ? -1
                : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count,
                                      NULL);
    if (rc >= 0) rc = H5Dread(d, mem[i], ms, fs, H5P_DEFAULT, bufs[i]);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (d >= 0) H5Dclose(d);
    if (rc < 0) {
      st = rf__error(RF_EHDF5, "reading rows %lld..%lld of %s in %s",
                     (long long)first, (long long)first + (long long)n, name, path);
    }
  }
  if (f >= 0) H5Fclose(f);
  rf__h5_quiet_end(&quiet);
  return st;
}
