/* SPDX-License-Identifier: BSD-3-Clause */
/* rows.c -- rows files: one HDF5 group of 1-D columns, written in parallel.
 *
 * What a rows file is, and who calls what, is in rows.h. Here: parallel
 * HDF5 opens, creates, flushes and closes a file collectively (the MPI-IO
 * driver on the caller's communicator), and each rank then writes its
 * hyperslabs independently. Datasets are created with space allocated
 * early and without time stamps; the file's attributes are written by
 * every rank (metadata is collective). Reading uses the serial driver.
 * HDF5's error stack stays quiet; failures come back as one line.
 */
#include "rows.h"

#include <string.h>

#include "h5.h"

struct rf_rows {
  char *path, *group_name;
  hid_t file, group;
  size_t ncols;    /* writing: the columns given, in their order */
  hid_t *ds;
  rf_rows_type *types;
  char **names;
  hid_t text8;     /* the 8-byte string type */
};

#define ROWS_CALL(call, what)                                               \
  do {                                                                      \
    if ((call) < 0) {                                                       \
      st = rf__error(RF_EHDF5, "%s failed", what);                          \
      goto fail;                                                            \
    }                                                                       \
  } while (0)

static rf_status rows_free(rf_rows *r);

/* A handle for path with room for the columns cols[0..ncols); NULL when
 * out of memory. */
static rf_rows *rows_new(const char *path, const char *group,
                         const rf_rows_column *cols, size_t ncols) {
  rf_rows *r = rf__calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->file = r->group = r->text8 = H5I_INVALID_HID;
  r->ncols = ncols;
  r->ds = rf__calloc(ncols ? ncols : 1, sizeof *r->ds);
  for (size_t i = 0; r->ds != NULL && i < ncols; i++) {
    r->ds[i] = H5I_INVALID_HID;
  }
  r->path = rf__strdup(path);
  r->group_name = rf__strdup(group != NULL ? group : "");
  r->types = rf__calloc(ncols ? ncols : 1, sizeof *r->types);
  r->names = rf__calloc(ncols ? ncols : 1, sizeof *r->names);
  int ok = r->path != NULL && r->group_name != NULL && r->ds != NULL &&
           r->types != NULL && r->names != NULL;
  for (size_t i = 0; ok && i < ncols; i++) {
    r->types[i] = cols[i].type;
    ok = (r->names[i] = rf__strdup(cols[i].name)) != NULL;
  }
  if (!ok) {
    (void)rows_free(r);
    return NULL;
  }
  return r;
}

/* Close every object and free r; the first failure of a close, if any. */
static rf_status rows_free(rf_rows *r) {
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  herr_t rc = 0;
  for (size_t i = 0; i < r->ncols; i++) {
    if (r->ds != NULL && r->ds[i] >= 0 && H5Dclose(r->ds[i]) < 0) rc = -1;
    if (r->names != NULL) rf__free(r->names[i]);
  }
  if (r->text8 >= 0 && H5Tclose(r->text8) < 0) rc = -1;
  if (r->group >= 0 && H5Gclose(r->group) < 0) rc = -1;
  if (r->file >= 0 && H5Fclose(r->file) < 0) rc = -1;
  rf__h5_quiet_end(&quiet);
  rf__free(r->ds);
  rf__free(r->types);
  rf__free(r->names);
  rf__free(r->group_name);
  rf__free(r->path);
  rf__free(r);
  return rc < 0 ? rf__error(RF_EHDF5, "closing the data file failed") : RF_OK;
}

/* The 8-byte null-padded ASCII string type. */
static hid_t text8_type(void) {
  return rf__h5_text_type(8, H5T_STR_NULLPAD, H5T_CSET_ASCII);
}

/* The memory type of a column (text8: the file's own). */
static hid_t mem_type(const rf_rows *r, rf_rows_type t) {
  switch (t) {
    case RF_ROWS_I64: return H5T_NATIVE_INT64;
    case RF_ROWS_F64: return H5T_NATIVE_DOUBLE;
    case RF_ROWS_TEXT8: return r->text8;
  }
  return H5I_INVALID_HID;
}

/* A file access property list of the MPI-IO driver on comm. */
static hid_t mpio_fapl(MPI_Comm comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
    H5Pclose(fapl);
    return -1;
  }
  return fapl;
}

/* ---- writing ----------------------------------------------------------- */

rf_status rf__rows_create(MPI_Comm comm, const char *path, const char *group,
                          const rf_rows_column *cols, size_t ncols,
                          const rf_value *group_attrs,
                          const rf_value *file_attrs, rf_rows **out) {
  *out = NULL;
  rf_rows *r = rows_new(path, group, cols, ncols);
  if (r == NULL) return rf__error(RF_ENOMEM, "the data file");
  rf_status st = RF_OK;
  hid_t fapl = H5I_INVALID_HID, ocpl = H5I_INVALID_HID, space = H5I_INVALID_HID;
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  ROWS_CALL(fapl = mpio_fapl(comm), "H5Pset_fapl_mpio");
  r->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (r->file < 0) {
    st = rf__error(RF_EIO, "cannot create %s", path);
    goto fail;
  }
  ROWS_CALL(ocpl = H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate");
  ROWS_CALL(H5Pset_obj_track_times(ocpl, 0), "H5Pset_obj_track_times");
  ROWS_CALL(r->group = H5Gcreate2(r->file, group, H5P_DEFAULT, ocpl,
                                  H5P_DEFAULT), "creating the group");
  H5Pclose(ocpl);
  ROWS_CALL(ocpl = H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
  ROWS_CALL(H5Pset_obj_track_times(ocpl, 0), "H5Pset_obj_track_times");
  ROWS_CALL(H5Pset_alloc_time(ocpl, H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
  ROWS_CALL(r->text8 = text8_type(), "the 8-byte string type");
  for (size_t i = 0; i < ncols; i++) {
    hsize_t n = cols[i].length;
    hid_t ftype = cols[i].type == RF_ROWS_I64   ? H5T_STD_I64LE
                  : cols[i].type == RF_ROWS_F64 ? H5T_IEEE_F64LE
                                                : r->text8;
    ROWS_CALL(space = H5Screate_simple(1, &n, NULL), "H5Screate_simple");
    r->ds[i] = H5Dcreate2(r->group, cols[i].name, ftype, space, H5P_DEFAULT,
                          ocpl, H5P_DEFAULT);
    H5Sclose(space);
    space = H5I_INVALID_HID;
    ROWS_CALL(r->ds[i], "creating a dataset");
  }
  /* Attributes are metadata: every rank writes them. */
  if (group_attrs != NULL) {
    RF_CHECK_GOTO(rf__h5_set_attrs(r->group, group_attrs, path), st, fail);
  }
  if (file_attrs != NULL) {
    RF_CHECK_GOTO(rf__h5_set_attrs(r->file, file_attrs, path), st, fail);
  }
  H5Pclose(ocpl);
  H5Pclose(fapl);
  rf__h5_quiet_end(&quiet);
  *out = r;
  return RF_OK;
fail:
  if (space >= 0) H5Sclose(space);
  if (ocpl >= 0) H5Pclose(ocpl);
  if (fapl >= 0) H5Pclose(fapl);
  (void)rows_free(r);
  rf__h5_quiet_end(&quiet);
  return st;
}

static int64_t dataset_length(hid_t g, const char *name, H5T_class_t cls,
                              size_t size);

/* The class and size a dataset of type t has. */
static void class_of(rf_rows_type t, H5T_class_t *cls, size_t *size) {
  *cls = t == RF_ROWS_I64 ? H5T_INTEGER : t == RF_ROWS_F64 ? H5T_FLOAT
                                                           : H5T_STRING;
  *size = 8;
}

rf_status rf__rows_reopen(MPI_Comm comm, const char *path, const char *group,
                          const rf_rows_column *cols, size_t ncols,
                          const char *attr, const char *value,
                          rf_rows **out) {
  *out = NULL;
  rf_rows *r = rows_new(path, group, cols, ncols);
  if (r == NULL) return rf__error(RF_ENOMEM, "the data file");
  rf_status st = RF_OK;
  char have[64] = "";
  hid_t fapl = H5I_INVALID_HID;
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  ROWS_CALL(fapl = mpio_fapl(comm), "H5Pset_fapl_mpio");
  r->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
  if (r->file < 0) {
    st = rf__error(RF_EIO, "cannot reopen %s to resume it", path);
    goto fail;
  }
  ROWS_CALL(r->group = H5Gopen2(r->file, group, H5P_DEFAULT),
            "opening the group");
  if (rf__h5_attr_text(r->file, attr, have, sizeof have, NULL) !=
          RF_H5_ATTR_OK ||
      strcmp(have, value) != 0) {
    st = rf__error(RF_EIO, "%s is not the file this journal wrote; remove it",
                   path);
    goto fail;
  }
  ROWS_CALL(r->text8 = text8_type(), "the 8-byte string type");
  for (size_t i = 0; i < ncols; i++) {
    H5T_class_t cls;
    size_t size;
    class_of(cols[i].type, &cls, &size);
    if (dataset_length(r->group, cols[i].name, cls, size) !=
        (int64_t)cols[i].length) {
      st = rf__error(RF_EIO, "%s holds other rows than this run writes "
                     "(dataset %s); remove it", path, cols[i].name);
      goto fail;
    }
    ROWS_CALL(r->ds[i] = H5Dopen2(r->group, cols[i].name, H5P_DEFAULT),
              "opening a dataset");
  }
  H5Pclose(fapl);
  rf__h5_quiet_end(&quiet);
  *out = r;
  return RF_OK;
fail:
  if (fapl >= 0) H5Pclose(fapl);
  (void)rows_free(r);
  rf__h5_quiet_end(&quiet);
  return st;
}

/* Rows [first, first + n) of dataset d to (write) or from memory buf of
 * memory type mtype: its hyperslab against a 1-D memory space. */
static herr_t transfer(hid_t d, hid_t mtype, uint64_t first, size_t n,
                       void *buf, int write) {
  hsize_t start = first, count = n;
  hid_t fs = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
  hid_t ms = H5Screate_simple(1, &count, NULL);
  herr_t rc = fs < 0 || ms < 0 ? -1
              : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count,
                                    NULL);
  if (rc >= 0) {
    rc = write ? H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf)
               : H5Dread(d, mtype, ms, fs, H5P_DEFAULT, buf);
  }
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  return rc;
}

rf_status rf__rows_write(rf_rows *r, size_t col, uint64_t first, size_t n,
                         const void *data) {
  RF_ENSURE(r != NULL && col < r->ncols && r->ds[col] >= 0, RF_ESTATE,
            "no data file is open for writing");
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  herr_t rc = transfer(r->ds[col], mem_type(r, r->types[col]), first, n,
                       (void *)data, 1);
  rf__h5_quiet_end(&quiet);
  if (rc < 0) {
    return rf__error(RF_EHDF5, "writing rows %lld..%lld of %s",
                     (long long)first, (long long)first + (long long)n,
                     r->names[col]);
  }
  return RF_OK;
}

rf_status rf__rows_flush(rf_rows *r) {
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  herr_t rc = H5Fflush(r->file, H5F_SCOPE_GLOBAL);
  rf__h5_quiet_end(&quiet);
  return rc < 0 ? rf__error(RF_EHDF5, "H5Fflush failed") : RF_OK;
}

rf_status rf__rows_close(rf_rows *r) {
  return r == NULL ? RF_OK : rows_free(r);
}

/* ---- reading ------------------------------------------------------------- */

rf_status rf__rows_open(const char *path, const char *group, rf_rows **out) {
  *out = NULL;
  rf_rows *r = rows_new(path, group, NULL, 0);
  if (r == NULL) return rf__error(RF_ENOMEM, "opening %s", path);
  rf_status st = RF_OK;
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (r->file < 0) {
    st = rf__error(RF_EIO, "cannot open %s", path);
  } else if (group != NULL &&
             (H5Lexists(r->file, group, H5P_DEFAULT) <= 0 ||
              (r->group = H5Gopen2(r->file, group, H5P_DEFAULT)) < 0)) {
    st = rf__error(RF_EUSAGE, "%s has no group /%s", path, group);
  } else {
    r->text8 = text8_type();
    if (r->text8 < 0) st = rf__error(RF_EHDF5, "the 8-byte string type failed");
  }
  rf__h5_quiet_end(&quiet);
  if (st != RF_OK) {
    (void)rows_free(r);
    return st;
  }
  *out = r;
  return RF_OK;
}

int rf__rows_attr_text(const rf_rows *r, int of_file, const char *name,
                       char *buf, size_t len) {
  hid_t obj = of_file ? r->file : r->group;
  if (obj < 0) return 0;
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  int got = rf__h5_attr_text(obj, name, buf, len, NULL);
  rf__h5_quiet_end(&quiet);
  return got == RF_H5_ATTR_OK;
}

int rf__rows_attr_int(const rf_rows *r, const char *name, int64_t *v) {
  if (r->group < 0) return 0;
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  int got = rf__h5_attr_int(r->group, name, v, NULL);
  rf__h5_quiet_end(&quiet);
  return got == RF_H5_ATTR_OK;
}

/* Length of dataset name in group g if it is 1-D of the class and size
 * wanted; -1 otherwise. */
static int64_t dataset_length(hid_t g, const char *name, H5T_class_t cls,
                              size_t size) {
  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return -1;
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t t = H5Dget_type(d), s = H5Dget_space(d);
  hsize_t n = 0;
  int ok = t >= 0 && s >= 0 && H5Tget_class(t) == cls &&
           H5Tget_size(t) == size && H5Sget_simple_extent_ndims(s) == 1 &&
           H5Sget_simple_extent_dims(s, &n, NULL) == 1;
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  H5Dclose(d);
  return ok ? (int64_t)n : -1;
}

int64_t rf__rows_length(const rf_rows *r, const char *name,
                        rf_rows_type type) {
  if (r->group < 0) return -1;
  H5T_class_t cls;
  size_t size;
  class_of(type, &cls, &size);
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  int64_t n = dataset_length(r->group, name, cls, size);
  rf__h5_quiet_end(&quiet);
  return n;
}

rf_status rf__rows_read(rf_rows *r, const char *name, rf_rows_type type,
                        uint64_t first, size_t n, void *out) {
  rf_h5_quiet quiet;
  rf__h5_quiet_begin(&quiet);
  hid_t d = r->group >= 0 ? H5Dopen2(r->group, name, H5P_DEFAULT) : -1;
  herr_t rc = transfer(d, mem_type(r, type), first, n, out, 0);
  if (d >= 0) H5Dclose(d);
  rf__h5_quiet_end(&quiet);
  if (rc < 0) {
    return rf__error(RF_EHDF5, "reading rows %lld..%lld of %s/%s in %s",
                     (long long)first, (long long)first + (long long)n,
                     r->group_name, name, r->path);
  }
  return RF_OK;
}
