/* SPDX-License-Identifier: BSD-3-Clause */
/* h5.c -- what the HDF5 files of this folder share: quiet errors, names,
 * attributes written and read.
 *
 * HDF5 prints its error stack on every failure unless told not to; the
 * library reports errors itself, in one line, with HDF5's innermost
 * message. Attributes are written the way PyTables reads them (scalar
 * fixed-length UTF-8 strings, int64, float64), under names that neither
 * pandas nor PyTables claims. frame_write.c, frame_read.c and rows.c use
 * these; nothing outside this folder sees HDF5.
 */
#include "h5.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- HDF5's error stack ---------------------------------------------------- */

void rf__h5_quiet_begin(rf_h5_quiet *q) {
  q->saved = H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data) >= 0;
  if (q->saved && H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0) q->saved = 0;
}

void rf__h5_quiet_end(const rf_h5_quiet *q) {
  if (q->saved && H5Eset_auto2(H5E_DEFAULT, q->fn, q->data) < 0) {
    /* Nothing to do: printing stays off, no result is lost. */
  }
}

/* The first line of the innermost message (some go on for lines). */
static herr_t innermost(unsigned n, const H5E_error2_t *err, void *user) {
  if (n == 0 && err->desc != NULL) {
    snprintf(user, RF_H5_WHY_LEN, "%.*s", (int)strcspn(err->desc, "\n"), err->desc);
  }
  return 0;
}

/* HDF5's innermost message about the last failure ("" if none). Call it
 * right at the failure: the next HDF5 call clears the stack. */
void rf__h5_why(char why[RF_H5_WHY_LEN]) {
  why[0] = '\0';
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, why) < 0) {
    why[0] = '\0';
  }
}

/* RF_EHDF5: the file, what was being done and HDF5's innermost message
 * (call it right at the failure). */
static rf_status failv(const char *path, const char *why, const char *fmt,
                       va_list ap) {
  char what[256];
  vsnprintf(what, sizeof what, fmt, ap);
  if (why[0] == '\0') return rf__error(RF_EHDF5, "%s: %s", path, what);
  return rf__error(RF_EHDF5, "%s: %s: %s", path, what, why);
}

rf_status rf__h5_fail(const char *path, const char *fmt, ...) {
  char why[RF_H5_WHY_LEN];
  rf__h5_why(why);
  va_list ap;
  va_start(ap, fmt);
  rf_status st = failv(path, why, fmt, ap);
  va_end(ap);
  return st;
}

rf_status rf__h5_failed(const char *path, const char *why, const char *fmt,
                        ...) {
  va_list ap;
  va_start(ap, fmt);
  rf_status st = failv(path, why, fmt, ap);
  va_end(ap);
  return st;
}

/* Closing keeps the first error: a failed close is reported only when
 * nothing failed before it. */
rf_status rf__h5_closed(rf_status st, herr_t rc, const char *path,
                        const char *what) {
  if (rc < 0 && st == RF_OK) return rf__h5_fail(path, "closing %s", what);
  return st;
}

/* n bytes (at least one, so that empty frames need no special case). */
void *rf__h5_bytes(size_t n) { return rf__malloc(n ? n : 1); }

/* ---- names ------------------------------------------------------------------ */

/* Keys are one group below the root, with names any tool can type:
 * [A-Za-z0-9_]+ (no slashes, no PyTables natural-name warnings). */
rf_status rf__h5_check_key(const char *key) {
  RF_ENSURE(key != NULL && key[0] != '\0', RF_EINVAL,
            "a frame's key must not be empty");
  for (const char *p = key; *p != '\0'; p++) {
    int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
             (*p >= '0' && *p <= '9') || *p == '_';
    RF_ENSURE(ok, RF_EINVAL,
              "frame key '%s': only letters, digits and '_' are allowed", key);
  }
  return RF_OK;
}

/* Attribute names PyTables reads as its own on any node, and pandas' own
 * on the frame's group (plus blockN_items_variety): a user attribute of
 * that name would change what the file means. */
static const char *const pytables_names[] = {
    "CLASS", "VERSION", "TITLE", "NROWS", "EXTDIM", "ENCODING",
    "PYTABLES_FORMAT_VERSION", "FLAVOR", "FILTERS", "AUTO_INDEX", "DIRTY",
    "NODE_TYPE", "NODE_TYPE_VERSION", "PSEUDOATOM", NULL};
static const char *const pandas_names[] = {
    "pandas_type", "pandas_version", "encoding", "errors", "ndim", "nblocks",
    "axis0_variety", "axis1_variety", NULL};

static int reserved(const char *name, int frame_group) {
  for (size_t i = 0; pytables_names[i] != NULL; i++) {
    if (strcmp(name, pytables_names[i]) == 0) return 1;
  }
  if (strncmp(name, "FIELD_", 6) == 0) return 1;
  if (!frame_group) return 0;
  for (size_t i = 0; pandas_names[i] != NULL; i++) {
    if (strcmp(name, pandas_names[i]) == 0) return 1;
  }
  if (strncmp(name, "block", 5) != 0) return 0;
  const char *p = name + 5;
  while (*p >= '0' && *p <= '9') p++;
  return p > name + 5 && strcmp(p, "_items_variety") == 0;
}

/* map is NULL or a map of string, int and double values under names that
 * are free (what: "attrs" or "run", for messages). */
rf_status rf__h5_check_attrs(const rf_value *map, const char *what,
                             int frame_group) {
  if (map == NULL) return RF_OK;
  rf_value_type t = rf_value_type_of(map);
  RF_ENSURE(t == RF_VALUE_MAP, RF_EINVAL, "%s: expected a map, got %s", what,
            rf_value_type_name(t));
  for (size_t i = 0; i < rf_value_count(map); i++) {
    const char *name = rf_value_key(map, i);
    RF_ENSURE(name[0] != '\0', RF_EINVAL, "%s: an attribute name is empty",
              what);
    RF_ENSURE(!reserved(name, frame_group), RF_EINVAL,
              "%s: attribute '%s' is a name pandas or PyTables uses", what,
              name);
    rf_value_type vt = rf_value_type_of(rf_value_item(map, i));
    switch (vt) {
      case RF_VALUE_STRING:
      case RF_VALUE_INT:
      case RF_VALUE_DOUBLE:
        break;
      case RF_VALUE_NULL:
      case RF_VALUE_BOOL:
      case RF_VALUE_BYTES:
      case RF_VALUE_LIST:
      case RF_VALUE_MAP:
      case RF_VALUE_FUTURE:
      case RF_VALUE_FRAME:
      default:
        return rf__error(RF_EINVAL,
                         "%s: attribute '%s' is %s; only string, int and "
                         "double attributes are written",
                         what, name, rf_value_type_name(vt));
    }
  }
  return RF_OK;
}

/* ---- writing ------------------------------------------------------------------ */

/* A fixed-length UTF-8 string type size bytes wide (at least 1). */
hid_t rf__h5_text_type(size_t size, H5T_str_t pad, H5T_cset_t cset) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return H5I_INVALID_HID;
  if (H5Tset_size(t, size ? size : 1) < 0 || H5Tset_cset(t, cset) < 0 ||
      H5Tset_strpad(t, pad) < 0) {
    (void)H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

rf_status rf__h5_string_type(const rf_h5_writer *w, size_t size, H5T_str_t pad,
                             hid_t *out) {
  *out = rf__h5_text_type(size, pad, H5T_CSET_UTF8);
  return *out < 0 ? rf__h5_fail(w->path, "making a string type") : RF_OK;
}

/* Scalar attribute name of obj, of file type ftype, from buf (mtype). */
rf_status rf__h5_put_attr(const rf_h5_writer *w, hid_t obj, const char *name,
                          hid_t ftype, hid_t mtype, const void *buf) {
  rf_status st = RF_OK;
  hid_t space = H5Screate(H5S_SCALAR);
  if (space < 0) return rf__h5_fail(w->path, "attribute '%s'", name);
  hid_t attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0) {
    st = rf__h5_fail(w->path, "creating attribute '%s'", name);
    goto out_space;
  }
  if (H5Awrite(attr, mtype, buf) < 0) {
    st = rf__h5_fail(w->path, "writing attribute '%s'", name);
  }
  st = rf__h5_closed(st, H5Aclose(attr), w->path, name);
out_space:
  return rf__h5_closed(st, H5Sclose(space), w->path, "a dataspace");
}

/* A scalar UTF-8 string attribute as wide as s (as PyTables writes them:
 * null-terminated pad, no terminator stored when s fills the width). */
rf_status rf__h5_put_text(const rf_h5_writer *w, hid_t obj, const char *name,
                          const char *s) {
  hid_t type;
  RF_CHECK(rf__h5_string_type(w, strlen(s), H5T_STR_NULLTERM, &type));
  rf_status st = rf__h5_put_attr(w, obj, name, type, type, s);
  return rf__h5_closed(st, H5Tclose(type), w->path, "a string type");
}

rf_status rf__h5_put_i64(const rf_h5_writer *w, hid_t obj, const char *name,
                         int64_t v) {
  return rf__h5_put_attr(w, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

/* The entries of map (checked by rf__h5_check_attrs) as attributes of obj. */
rf_status rf__h5_put_attrs(const rf_h5_writer *w, hid_t obj, const rf_value *map) {
  for (size_t i = 0; i < rf_value_count(map); i++) {
    const char *name = rf_value_key(map, i);
    const rf_value *v = rf_value_item(map, i);
    const char *s;
    size_t len;
    int64_t n;
    double d;
    rf_value_type t = rf_value_type_of(v);
    switch (t) {
      case RF_VALUE_STRING:
        RF_CHECK(rf_value_get_string(v, &s, &len));
        RF_CHECK(rf__h5_put_text(w, obj, name, s));
        break;
      case RF_VALUE_INT:
        RF_CHECK(rf_value_get_int(v, &n));
        RF_CHECK(rf__h5_put_i64(w, obj, name, n));
        break;
      case RF_VALUE_DOUBLE:
        RF_CHECK(rf_value_get_double(v, &d));
        RF_CHECK(rf__h5_put_attr(w, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                          &d));
        break;
      case RF_VALUE_NULL:
      case RF_VALUE_BOOL:
      case RF_VALUE_BYTES:
      case RF_VALUE_LIST:
      case RF_VALUE_MAP:
      case RF_VALUE_FUTURE:
      case RF_VALUE_FRAME:
      default: /* rf__h5_check_attrs turned these away */
        return rf__error(RF_EINVAL, "attribute '%s' is %s", name,
                         rf_value_type_name(t));
    }
  }
  return RF_OK;
}

rf_status rf__h5_set_attrs(hid_t obj, const rf_value *map, const char *what) {
  rf_h5_writer w = {what, H5I_INVALID_HID, H5I_INVALID_HID};
  RF_CHECK(rf__h5_check_attrs(map, what, 0));
  return rf__h5_put_attrs(&w, obj, map);
}
/* ---- reading attributes ------------------------------------------------------ */

/* Open attribute name of obj with its type and space: OK, MISSING, or
 * FAILED (why taken). */
static int open_attr(hid_t obj, const char *name, hid_t *a, hid_t *type,
                     hid_t *space, char *why) {
  *a = *type = *space = H5I_INVALID_HID;
  htri_t has = H5Aexists(obj, name);
  if (has == 0) return RF_H5_ATTR_MISSING;
  if (has > 0 && (*a = H5Aopen(obj, name, H5P_DEFAULT)) >= 0 &&
      (*type = H5Aget_type(*a)) >= 0 && (*space = H5Aget_space(*a)) >= 0) {
    return RF_H5_ATTR_OK;
  }
  if (why != NULL) rf__h5_why(why);
  return RF_H5_ATTR_FAILED;
}

/* Close what open_attr opened; got, or FAILED when a close failed. */
static int close_attr(int got, hid_t a, hid_t type, hid_t space, char *why) {
  int bad = (space >= 0 && H5Sclose(space) < 0) |
            (type >= 0 && H5Tclose(type) < 0) | (a >= 0 && H5Aclose(a) < 0);
  if (bad && got != RF_H5_ATTR_FAILED) {
    if (why != NULL) rf__h5_why(why);
    got = RF_H5_ATTR_FAILED;
  }
  return got;
}

/* A dataspace of one element and no dimensions. */
static int is_scalar(hid_t space) {
  return H5Sget_simple_extent_ndims(space) == 0 &&
         H5Sget_simple_extent_npoints(space) == 1;
}

int rf__h5_attr_text(hid_t obj, const char *name, char *buf, size_t cap,
                     char *why) {
  hid_t a, type, space;
  int got = open_attr(obj, name, &a, &type, &space, why);
  if (got != RF_H5_ATTR_OK) return close_attr(got, a, type, space, why);
  H5T_class_t cls = H5Tget_class(type);
  htri_t var = cls == H5T_STRING ? H5Tis_variable_str(type) : 0;
  size_t size = H5Tget_size(type);
  if (cls == H5T_NO_CLASS || var < 0 || size == 0) {
    got = RF_H5_ATTR_FAILED;
  } else if (cls != H5T_STRING || var || !is_scalar(space) || size >= cap) {
    got = RF_H5_ATTR_OTHER;
  } else {
    memset(buf, 0, cap);
    if (H5Aread(a, type, buf) < 0) got = RF_H5_ATTR_FAILED;
  }
  if (got == RF_H5_ATTR_FAILED && why != NULL) rf__h5_why(why);
  return close_attr(got, a, type, space, why);
}

int rf__h5_attr_int(hid_t obj, const char *name, int64_t *out, char *why) {
  hid_t a, type, space;
  int got = open_attr(obj, name, &a, &type, &space, why);
  if (got != RF_H5_ATTR_OK) return close_attr(got, a, type, space, why);
  H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_NO_CLASS) {
    got = RF_H5_ATTR_FAILED;
  } else if (cls != H5T_INTEGER || !is_scalar(space)) {
    got = RF_H5_ATTR_OTHER;
  } else if (H5Aread(a, H5T_NATIVE_INT64, out) < 0) {
    got = RF_H5_ATTR_FAILED;
  }
  if (got == RF_H5_ATTR_FAILED && why != NULL) rf__h5_why(why);
  return close_attr(got, a, type, space, why);
}
