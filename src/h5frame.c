/* h5frame.c -- frames to and from HDF5, in pandas' "fixed" layout.
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
 * frames (and attributes) give byte-identical files.
 *
 * Reading checks the layout strictly and says what is wrong (RF_EUSAGE):
 * the attributes above, string axes, float64 or int64 blocks ([C][R], or
 * pandas' [R][C] + transposed) whose items cover axis0 exactly once. Sizes
 * are checked (1 GiB at most) before anything is allocated. HDF5 parses
 * the file's metadata itself: damaged metadata is its business (1.10.8
 * reads out of bounds on some damaged object headers).
 *
 * Debian's HDF5 is not thread-safe: everything here runs on the calling
 * (MPI) thread and starts no thread. Files are opened with the default,
 * serial file access properties: one rank writes a frame file. HDF5's
 * automatic error printing is off during these calls (the caller's handler
 * is restored); its innermost message goes into rf_last_error() instead.
 */
#include "rf_h5.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest array read from a file: what a frame may weigh on the wire.
 * Malformed shapes ask for no more than this. */
#define MAX_READ_BYTES RF_MAX_MESSAGE

/* Attribute strings the reader compares ("frame", "regular", "string")
 * are short; longer ones are not what it looks for. */
#define SHORT_TEXT 64

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

#define WHY_LEN 160

/* The first line of the innermost message (some go on for lines). */
static herr_t innermost(unsigned n, const H5E_error2_t *err, void *user) {
  if (n == 0 && err->desc != NULL) {
    snprintf(user, WHY_LEN, "%.*s", (int)strcspn(err->desc, "\n"), err->desc);
  }
  return 0;
}

/* HDF5's innermost message about the last failure ("" if none). Call it
 * right at the failure: the next HDF5 call clears the stack. */
static void h5why(char why[WHY_LEN]) {
  why[0] = '\0';
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, why) < 0) {
    why[0] = '\0';
  }
}

/* RF_EHDF5: the file, what was being done and HDF5's innermost message
 * (call it right at the failure). */
static rf_status h5fail(const char *path, const char *fmt, ...)
    RF_PRINTF(2, 3);
static rf_status h5fail(const char *path, const char *fmt, ...) {
  char what[256], why[WHY_LEN];
  h5why(why);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (why[0] == '\0') return rf__error(RF_EHDF5, "%s: %s", path, what);
  return rf__error(RF_EHDF5, "%s: %s: %s", path, what, why);
}

/* Closing keeps the first error: a failed close is reported only when
 * nothing failed before it. */
static rf_status closed(rf_status st, herr_t rc, const char *path,
                        const char *what) {
  if (rc < 0 && st == RF_OK) return h5fail(path, "closing %s", what);
  return st;
}

/* n bytes (at least one, so that empty frames need no special case). */
static void *bytes_alloc(size_t n) { return rf__malloc(n ? n : 1); }

/* ---- names ------------------------------------------------------------------ */

/* Keys are one group below the root, with names any tool can type:
 * [A-Za-z0-9_]+ (no slashes, no PyTables natural-name warnings). */
static rf_status check_key(const char *key) {
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
static rf_status check_attrs(const rf_value *map, const char *what,
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

typedef struct {
  const char *path; /* the final name, for messages */
  hid_t gcpl, dcpl; /* groups and datasets: no time stamps */
} writer;

/* A fixed-length UTF-8 string type size bytes wide (at least 1). */
static rf_status string_type(const writer *w, size_t size, H5T_str_t pad,
                             hid_t *out) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return h5fail(w->path, "making a string type");
  if (H5Tset_size(t, size ? size : 1) < 0 ||
      H5Tset_cset(t, H5T_CSET_UTF8) < 0 || H5Tset_strpad(t, pad) < 0) {
    rf_status st = h5fail(w->path, "making a string type");
    return closed(st, H5Tclose(t), w->path, "a string type");
  }
  *out = t;
  return RF_OK;
}

/* Scalar attribute name of obj, of file type ftype, from buf (mtype). */
static rf_status put_attr(const writer *w, hid_t obj, const char *name,
                          hid_t ftype, hid_t mtype, const void *buf) {
  rf_status st = RF_OK;
  hid_t space = H5Screate(H5S_SCALAR);
  if (space < 0) return h5fail(w->path, "attribute '%s'", name);
  hid_t attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0) {
    st = h5fail(w->path, "creating attribute '%s'", name);
    goto out_space;
  }
  if (H5Awrite(attr, mtype, buf) < 0) {
    st = h5fail(w->path, "writing attribute '%s'", name);
  }
  st = closed(st, H5Aclose(attr), w->path, name);
out_space:
  return closed(st, H5Sclose(space), w->path, "a dataspace");
}

/* A scalar UTF-8 string attribute as wide as s (as PyTables writes them:
 * null-terminated pad, no terminator stored when s fills the width). */
static rf_status put_text(const writer *w, hid_t obj, const char *name,
                          const char *s) {
  hid_t type;
  RF_CHECK(string_type(w, strlen(s), H5T_STR_NULLTERM, &type));
  rf_status st = put_attr(w, obj, name, type, type, s);
  return closed(st, H5Tclose(type), w->path, "a string type");
}

static rf_status put_i64(const writer *w, hid_t obj, const char *name,
                         int64_t v) {
  return put_attr(w, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

/* The entries of map (checked by check_attrs) as attributes of obj. */
static rf_status put_attrs(const writer *w, hid_t obj, const rf_value *map) {
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
        RF_CHECK(put_text(w, obj, name, s));
        break;
      case RF_VALUE_INT:
        RF_CHECK(rf_value_get_int(v, &n));
        RF_CHECK(put_i64(w, obj, name, n));
        break;
      case RF_VALUE_DOUBLE:
        RF_CHECK(rf_value_get_double(v, &d));
        RF_CHECK(put_attr(w, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                          &d));
        break;
      case RF_VALUE_NULL:
      case RF_VALUE_BOOL:
      case RF_VALUE_BYTES:
      case RF_VALUE_LIST:
      case RF_VALUE_MAP:
      case RF_VALUE_FUTURE:
      case RF_VALUE_FRAME:
      default: /* check_attrs turned these away */
        return rf__error(RF_EINVAL, "attribute '%s' is %s", name,
                         rf_value_type_name(t));
    }
  }
  return RF_OK;
}

/* A 1-D dataset of n null-padded fixed-length UTF-8 strings as wide as the
 * longest (at least 1 byte), with attribute kind = "string". */
static rf_status put_strings(const writer *w, hid_t group, const char *name,
                             const char *const *s, size_t n) {
  rf_status st = RF_OK;
  size_t width = 1;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(s[i]);
    if (len > width) width = len;
  }
  RF_ENSURE(n <= MAX_READ_BYTES / width, RF_EINVAL,
            "%s: '%s' would exceed %zu bytes", w->path, name,
            (size_t)MAX_READ_BYTES);
  char *buf = rf__calloc(n ? n : 1, width);
  if (buf == NULL) return rf__error(RF_ENOMEM, "writing '%s'", name);
  for (size_t i = 0; i < n; i++) memcpy(buf + i * width, s[i], strlen(s[i]));
  hid_t type, space, ds;
  RF_CHECK_GOTO(string_type(w, width, H5T_STR_NULLPAD, &type), st, out_buf);
  hsize_t dim = n;
  space = H5Screate_simple(1, &dim, NULL);
  if (space < 0) {
    st = h5fail(w->path, "dataspace of '%s'", name);
    goto out_type;
  }
  ds = H5Dcreate2(group, name, type, space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT);
  if (ds < 0) {
    st = h5fail(w->path, "creating '%s'", name);
    goto out_space;
  }
  if (n > 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    st = h5fail(w->path, "writing '%s'", name);
    goto out_ds;
  }
  st = put_text(w, ds, "kind", "string");
out_ds:
  st = closed(st, H5Dclose(ds), w->path, name);
out_space:
  st = closed(st, H5Sclose(space), w->path, "a dataspace");
out_type:
  st = closed(st, H5Tclose(type), w->path, "a string type");
out_buf:
  rf__free(buf);
  return st;
}

/* Block number index: the frame's columns of one type, items and values
 * [C][R] (one row per column, as the frame holds them). */
static rf_status put_block(const writer *w, hid_t group, int index,
                           const rf_frame *f, rf_column_type type) {
  rf_status st = RF_OK;
  size_t rows = rf_frame_rows(f), cols = 0;
  for (size_t c = 0; c < rf_frame_columns(f); c++) {
    cols += rf_frame_column_type(f, c) == type;
  }
  const char **items = rf__calloc(cols ? cols : 1, sizeof *items);
  uint8_t *values = bytes_alloc(cols * rows * 8);
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
  RF_CHECK_GOTO(put_text(w, group, name, "regular"), st, out_mem);

  snprintf(name, sizeof name, "block%d_values", index);
  hsize_t dims[2] = {cols, rows};
  hid_t ftype = type == RF_COLUMN_F64 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
  hid_t mtype = type == RF_COLUMN_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
  hid_t space = H5Screate_simple(2, dims, NULL), ds;
  if (space < 0) {
    st = h5fail(w->path, "dataspace of '%s'", name);
    goto out_mem;
  }
  ds = H5Dcreate2(group, name, ftype, space, H5P_DEFAULT, w->dcpl, H5P_DEFAULT);
  if (ds < 0) {
    st = h5fail(w->path, "creating '%s'", name);
    goto out_space;
  }
  if (cols * rows > 0 &&
      H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
    st = h5fail(w->path, "writing '%s'", name);
  }
  st = closed(st, H5Dclose(ds), w->path, name);
out_space:
  st = closed(st, H5Sclose(space), w->path, "a dataspace");
out_mem:
  rf__free(values);
  rf__free(items);
  return st;
}

/* Group /<key>: pandas' attributes, the axes, the blocks (float64 first,
 * then int64), then the caller's attributes. */
static rf_status put_frame(const writer *w, hid_t file, const char *key,
                           const rf_frame *f, const rf_value *attrs) {
  rf_status st = RF_OK;
  size_t rows = rf_frame_rows(f), cols = rf_frame_columns(f);
  RF_ENSURE(cols == 0 || rows <= MAX_READ_BYTES / 8 / cols, RF_EINVAL,
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
    st = h5fail(w->path, "creating group /%s", key);
    goto out_mem;
  }
  RF_CHECK_GOTO(put_text(w, g, "pandas_type", "frame"), st, out_group);
  RF_CHECK_GOTO(put_text(w, g, "pandas_version", "0.15.2"), st, out_group);
  RF_CHECK_GOTO(put_text(w, g, "encoding", "UTF-8"), st, out_group);
  RF_CHECK_GOTO(put_text(w, g, "errors", "strict"), st, out_group);
  RF_CHECK_GOTO(put_i64(w, g, "ndim", 2), st, out_group);
  RF_CHECK_GOTO(put_i64(w, g, "nblocks", nf + ni), st, out_group);
  RF_CHECK_GOTO(put_text(w, g, "axis0_variety", "regular"), st, out_group);
  RF_CHECK_GOTO(put_text(w, g, "axis1_variety", "regular"), st, out_group);
  RF_CHECK_GOTO(put_strings(w, g, "axis0", names, cols), st, out_group);
  RF_CHECK_GOTO(put_strings(w, g, "axis1", labels, rows), st, out_group);
  if (nf) RF_CHECK_GOTO(put_block(w, g, 0, f, RF_COLUMN_F64), st, out_group);
  if (ni) RF_CHECK_GOTO(put_block(w, g, nf, f, RF_COLUMN_I64), st, out_group);
  st = put_attrs(w, g, attrs);
out_group:
  st = closed(st, H5Gclose(g), w->path, "the frame's group");
out_mem:
  rf__free(labels);
  rf__free(names);
  return st;
}

/* Group /run holding the run's attributes. */
static rf_status put_run(const writer *w, hid_t file, const rf_value *run) {
  hid_t g = H5Gcreate2(file, "run", H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
  if (g < 0) return h5fail(w->path, "creating group /run");
  rf_status st = put_attrs(w, g, run);
  return closed(st, H5Gclose(g), w->path, "group /run");
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
  RF_CHECK(check_key(key));
  RF_ENSURE(run == NULL || strcmp(key, "run") != 0, RF_EINVAL,
            "frame key 'run' is taken by the group of run attributes");
  RF_CHECK(check_attrs(attrs, "attrs", 1));
  RF_CHECK(check_attrs(run, "run", 0));
  char *dir, *tmp;
  RF_CHECK(temp_names(path, &dir, &tmp));
  rf_status st;
  RF_CHECK_GOTO(probe_create(path, tmp), st, out_names);

  rf_h5_quiet q;
  rf__h5_quiet_begin(&q);
  writer w = {path, -1, -1};
  hid_t fcpl = -1, file = -1;
  if ((fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 ||
      H5Pset_obj_track_times(fcpl, 0) < 0 ||
      (w.gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0 ||
      H5Pset_obj_track_times(w.gcpl, 0) < 0 ||
      (w.dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
      H5Pset_obj_track_times(w.dcpl, 0) < 0) {
    st = h5fail(path, "making creation properties");
    goto out_plists;
  }
  file = H5Fcreate(tmp, H5F_ACC_EXCL, fcpl, H5P_DEFAULT);
  if (file < 0) {
    st = h5fail(path, "creating %s", tmp);
    goto out_unlink; /* a failed create may have left a file */
  }
  RF_CHECK_GOTO(put_frame(&w, file, key, frame, attrs), st, out_file);
  if (run != NULL) RF_CHECK_GOTO(put_run(&w, file, run), st, out_file);
  if (H5Fflush(file, H5F_SCOPE_LOCAL) < 0) {
    st = h5fail(path, "flushing");
    goto out_file;
  }
  st = closed(RF_OK, H5Fclose(file), path, "the file");
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
  st = closed(st, H5Fclose(file), path, "the file");
out_unlink:
  /* Nothing more can be done if this fails: st says what went wrong. */
  (void)unlink(tmp);
out_plists:
  if (w.dcpl >= 0) st = closed(st, H5Pclose(w.dcpl), path, "properties");
  if (w.gcpl >= 0) st = closed(st, H5Pclose(w.gcpl), path, "properties");
  if (fcpl >= 0) st = closed(st, H5Pclose(fcpl), path, "properties");
  rf__h5_quiet_end(&q);
out_names:
  rf__free(tmp);
  rf__free(dir);
  return st;
}

/* ---- reading ------------------------------------------------------------------ */

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
  if (has < 0) return h5fail(r->path, "looking for %s's '%s'", where, name);
  if (has == 0) {
    return optional ? RF_OK : bad(r, "%s has no attribute '%s'", where, name);
  }
  *out = H5Aopen(obj, name, H5P_DEFAULT);
  if (*out < 0) return h5fail(r->path, "opening %s's '%s'", where, name);
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
    st = h5fail(r->path, "reading the type of %s", what);
    goto out;
  }
  out->cls = H5Tget_class(type);
  out->size = H5Tget_size(type);
  out->ndims = H5Sget_simple_extent_ndims(space);
  out->points = H5Sget_simple_extent_npoints(space);
  if (out->cls == H5T_NO_CLASS || out->size == 0 || out->ndims < 0 ||
      out->points < 0) {
    st = h5fail(r->path, "reading the type of %s", what);
    goto out;
  }
  if (out->ndims <= 2 &&
      H5Sget_simple_extent_dims(space, out->dims, NULL) < 0) {
    st = h5fail(r->path, "reading the shape of %s", what);
  }
out:
  if (type >= 0) st = closed(st, H5Tclose(type), r->path, "a type");
  if (space >= 0) st = closed(st, H5Sclose(space), r->path, "a dataspace");
  return st;
}

/* A scalar: no dimensions and one element. */
static int scalar(const shape *sh) { return sh->ndims == 0 && sh->points == 1; }

/* A scalar fixed-length string attribute into buf (cap bytes); RF_EUSAGE
 * when it is missing, of another kind or longer. */
static rf_status get_text(const reader *r, hid_t obj, const char *where,
                          const char *name, char *buf, size_t cap) {
  hid_t a;
  RF_CHECK(open_attr(r, obj, where, name, 0, &a));
  rf_status st;
  shape sh;
  hid_t type = H5Aget_type(a);
  RF_CHECK_GOTO(describe(r, name, H5Tcopy(type), H5Aget_space(a), &sh), st,
                out);
  htri_t var = sh.cls == H5T_STRING ? H5Tis_variable_str(type) : 0;
  if (sh.cls != H5T_STRING || var != 0 || !scalar(&sh) || sh.size >= cap) {
    st = var < 0 ? h5fail(r->path, "reading %s's '%s'", where, name)
                 : bad(r, "%s's '%s' is not a short fixed-length string",
                       where, name);
    goto out;
  }
  memset(buf, 0, cap);
  if (H5Aread(a, type, buf) < 0) {
    st = h5fail(r->path, "reading %s's '%s'", where, name);
  }
out:
  if (type >= 0) st = closed(st, H5Tclose(type), r->path, "a type");
  return closed(st, H5Aclose(a), r->path, name);
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
  hid_t a;
  RF_CHECK(open_attr(r, obj, where, name, 0, &a));
  rf_status st;
  shape sh;
  RF_CHECK_GOTO(describe(r, name, H5Aget_type(a), H5Aget_space(a), &sh), st,
                out);
  if (sh.cls != H5T_INTEGER || !scalar(&sh)) {
    st = bad(r, "%s's '%s' is not a scalar integer", where, name);
  } else if (H5Aread(a, H5T_NATIVE_INT64, out) < 0) {
    st = h5fail(r->path, "reading %s's '%s'", where, name);
  }
out:
  return closed(st, H5Aclose(a), r->path, name);
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
    st = h5fail(r->path, "reading %s's '%s'", where, name);
  } else {
    for (size_t i = 0; i < sh.size; i++) *out |= raw[i] != 0;
  }
out:
  if (type >= 0) st = closed(st, H5Tclose(type), r->path, "a type");
  return closed(st, H5Aclose(a), r->path, name);
}

/* Open dataset name of g; RF_EUSAGE if there is none. */
static rf_status open_dataset(const reader *r, hid_t g, const char *name,
                              hid_t *out) {
  *out = -1;
  htri_t has = H5Lexists(g, name, H5P_DEFAULT);
  if (has < 0) return h5fail(r->path, "looking for '%s'", name);
  if (has == 0) return bad(r, "it has no '%s'", name);
  H5O_info_t info;
  if (H5Oget_info_by_name2(g, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    return h5fail(r->path, "looking at '%s'", name);
  }
  if (info.type != H5O_TYPE_DATASET) return bad(r, "'%s' is not a dataset", name);
  *out = H5Dopen2(g, name, H5P_DEFAULT);
  if (*out < 0) return h5fail(r->path, "opening '%s'", name);
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
    st = var < 0 ? h5fail(r->path, "reading '%s'", name)
                 : bad(r, "'%s' is not a 1-D array of fixed-length strings",
                       name);
    goto out_type;
  }
  size_t size = sh.size;
  if (sh.dims[0] > MAX_READ_BYTES / size) {
    st = bad(r, "'%s' is larger than a frame can be", name);
    goto out_type;
  }
  RF_CHECK_GOTO(expect_text(r, ds, name, "kind", "string"), st, out_type);
  size_t n = (size_t)sh.dims[0];
  buf = bytes_alloc(n * size);
  out->s = rf__calloc(n ? n : 1, sizeof *out->s);
  if (buf == NULL || out->s == NULL) {
    st = rf__error(RF_ENOMEM, "reading '%s' of %s", name, r->path);
    goto out_type;
  }
  if (n > 0 && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    st = h5fail(r->path, "reading '%s'", name);
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
  if (type >= 0) st = closed(st, H5Tclose(type), r->path, "a type");
  if (st != RF_OK) strings_free(out);
  rf__free(buf);
  return closed(st, H5Dclose(ds), r->path, name);
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
  if (cols != 0 && rows > MAX_READ_BYTES / 8 / cols) {
    st = bad(r, "'%s' is larger than a frame can be", name);
    goto out_ds;
  }
  b->values = bytes_alloc(cols * rows * 8);
  if (b->values == NULL) {
    st = rf__error(RF_ENOMEM, "reading '%s' of %s", name, r->path);
    goto out_ds;
  }
  if (cols * rows > 0 &&
      H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, b->values) < 0) {
    st = h5fail(r->path, "reading '%s'", name);
  }
out_ds:
  if (type >= 0) st = closed(st, H5Tclose(type), r->path, "a type");
  return closed(st, H5Dclose(ds), r->path, name);
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
  column = bytes_alloc(rows * 8);
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
  RF_CHECK(check_key(key));
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
  char why[WHY_LEN];
  htri_t is = H5Fis_hdf5(path);
  hid_t file = is > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1, g;
  if (is == 0) {
    st = rf__error(RF_EUSAGE, "%s is not an HDF5 file", path);
    goto out;
  }
  if (file < 0) {
    h5why(why);
    st = rf__error(RF_EIO, "cannot open %s: %s", path,
                   why[0] ? why : "HDF5 cannot open it");
    goto out;
  }
  htri_t has = H5Lexists(file, key, H5P_DEFAULT);
  H5O_info_t obj;
  if (has < 0 || (has > 0 && H5Oget_info_by_name2(file, key, &obj,
                                                  H5O_INFO_BASIC,
                                                  H5P_DEFAULT) < 0)) {
    st = h5fail(path, "looking for /%s", key);
    goto out_file;
  }
  if (has == 0 || obj.type != H5O_TYPE_GROUP) {
    st = rf__error(RF_EUSAGE, "%s has no frame /%s%s", path, key,
                   has ? " (not a group)" : "");
    goto out_file;
  }
  if ((g = H5Gopen2(file, key, H5P_DEFAULT)) < 0) {
    st = h5fail(path, "opening /%s", key);
    goto out_file;
  }
  st = get_frame(&r, g, out);
  st = closed(st, H5Gclose(g), path, "the frame's group");
out_file:
  st = closed(st, H5Fclose(file), path, "the file");
  if (st != RF_OK) {
    rf_frame_free(*out);
    *out = NULL;
  }
out:
  rf__h5_quiet_end(&q);
  return st;
}

/* ---- shared with h5part.c ------------------------------------------------ */

rf_status rf__h5_set_attrs(hid_t obj, const rf_value *map) {
  writer w = {"the data file", H5I_INVALID_HID, H5I_INVALID_HID};
  RF_CHECK(check_attrs(map, "data file", 0));
  return put_attrs(&w, obj, map);
}
