/* SPDX-License-Identifier: BSD-3-Clause */
/* frame_read.c -- a frame from HDF5, written by rf_frame_write_hdf5 or by
 * pandas (the "fixed" layout: frame_write.c describes it).
 *
 * Reading checks the layout strictly and says what is wrong (RF_EUSAGE):
 * the attributes, string axes, float64 or int64 blocks ([C][R], or
 * pandas' [R][C] + transposed) whose items cover axis0 exactly once. Sizes
 * are checked (1 GiB at most) before anything is allocated. HDF5 parses
 * the file's metadata itself: damaged metadata is its business (1.10.8
 * reads out of bounds on some damaged object headers). HDF5's automatic
 * error printing is off during these calls (the caller's handler is
 * restored); its innermost message goes into rf_last_error() instead.
 */
#include "h5.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Attribute strings the reader compares ("frame", "regular", "string")
 * are short; longer ones are not what it looks for. */
#define SHORT_TEXT 64

typedef struct {
  const char *path, *key; /* for messages */
} reader;

/* RF_EUSAGE: the group is not a frame this reader takes, and why. */
static rf_status bad(const reader *r, const char *fmt, ...) RF_PRINTF(2, 3);
static rf_status bad(const reader *r, const char *fmt, ...) {
  char why[320];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return rf__error(RF_EUSAGE, "%s: /%s is not a pandas frame: %s", r->path,
                   r->key, why);
}

/* Open attribute name of obj (where names obj in messages). RF_OK with
 * *out = -1 when there is none and it is optional. */
static rf_status open_attr(const reader *r, hid_t obj, const char *where,
                           const char *name, int optional, hid_t *out) {
  *out = -1;
  htri_t has = H5Aexists(obj, name);
  if (has < 0) return rf__h5_fail(r->path, "looking for %s's '%s'", where, name);
  if (has == 0) {
    return optional ? RF_OK : bad(r, "%s has no attribute '%s'", where, name);
  }
  *out = H5Aopen(obj, name, H5P_DEFAULT);
  if (*out < 0) return rf__h5_fail(r->path, "opening %s's '%s'", where, name);
  return RF_OK;
}

/* What the reader checks of an attribute or a dataset. */
typedef struct {
  H5T_class_t cls;
  size_t size;      /* bytes per element */
  int ndims;        /* 0 for a scalar (or an empty, null dataspace) */
  hsize_t dims[2];  /* when ndims <= 2 */
  hssize_t points;  /* elements: 1 for a scalar, 0 for a null dataspace */
} shape;

/* The shape of type and space, which are taken (closed here). */
static rf_status describe(const reader *r, const char *what, hid_t type,
                          hid_t space, shape *out) {
  rf_status st = RF_OK;
  if (type < 0 || space < 0) {
    st = rf__h5_fail(r->path, "reading the type of %s", what);
    goto out;
  }
  out->cls = H5Tget_class(type);
  out->size = H5Tget_size(type);
  out->ndims = H5Sget_simple_extent_ndims(space);
  out->points = H5Sget_simple_extent_npoints(space);
  if (out->cls == H5T_NO_CLASS || out->size == 0 || out->ndims < 0 ||
      out->points < 0) {
    st = rf__h5_fail(r->path, "reading the type of %s", what);
    goto out;
  }
  if (out->ndims <= 2 &&
      H5Sget_simple_extent_dims(space, out->dims, NULL) < 0) {
    st = rf__h5_fail(r->path, "reading the shape of %s", what);
  }
out:
  if (type >= 0) st = rf__h5_closed(st, H5Tclose(type), r->path, "a type");
  if (space >= 0) st = rf__h5_closed(st, H5Sclose(space), r->path, "a dataspace");
  return st;
}

/* A scalar: no dimensions and one element. */
static int scalar(const shape *sh) { return sh->ndims == 0 && sh->points == 1; }

/* A scalar fixed-length string attribute into buf (cap bytes); RF_EUSAGE
 * when it is missing, of another kind or longer. */
static rf_status get_text(const reader *r, hid_t obj, const char *where,
                          const char *name, char *buf, size_t cap) {
  char why[RF_H5_WHY_LEN] = "";
  switch (rf__h5_attr_text(obj, name, buf, cap, why)) {
    case RF_H5_ATTR_OK:
      return RF_OK;
    case RF_H5_ATTR_MISSING:
      return bad(r, "%s has no attribute '%s'", where, name);
    case RF_H5_ATTR_OTHER:
      return bad(r, "%s's '%s' is not a short fixed-length string", where,
                 name);
    default:
      return rf__h5_failed(r->path, why, "reading %s's '%s'", where, name);
  }
}

/* get_text, and RF_EUSAGE unless the text is want. */
static rf_status expect_text(const reader *r, hid_t obj, const char *where,
                             const char *name, const char *want) {
  char text[SHORT_TEXT];
  RF_CHECK(get_text(r, obj, where, name, text, sizeof text));
  if (strcmp(text, want) == 0) return RF_OK;
  return bad(r, "%s's '%s' is '%s', not '%s'", where, name, text, want);
}

/* A scalar integer attribute (any width and order) as int64. */
static rf_status get_int(const reader *r, hid_t obj, const char *where,
                         const char *name, int64_t *out) {
  char why[RF_H5_WHY_LEN] = "";
  switch (rf__h5_attr_int(obj, name, out, why)) {
    case RF_H5_ATTR_OK:
      return RF_OK;
    case RF_H5_ATTR_MISSING:
      return bad(r, "%s has no attribute '%s'", where, name);
    case RF_H5_ATTR_OTHER:
      return bad(r, "%s's '%s' is not a scalar integer", where, name);
    default:
      return rf__h5_failed(r->path, why, "reading %s's '%s'", where, name);
  }
}

/* pandas' `transposed` flag: a scalar bitfield (pandas), integer or enum
 * (h5py's bool); 0 when absent. */
static rf_status get_flag(const reader *r, hid_t obj, const char *where,
                          const char *name, int *out) {
  hid_t a;
  *out = 0;
  RF_CHECK(open_attr(r, obj, where, name, 1, &a));
  if (a < 0) return RF_OK;
  rf_status st;
  shape sh;
  uint8_t raw[8] = {0};
  hid_t type = H5Aget_type(a);
  RF_CHECK_GOTO(describe(r, name, H5Tcopy(type), H5Aget_space(a), &sh), st,
                out);
  if ((sh.cls != H5T_BITFIELD && sh.cls != H5T_INTEGER &&
       sh.cls != H5T_ENUM) ||
      !scalar(&sh) || sh.size > sizeof raw) {
    st = bad(r, "%s's '%s' is not a scalar flag", where, name);
  } else if (H5Aread(a, type, raw) < 0) {
    st = rf__h5_fail(r->path, "reading %s's '%s'", where, name);
  } else {
    for (size_t i = 0; i < sh.size; i++) *out |= raw[i] != 0;
  }
out:
  if (type >= 0) st = rf__h5_closed(st, H5Tclose(type), r->path, "a type");
  return rf__h5_closed(st, H5Aclose(a), r->path, name);
}

/* Open dataset name of g; RF_EUSAGE if there is none. */
static rf_status open_dataset(const reader *r, hid_t g, const char *name,
                              hid_t *out) {
  *out = -1;
  htri_t has = H5Lexists(g, name, H5P_DEFAULT);
  if (has < 0) return rf__h5_fail(r->path, "looking for '%s'", name);
  if (has == 0) return bad(r, "it has no '%s'", name);
  H5O_info_t info;
  if (H5Oget_info_by_name2(g, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    return rf__h5_fail(r->path, "looking at '%s'", name);
  }
  if (info.type != H5O_TYPE_DATASET) return bad(r, "'%s' is not a dataset", name);
  *out = H5Dopen2(g, name, H5P_DEFAULT);
  if (*out < 0) return rf__h5_fail(r->path, "opening '%s'", name);
  return RF_OK;
}

typedef struct {
  char **s;
  size_t n;
} strings;

static void strings_free(strings *s) {
  for (size_t i = 0; s->s != NULL && i < s->n; i++) rf__free(s->s[i]);
  rf__free(s->s);
  s->s = NULL;
  s->n = 0;
}

/* Dataset name of g: a 1-D array of fixed-length strings (null-padded or
 * terminated) with kind = "string". */
static rf_status get_strings(const reader *r, hid_t g, const char *name,
                             strings *out) {
  hid_t ds;
  out->s = NULL;
  out->n = 0;
  RF_CHECK(open_dataset(r, g, name, &ds));
  rf_status st;
  char *buf = NULL;
  shape sh;
  hid_t type = H5Dget_type(ds);
  RF_CHECK_GOTO(describe(r, name, H5Tcopy(type), H5Dget_space(ds), &sh), st,
                out_type);
  htri_t var = sh.cls == H5T_STRING ? H5Tis_variable_str(type) : 0;
  if (sh.cls != H5T_STRING || var != 0 || sh.ndims != 1) {
    st = var < 0 ? rf__h5_fail(r->path, "reading '%s'", name)
                 : bad(r, "'%s' is not a 1-D array of fixed-length strings",
                       name);
    goto out_type;
  }
  size_t size = sh.size;
  if (sh.dims[0] > RF_H5_MAX_READ / size) {
    st = bad(r, "'%s' is larger than a frame can be", name);
    goto out_type;
  }
  RF_CHECK_GOTO(expect_text(r, ds, name, "kind", "string"), st, out_type);
  size_t n = (size_t)sh.dims[0];
  buf = rf__h5_bytes(n * size);
  out->s = rf__calloc(n ? n : 1, sizeof *out->s);
  if (buf == NULL || out->s == NULL) {
    st = rf__error(RF_ENOMEM, "reading '%s' of %s", name, r->path);
    goto out_type;
  }
  if (n > 0 && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    st = rf__h5_fail(r->path, "reading '%s'", name);
    goto out_type;
  }
  for (size_t i = 0; i < n; i++, out->n++) {
    const char *p = buf + i * size;
    out->s[i] = rf__strndup(p, strnlen(p, size));
    if (out->s[i] == NULL) {
      st = rf__error(RF_ENOMEM, "reading '%s' of %s", name, r->path);
      goto out_type;
    }
  }
out_type:
  if (type >= 0) st = rf__h5_closed(st, H5Tclose(type), r->path, "a type");
  if (st != RF_OK) strings_free(out);
  rf__free(buf);
  return rf__h5_closed(st, H5Dclose(ds), r->path, name);
}

typedef struct {
  strings items;
  rf_column_type type;
  void *values;   /* items.n x rows, 8 bytes each */
  int transposed; /* [R][C] (pandas) rather than [C][R] */
} block;

/* Block number index: items and values (float64 or int64 of any byte
 * order, [C][R], or [R][C] when marked transposed). */
static rf_status get_block(const reader *r, hid_t g, int64_t index,
                           size_t rows, block *b) {
  char name[48];
  snprintf(name, sizeof name, "block%lld_items_variety", (long long)index);
  RF_CHECK(expect_text(r, g, "the group", name, "regular"));
  snprintf(name, sizeof name, "block%lld_items", (long long)index);
  RF_CHECK(get_strings(r, g, name, &b->items));
  snprintf(name, sizeof name, "block%lld_values", (long long)index);
  rf_status st;
  hid_t ds, type, mtype;
  size_t cols = b->items.n;
  shape sh;
  RF_CHECK(open_dataset(r, g, name, &ds));
  type = H5Dget_type(ds);
  RF_CHECK_GOTO(describe(r, name, H5Tcopy(type), H5Dget_space(ds), &sh), st,
                out_ds);
  H5T_sign_t sign =
      sh.cls == H5T_INTEGER ? H5Tget_sign(type) : H5T_SGN_ERROR;
  if (sh.cls == H5T_FLOAT && sh.size == 8) {
    b->type = RF_COLUMN_F64;
    mtype = H5T_NATIVE_DOUBLE;
  } else if (sh.cls == H5T_INTEGER && sh.size == 8 && sign == H5T_SGN_2) {
    b->type = RF_COLUMN_I64;
    mtype = H5T_NATIVE_INT64;
  } else {
    st = bad(r, "'%s' holds neither float64 nor int64 values", name);
    goto out_ds;
  }
  RF_CHECK_GOTO(get_flag(r, ds, name, "transposed", &b->transposed), st,
                out_ds);
  hsize_t want0 = b->transposed ? rows : cols;
  hsize_t want1 = b->transposed ? cols : rows;
  if (sh.ndims != 2 || sh.dims[0] != want0 || sh.dims[1] != want1) {
    st = bad(r, "'%s' is not %s of %zu columns and %zu rows", name,
             b->transposed ? "[rows][columns]" : "[columns][rows]", cols,
             rows);
    goto out_ds;
  }
  if (cols != 0 && rows > RF_H5_MAX_READ / 8 / cols) {
    st = bad(r, "'%s' is larger than a frame can be", name);
    goto out_ds;
  }
  b->values = rf__h5_bytes(cols * rows * 8);
  if (b->values == NULL) {
    st = rf__error(RF_ENOMEM, "reading '%s' of %s", name, r->path);
    goto out_ds;
  }
  if (cols * rows > 0 &&
      H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, b->values) < 0) {
    st = rf__h5_fail(r->path, "reading '%s'", name);
  }
out_ds:
  if (type >= 0) st = rf__h5_closed(st, H5Tclose(type), r->path, "a type");
  return rf__h5_closed(st, H5Dclose(ds), r->path, name);
}

/* The frame in group g: pandas' attributes, the axes and every block,
 * checked against each other; columns in axis0's order. */
static rf_status get_frame(const reader *r, hid_t g, rf_frame **out) {
  rf_status st;
  char text[SHORT_TEXT];
  int64_t ndim, nblocks;
  const char *where = "the group";
  RF_CHECK(get_text(r, g, where, "pandas_type", text, sizeof text));
  RF_ENSURE(strcmp(text, "frame") == 0, RF_EUSAGE,
            "%s: /%s is not a pandas frame: pandas_type is '%s'%s", r->path,
            r->key, text,
            strstr(text, "table") ? " (the table format; only the fixed "
                                    "format is read)"
                                  : "");
  RF_CHECK(get_int(r, g, where, "ndim", &ndim));
  if (ndim != 2) return bad(r, "ndim is %lld, not 2", (long long)ndim);
  RF_CHECK(expect_text(r, g, where, "axis0_variety", "regular"));
  RF_CHECK(expect_text(r, g, where, "axis1_variety", "regular"));
  RF_CHECK(get_int(r, g, where, "nblocks", &nblocks));

  strings axis0, axis1;
  block *blocks = NULL;
  size_t *owner = NULL; /* column c is in block owner[c] / C, item % C */
  rf_frame *f = NULL;
  double *column = NULL;
  RF_CHECK(get_strings(r, g, "axis0", &axis0));
  RF_CHECK_GOTO(get_strings(r, g, "axis1", &axis1), st, out_axis0);
  size_t cols = axis0.n, rows = axis1.n;
  if (nblocks < 0 || (uint64_t)nblocks > cols) {
    st = bad(r, "nblocks is %lld for %zu columns", (long long)nblocks, cols);
    goto out_axis1;
  }
  for (size_t c = 0; c < cols; c++) {
    for (size_t d = 0; d < c; d++) {
      if (strcmp(axis0.s[c], axis0.s[d]) == 0) {
        st = bad(r, "column '%s' appears twice in axis0", axis0.s[c]);
        goto out_axis1;
      }
    }
  }
  blocks = rf__calloc(nblocks ? (size_t)nblocks : 1, sizeof *blocks);
  owner = rf__malloc((cols ? cols : 1) * sizeof *owner);
  column = rf__h5_bytes(rows * 8);
  if (blocks == NULL || owner == NULL || column == NULL) {
    st = rf__error(RF_ENOMEM, "reading %s", r->path);
    goto out_blocks;
  }
  for (size_t c = 0; c < cols; c++) owner[c] = SIZE_MAX;
  for (int64_t i = 0; i < nblocks; i++) {
    block *b = &blocks[i];
    RF_CHECK_GOTO(get_block(r, g, i, rows, b), st, out_blocks);
    for (size_t j = 0; j < b->items.n; j++) {
      size_t c = 0;
      while (c < cols && strcmp(axis0.s[c], b->items.s[j]) != 0) c++;
      if (c == cols || owner[c] != SIZE_MAX) {
        st = bad(r, "block%lld_items names '%s', %s", (long long)i,
                 b->items.s[j],
                 c == cols ? "which is not in axis0" : "already in a block");
        goto out_blocks;
      }
      owner[c] = (size_t)i * cols + j;
    }
  }
  for (size_t c = 0; c < cols; c++) {
    if (owner[c] == SIZE_MAX) {
      st = bad(r, "column '%s' is in no block", axis0.s[c]);
      goto out_blocks;
    }
  }

  RF_CHECK_GOTO(rf_frame_create(rows, &f), st, out_blocks);
  for (size_t i = 0; i < rows; i++) {
    RF_CHECK_GOTO(rf_frame_set_label(f, i, axis1.s[i]), st, out_frame);
  }
  for (size_t c = 0; c < cols; c++) {
    const block *b = &blocks[owner[c] / cols];
    size_t j = owner[c] % cols, n = b->items.n;
    const uint8_t *v = b->values;
    for (size_t i = 0; i < rows; i++) {
      size_t at = b->transposed ? i * n + j : j * rows + i;
      memcpy((uint8_t *)column + i * 8, v + at * 8, 8);
    }
    RF_CHECK_GOTO(b->type == RF_COLUMN_F64
                      ? rf_frame_add_f64(f, axis0.s[c], column)
                      : rf_frame_add_i64(f, axis0.s[c], (int64_t *)column),
                  st, out_frame);
  }
  *out = f;
  f = NULL;
out_frame:
  rf_frame_free(f);
out_blocks:
  for (int64_t i = 0; blocks != NULL && i < nblocks; i++) {
    strings_free(&blocks[i].items);
    rf__free(blocks[i].values);
  }
  rf__free(column);
  rf__free(owner);
  rf__free(blocks);
out_axis1:
  strings_free(&axis1);
out_axis0:
  strings_free(&axis0);
  return st;
}

rf_status rf_frame_read_hdf5(const char *path, const char *key,
                             rf_frame **out) {
  RF_ENSURE(out != NULL, RF_EINVAL, "rf_frame_read_hdf5: no out");
  *out = NULL;
  RF_ENSURE(path != NULL, RF_EINVAL, "rf_frame_read_hdf5: no path");
  RF_CHECK(rf__h5_check_key(key));
  /* The system's reason first: HDF5's would not say it as plainly. */
  struct stat info;
  int fd = open(path, O_RDONLY), e = errno;
  if (fd >= 0) {
    e = fstat(fd, &info) != 0 ? errno : S_ISDIR(info.st_mode) ? EISDIR : 0;
    if (close(fd) != 0 && e == 0) e = errno;
  }
  if (fd < 0 || e != 0) {
    return rf__error(RF_EIO, "cannot open %s: %s", path, strerror(e));
  }
  reader r = {path, key};
  rf_status st = RF_OK;
  rf_h5_quiet q;
  rf__h5_quiet_begin(&q);
  char why[RF_H5_WHY_LEN];
  htri_t is = H5Fis_hdf5(path);
  hid_t file = is > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1, g;
  if (is == 0) {
    st = rf__error(RF_EUSAGE, "%s is not an HDF5 file", path);
    goto out;
  }
  if (file < 0) {
    rf__h5_why(why);
    st = rf__error(RF_EIO, "cannot open %s: %s", path,
                   why[0] ? why : "HDF5 cannot open it");
    goto out;
  }
  htri_t has = H5Lexists(file, key, H5P_DEFAULT);
  H5O_info_t obj;
  if (has < 0 || (has > 0 && H5Oget_info_by_name2(file, key, &obj,
                                                  H5O_INFO_BASIC,
                                                  H5P_DEFAULT) < 0)) {
    st = rf__h5_fail(path, "looking for /%s", key);
    goto out_file;
  }
  if (has == 0 || obj.type != H5O_TYPE_GROUP) {
    st = rf__error(RF_EUSAGE, "%s has no frame /%s%s", path, key,
                   has ? " (not a group)" : "");
    goto out_file;
  }
  if ((g = H5Gopen2(file, key, H5P_DEFAULT)) < 0) {
    st = rf__h5_fail(path, "opening /%s", key);
    goto out_file;
  }
  st = get_frame(&r, g, out);
  st = rf__h5_closed(st, H5Gclose(g), path, "the frame's group");
out_file:
  st = rf__h5_closed(st, H5Fclose(file), path, "the file");
  if (st != RF_OK) {
    rf_frame_free(*out);
    *out = NULL;
  }
out:
  rf__h5_quiet_end(&q);
  return st;
}
