/* SPDX-License-Identifier: BSD-3-Clause */
/* frame_write.c -- a frame to HDF5, in pandas' "fixed" layout.
 *
 * Summaries are read by people with pandas.read_hdf(path, key), h5py and
 * h5dump, so a frame is written the way pandas writes one: a group /<key>
 * of plain datasets and attributes, which the HDF5 C API writes alone (no
 * Python at run time). The minimal form pandas 1.5 + PyTables 3.7 read:
 *
 *   /<key>  attributes (scalar fixed-length UTF-8 strings unless said):
 *             pandas_type "frame", pandas_version "0.15.2",
 *             encoding "UTF-8", errors "strict", ndim int64 2,
 *             nblocks int64 (one block per dtype), axis0_variety,
 *             axis1_variety, blockN_items_variety "regular"
 *     axis0          column names   } null-padded fixed-length UTF-8
 *     axis1          row labels     } strings as wide as the longest,
 *     blockN_items   block's columns} each with kind = "string"
 *     blockN_values  [C][R] float64 (block 0) or int64 (the next block)
 *
 * pandas itself stores values [R][C] with a `transposed` bitfield
 * attribute; [C][R] without it reads back the same and needs no bitfield
 * (h5py's bool is an enum PyTables cannot read). PyTables' own attributes
 * (CLASS, VERSION, TITLE...) are not needed, and user attributes may not
 * take their names or pandas'.
 *
 * A file appears whole: it is written under .<name>.tmp.<pid> in the same
 * directory, flushed, fsynced and renamed over the path, and the
 * directory is fsynced. Objects are created without time stamps, so equal
 * frames (and attributes) give byte-identical files. Files are created
 * with the default, serial file access properties: one rank writes a
 * frame file. Reading is frame_read.c.
 */
#include "h5.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A 1-D dataset of n null-padded fixed-length UTF-8 strings as wide as the
 * longest (at least 1 byte), with attribute kind = "string". */
static rf_status put_strings(const rf_h5_writer *w, hid_t group, const char *name,
                             const char *const *s, size_t n) {
  rf_status st = RF_OK;
  size_t width = 1;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(s[i]);
    if (len > width) width = len;
  }
  RF_ENSURE(n <= RF_H5_MAX_READ / width, RF_EINVAL,
            "%s: '%s' would exceed %zu bytes", w->path, name,
            (size_t)RF_H5_MAX_READ);
  char *buf = rf__calloc(n ? n : 1, width);
  if (buf == NULL) return rf__error(RF_ENOMEM, "writing '%s'", name);
  for (size_t i = 0; i < n; i++) memcpy(buf + i * width, s[i], strlen(s[i]));
  hid_t type, space, ds;
  RF_CHECK_GOTO(rf__h5_string_type(w, width, H5T_STR_NULLPAD, &type), st, out_buf);
  hsize_t dim = n;
  space = H5Screate_simple(1, &dim, NULL);
  if (space < 0) {
    st = rf__h5_fail(w->path, "dataspace of '%s'", name);
    goto out_type;
  }
  ds = H5Dcreate2(group, name, type, space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT);
  if (ds < 0) {
    st = rf__h5_fail(w->path, "creating '%s'", name);
    goto out_space;
  }
  if (n > 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    st = rf__h5_fail(w->path, "writing '%s'", name);
    goto out_ds;
  }
  st = rf__h5_put_text(w, ds, "kind", "string");
out_ds:
  st = rf__h5_closed(st, H5Dclose(ds), w->path, name);
out_space:
  st = rf__h5_closed(st, H5Sclose(space), w->path, "a dataspace");
out_type:
  st = rf__h5_closed(st, H5Tclose(type), w->path, "a string type");
out_buf:
  rf__free(buf);
  return st;
}

/* Block number index: the frame's columns of one type, items and values
 * [C][R] (one row per column, as the frame holds them). */
static rf_status put_block(const rf_h5_writer *w, hid_t group, int index,
                           const rf_frame *f, rf_column_type type) {
  rf_status st = RF_OK;
  size_t rows = rf_frame_rows(f), cols = 0;
  for (size_t c = 0; c < rf_frame_columns(f); c++) {
    cols += rf_frame_column_type(f, c) == type;
  }
  const char **items = rf__calloc(cols ? cols : 1, sizeof *items);
  uint8_t *values = rf__h5_bytes(cols * rows * 8);
  if (items == NULL || values == NULL) {
    st = rf__error(RF_ENOMEM, "writing a frame block");
    goto out_mem;
  }
  size_t k = 0;
  for (size_t c = 0; c < rf_frame_columns(f); c++) {
    if (rf_frame_column_type(f, c) != type) continue;
    const void *data = type == RF_COLUMN_F64 ? (const void *)rf_frame_f64(f, c)
                                             : (const void *)rf_frame_i64(f, c);
    items[k] = rf_frame_column_name(f, c);
    if (rows > 0) memcpy(values + k * rows * 8, data, rows * 8);
    k++;
  }
  char name[48];
  snprintf(name, sizeof name, "block%d_items", index);
  RF_CHECK_GOTO(put_strings(w, group, name, items, cols), st, out_mem);
  snprintf(name, sizeof name, "block%d_items_variety", index);
  RF_CHECK_GOTO(rf__h5_put_text(w, group, name, "regular"), st, out_mem);

  snprintf(name, sizeof name, "block%d_values", index);
  hsize_t dims[2] = {cols, rows};
  hid_t ftype = type == RF_COLUMN_F64 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
  hid_t mtype = type == RF_COLUMN_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
  hid_t space = H5Screate_simple(2, dims, NULL), ds;
  if (space < 0) {
    st = rf__h5_fail(w->path, "dataspace of '%s'", name);
    goto out_mem;
  }
  ds = H5Dcreate2(group, name, ftype, space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT);
  if (ds < 0) {
    st = rf__h5_fail(w->path, "creating '%s'", name);
    goto out_space;
  }
  if (cols * rows > 0 &&
      H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
    st = rf__h5_fail(w->path, "writing '%s'", name);
  }
  st = rf__h5_closed(st, H5Dclose(ds), w->path, name);
out_space:
  st = rf__h5_closed(st, H5Sclose(space), w->path, "a dataspace");
out_mem:
  rf__free(values);
  rf__free(items);
  return st;
}

/* Group /<key>: pandas' attributes, the axes, the blocks (float64 first,
 * then int64), then the caller's attributes. */
static rf_status put_frame(const rf_h5_writer *w, hid_t file, const char *key,
                           const rf_frame *f, const rf_value *attrs) {
  rf_status st = RF_OK;
  size_t rows = rf_frame_rows(f), cols = rf_frame_columns(f);
  RF_ENSURE(cols == 0 || rows <= RF_H5_MAX_READ / 8 / cols, RF_EINVAL,
            "%s: a frame of %zu x %zu is larger than the reader takes",
            w->path, rows, cols);
  int nf = 0, ni = 0;
  for (size_t c = 0; c < cols; c++) {
    if (rf_frame_column_type(f, c) == RF_COLUMN_F64) {
      nf = 1;
    } else {
      ni = 1;
    }
  }
  const char **names = rf__calloc(cols ? cols : 1, sizeof *names);
  const char **labels = rf__calloc(rows ? rows : 1, sizeof *labels);
  if (names == NULL || labels == NULL) {
    st = rf__error(RF_ENOMEM, "writing a frame");
    goto out_mem;
  }
  for (size_t c = 0; c < cols; c++) names[c] = rf_frame_column_name(f, c);
  for (size_t i = 0; i < rows; i++) labels[i] = rf_frame_label(f, i);

  hid_t g = H5Gcreate2(file, key, H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
  if (g < 0) {
    st = rf__h5_fail(w->path, "creating group /%s", key);
    goto out_mem;
  }
  RF_CHECK_GOTO(rf__h5_put_text(w, g, "pandas_type", "frame"), st, out_group);
  RF_CHECK_GOTO(rf__h5_put_text(w, g, "pandas_version", "0.15.2"), st, out_group);
  RF_CHECK_GOTO(rf__h5_put_text(w, g, "encoding", "UTF-8"), st, out_group);
  RF_CHECK_GOTO(rf__h5_put_text(w, g, "errors", "strict"), st, out_group);
  RF_CHECK_GOTO(rf__h5_put_i64(w, g, "ndim", 2), st, out_group);
  RF_CHECK_GOTO(rf__h5_put_i64(w, g, "nblocks", nf + ni), st, out_group);
  RF_CHECK_GOTO(rf__h5_put_text(w, g, "axis0_variety", "regular"), st, out_group);
  RF_CHECK_GOTO(rf__h5_put_text(w, g, "axis1_variety", "regular"), st, out_group);
  RF_CHECK_GOTO(put_strings(w, g, "axis0", names, cols), st, out_group);
  RF_CHECK_GOTO(put_strings(w, g, "axis1", labels, rows), st, out_group);
  if (nf) RF_CHECK_GOTO(put_block(w, g, 0, f, RF_COLUMN_F64), st, out_group);
  if (ni) RF_CHECK_GOTO(put_block(w, g, nf, f, RF_COLUMN_I64), st, out_group);
  st = rf__h5_put_attrs(w, g, attrs);
out_group:
  st = rf__h5_closed(st, H5Gclose(g), w->path, "the frame's group");
out_mem:
  rf__free(labels);
  rf__free(names);
  return st;
}

/* Group /run holding the run's attributes. */
static rf_status put_run(const rf_h5_writer *w, hid_t file, const rf_value *run) {
  hid_t g = H5Gcreate2(file, "run", H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
  if (g < 0) return rf__h5_fail(w->path, "creating group /run");
  rf_status st = rf__h5_put_attrs(w, g, run);
  return rf__h5_closed(st, H5Gclose(g), w->path, "group /run");
}

/* The directory of path ("." or "/" when it has none) and the temporary
 * name <dir>/.<base>.tmp.<pid> beside it (caller frees both). */
static rf_status temp_names(const char *path, char **dir, char **tmp) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  *dir = *tmp = NULL;
  RF_ENSURE(base[0] != '\0', RF_EINVAL, "'%s' does not name a file", path);
  if (slash == NULL) {
    *dir = rf__strdup(".");
  } else if (slash == path) {
    *dir = rf__strdup("/");
  } else {
    *dir = rf__strndup(path, (size_t)(slash - path));
  }
  size_t n = strlen(path) + 32;
  *tmp = rf__malloc(n);
  if (*dir == NULL || *tmp == NULL) {
    rf__free(*dir);
    rf__free(*tmp);
    *dir = *tmp = NULL;
    return rf__error(RF_ENOMEM, "writing %s", path);
  }
  snprintf(*tmp, n, "%.*s.%s.tmp.%ld", (int)(base - path), path, base,
           (long)getpid());
  return RF_OK;
}

/* Whether the temporary file can be created, with the system's reason
 * when not (HDF5's message would not say why). Leaves nothing behind. A
 * file already there is a leftover of a killed process that had this pid
 * (a call removes its own): it is replaced. */
static rf_status probe_create(const char *path, const char *tmp) {
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
  if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) {
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
  }
  if (fd < 0) return rf__error(RF_EIO, "cannot create %s: %s", path,
                               strerror(errno));
  int rc = close(fd), e = errno;
  if (unlink(tmp) != 0 && rc == 0) {
    rc = -1;
    e = errno;
  }
  if (rc != 0) return rf__error(RF_EIO, "cannot create %s: %s", path,
                                strerror(e));
  return RF_OK;
}

/* fsync name (a file, or a directory when dir is set). Filesystems that
 * cannot sync a directory say EINVAL: nothing more can be done there. */
static rf_status sync_path(const char *path, const char *name, int dir) {
  int fd = open(name, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return rf__error(RF_EIO, "cannot sync %s: %s", path,
                               strerror(errno));
  int rc = fsync(fd), e = errno;
  if (rc != 0 && dir && e == EINVAL) rc = 0;
  if (close(fd) != 0 && rc == 0) {
    rc = -1;
    e = errno;
  }
  if (rc != 0) return rf__error(RF_EIO, "cannot sync %s: %s", path,
                                strerror(e));
  return RF_OK;
}

rf_status rf_frame_write_hdf5(const char *path, const char *key,
                              const rf_frame *frame, const rf_value *attrs,
                              const rf_value *run) {
  RF_ENSURE(path != NULL && path[0] != '\0' && frame != NULL, RF_EINVAL,
            "rf_frame_write_hdf5: no path or no frame");
  RF_CHECK(rf__h5_check_key(key));
  RF_ENSURE(run == NULL || strcmp(key, "run") != 0, RF_EINVAL,
            "frame key 'run' is taken by the group of run attributes");
  RF_CHECK(rf__h5_check_attrs(attrs, "attrs", 1));
  RF_CHECK(rf__h5_check_attrs(run, "run", 0));
  char *dir, *tmp;
  RF_CHECK(temp_names(path, &dir, &tmp));
  rf_status st;
  RF_CHECK_GOTO(probe_create(path, tmp), st, out_names);

  rf_h5_quiet q;
  rf__h5_quiet_begin(&q);
  rf_h5_writer w = {path, -1, -1};
  hid_t fcpl = -1, file = -1;
  if ((fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 ||
      H5Pset_obj_track_times(fcpl, 0) < 0 ||
      (w.gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0 ||
      H5Pset_obj_track_times(w.gcpl, 0) < 0 ||
      (w.dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
      H5Pset_obj_track_times(w.dcpl, 0) < 0) {
    st = rf__h5_fail(path, "making creation properties");
    goto out_plists;
  }
  file = H5Fcreate(tmp, H5F_ACC_EXCL, fcpl, H5P_DEFAULT);
  if (file < 0) {
    st = rf__h5_fail(path, "creating %s", tmp);
    goto out_unlink; /* a failed create may have left a file */
  }
  RF_CHECK_GOTO(put_frame(&w, file, key, frame, attrs), st, out_file);
  if (run != NULL) RF_CHECK_GOTO(put_run(&w, file, run), st, out_file);
  if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) {
    st = rf__h5_fail(path, "flushing");
    goto out_file;
  }
  st = rf__h5_closed(RF_OK, H5Fclose(file), path, "the file");
  if (st != RF_OK) goto out_unlink;
  RF_CHECK_GOTO(sync_path(path, tmp, 0), st, out_unlink);
  if (rename(tmp, path) != 0) {
    st = rf__error(RF_EIO, "cannot rename %s to %s: %s", tmp, path,
                   strerror(errno));
    goto out_unlink;
  }
  /* The file is in place, whole; a failure here is about durability. */
  st = sync_path(path, dir, 1);
  goto out_plists;
out_file:
  /* Every object is closed by now, so this closes the file. */
  st = rf__h5_closed(st, H5Fclose(file), path, "the file");
out_unlink:
  /* Nothing more can be done if this fails: st says what went wrong. */
  (void)unlink(tmp);
out_plists:
  if (w.dcpl >= 0) st = rf__h5_closed(st, H5Pclose(w.dcpl), path, "properties");
  if (w.gcpl >= 0) st = rf__h5_closed(st, H5Pclose(w.gcpl), path, "properties");
  if (fcpl >= 0) st = rf__h5_closed(st, H5Pclose(fcpl), path, "properties");
  rf__h5_quiet_end(&q);
out_names:
  rf__free(tmp);
  rf__free(dir);
  return st;
}
