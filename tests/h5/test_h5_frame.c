/* SPDX-License-Identifier: BSD-3-Clause */
/* test_h5_frame.c -- frames survive rf_frame_write_hdf5 + rf_frame_read_hdf5,
 * and no failure leaves a half-made file or object behind.
 *
 * Covered: round trips of every frame in h5_frames.h (bitwise, with and
 * without attributes); attributes as HDF5 types; equal frames giving
 * byte-identical files; bad keys, attributes and paths (RF_EINVAL, RF_EIO
 * with the system's reason) creating nothing; a second write replacing the
 * file whole (a new inode, the old one intact for its readers); every
 * allocation failing in turn while writing (old file untouched, no temp
 * file, no leak) and while reading; malformed files forged with the HDF5
 * API (RF_EUSAGE naming what is wrong); pandas' own [rows][columns] +
 * `transposed` layout; every byte of the datasets' data damaged in turn
 * (no crash, RF_EUSAGE or a frame).
 * Runs without MPI ranks: the functions need only the calling thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5_frames.h"
#include "base/base.h"
#include "rf_test.h"

static char dir[512];

/* dir/name in a static buffer (one of four, so a few can be in use). */
static const char *in_dir(const char *name) {
  static char bufs[4][1024];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
  return b;
}

/* Entries of dir other than . and .., printed when not `want`. */
static int entries(int want) {
  DIR *d = opendir(dir);
  int n = 0;
  if (d == NULL) return -1;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  }
  if (n != want) {
    rewinddir(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
      fprintf(stderr, "  in %s: %s\n", dir, e->d_name);
    }
  }
  closedir(d);
  return n;
}

static void clear_dir(void) {
  DIR *d = opendir(dir);
  if (d == NULL) return;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    const char *p = in_dir(e->d_name);
    if (unlink(p) != 0) rmdir(p);
  }
  closedir(d);
}

/* The whole file in a malloc'd buffer; NULL if it cannot be read. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  long n;
  *len = 0;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
      fread(buf, 1, (size_t)n, f) == (size_t)n) {
    *len = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static int spill(const char *path, const unsigned char *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return -1;
  int ok = fwrite(buf, 1, len, f) == len;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

static rf_value *summary_attrs(void) {
  rf_value *m = rf_value_map();
  rf_value_map_set(m, "title", rf_value_string("x and y, described"));
  rf_value_map_set(m, "rows", rf_value_int(1000));
  rf_value_map_set(m, "seed", rf_value_int(-7));
  rf_value_map_set(m, "scale", rf_value_double(0.5));
  rf_value_map_set(m, "note", rf_value_string("héllo"));
  rf_value_map_set(m, "empty", rf_value_string(""));
  return m;
}

static rf_value *run_attrs(void) {
  rf_value *m = rf_value_map();
  rf_value_map_set(m, "ranks", rf_value_int(4));
  rf_value_map_set(m, "wall_seconds", rf_value_double(1.25));
  rf_value_map_set(m, "host", rf_value_string("node001"));
  return m;
}

/* Read path/key and check it equals want. */
static void check_reads_as(const char *path, const char *key,
                           const rf_frame *want, const char *what) {
  rf_frame *got = NULL;
  rf_status st = rf_frame_read_hdf5(path, key, &got);
  if (st != RF_OK || !rf_frame_equal(got, want)) {
    fprintf(stderr, "%s: read back %s (%s)\n", what, rf_status_name(st),
            rf_last_error());
    if (got) rf_frame_print(got, stderr);
    rf_test_failures++;
  }
  rf_frame_free(got);
}

/* ---- attributes as HDF5 sees them ---------------------------------------- */

/* Attribute name of path:obj: its class, size, and whether it is a scalar
 * fixed-length UTF-8 string when a string; value into buf (size bytes). */
static int read_attr(const char *path, const char *obj, const char *name,
                     H5T_class_t *cls, void *buf, size_t cap) {
  int ok = 0;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t a = f < 0 ? -1 : H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  hid_t t = a < 0 ? -1 : H5Aget_type(a);
  hid_t s = a < 0 ? -1 : H5Aget_space(a);
  if (t >= 0 && s >= 0 && H5Sget_simple_extent_ndims(s) == 0 &&
      H5Tget_size(t) < cap) {
    *cls = H5Tget_class(t);
    memset(buf, 0, cap);
    if (*cls == H5T_STRING) {
      ok = H5Tis_variable_str(t) == 0 && H5Tget_cset(t) == H5T_CSET_UTF8 &&
           H5Aread(a, t, buf) >= 0;
    } else if (*cls == H5T_INTEGER) {
      ok = H5Tget_size(t) == 8 && H5Aread(a, H5T_NATIVE_INT64, buf) >= 0;
    } else if (*cls == H5T_FLOAT) {
      ok = H5Tget_size(t) == 8 && H5Aread(a, H5T_NATIVE_DOUBLE, buf) >= 0;
    }
  }
  if (s >= 0) H5Sclose(s);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  if (f >= 0) H5Fclose(f);
  return ok;
}

static void check_text_attr(const char *path, const char *obj,
                            const char *name, const char *want) {
  char buf[128];
  H5T_class_t cls;
  if (!read_attr(path, obj, name, &cls, buf, sizeof buf) ||
      cls != H5T_STRING || strcmp(buf, want) != 0) {
    fprintf(stderr, "%s %s '%s': not the UTF-8 scalar '%s'\n", path, obj,
            name, want);
    rf_test_failures++;
  }
}

static void check_int_attr(const char *path, const char *obj,
                           const char *name, int64_t want) {
  int64_t v[2];
  H5T_class_t cls;
  if (!read_attr(path, obj, name, &cls, v, sizeof v) || cls != H5T_INTEGER ||
      v[0] != want) {
    fprintf(stderr, "%s %s '%s': not the int64 %lld\n", path, obj, name,
            (long long)want);
    rf_test_failures++;
  }
}

static void check_double_attr(const char *path, const char *obj,
                              const char *name, double want) {
  double v[2];
  H5T_class_t cls;
  if (!read_attr(path, obj, name, &cls, v, sizeof v) || cls != H5T_FLOAT ||
      memcmp(&v[0], &want, sizeof want) != 0) {
    fprintf(stderr, "%s %s '%s': not the float64 %g\n", path, obj, name, want);
    rf_test_failures++;
  }
}

/* ---- round trips ----------------------------------------------------------- */

static void test_roundtrips(void) {
  for (size_t i = 0; h5t_names[i] != NULL; i++) {
    const char *name = h5t_names[i];
    rf_frame *f = h5t_frame(name);
    rf_value *attrs = summary_attrs(), *run = run_attrs();
    const char *path = in_dir("out.h5");
    CHECK(f != NULL);
    CHECK_OK(rf_frame_write_hdf5(path, name, f, attrs, run));
    CHECK_INT(entries(1), 1); /* no temporary file left */
    check_reads_as(path, name, f, name);
    /* Without attributes, and a second key-less file beside it. */
    CHECK_OK(rf_frame_write_hdf5(in_dir("bare.h5"), "k", f, NULL, NULL));
    check_reads_as(in_dir("bare.h5"), "k", f, name);
    CHECK_INT(entries(2), 2);
    rf_frame_free(f);
    rf_value_free(attrs);
    rf_value_free(run);
    clear_dir();
  }
}

static void test_attributes(void) {
  rf_frame *f = h5t_summary(1);
  rf_value *attrs = summary_attrs(), *run = run_attrs();
  const char *path = in_dir("attrs.h5");
  CHECK_OK(rf_frame_write_hdf5(path, "summary", f, attrs, run));
  check_text_attr(path, "summary", "pandas_type", "frame");
  check_text_attr(path, "summary", "pandas_version", "0.15.2");
  check_text_attr(path, "summary", "encoding", "UTF-8");
  check_text_attr(path, "summary", "errors", "strict");
  check_int_attr(path, "summary", "ndim", 2);
  check_int_attr(path, "summary", "nblocks", 2);
  check_text_attr(path, "summary", "axis0_variety", "regular");
  check_text_attr(path, "summary", "block1_items_variety", "regular");
  check_text_attr(path, "summary/axis1", "kind", "string");
  check_text_attr(path, "summary", "title", "x and y, described");
  check_text_attr(path, "summary", "note", "héllo");
  check_text_attr(path, "summary", "empty", "");
  check_int_attr(path, "summary", "rows", 1000);
  check_int_attr(path, "summary", "seed", -7);
  check_double_attr(path, "summary", "scale", 0.5);
  check_int_attr(path, "run", "ranks", 4);
  check_double_attr(path, "run", "wall_seconds", 1.25);
  check_text_attr(path, "run", "host", "node001");
  /* Equal frames give equal bytes, even a second later (no time stamps). */
  size_t n1, n2;
  unsigned char *b1 = slurp(path, &n1);
  sleep(1);
  CHECK_OK(rf_frame_write_hdf5(in_dir("again.h5"), "summary", f, attrs, run));
  unsigned char *b2 = slurp(in_dir("again.h5"), &n2);
  CHECK(b1 != NULL && b2 != NULL && n1 == n2 && memcmp(b1, b2, n1) == 0);
  free(b1);
  free(b2);
  rf_frame_free(f);
  rf_value_free(attrs);
  rf_value_free(run);
  clear_dir();
}

/* ---- refusals ---------------------------------------------------------------- */

static void test_bad_keys(void) {
  rf_frame *f = h5t_summary(0);
  const char *keys[] = {"", "a/b", "/summary", "a b", "a.b", "é", "run-1"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    CHECK_STATUS(rf_frame_write_hdf5(in_dir("k.h5"), keys[i], f, NULL, NULL),
                 RF_EINVAL);
  }
  CHECK_STATUS(rf_frame_write_hdf5(in_dir("k.h5"), NULL, f, NULL, NULL),
               RF_EINVAL);
  CHECK_CONTAINS(rf_last_error(), "key");
  rf_value *run = run_attrs();
  CHECK_STATUS(rf_frame_write_hdf5(in_dir("k.h5"), "run", f, NULL, run),
               RF_EINVAL);
  CHECK_OK(rf_frame_write_hdf5(in_dir("k.h5"), "run", f, NULL, NULL));
  check_reads_as(in_dir("k.h5"), "run", f, "key run");
  CHECK_INT(entries(1), 1);
  rf_frame *out = (rf_frame *)1;
  CHECK_STATUS(rf_frame_read_hdf5(in_dir("k.h5"), "a/b", &out), RF_EINVAL);
  CHECK(out == NULL);
  rf_value_free(run);
  rf_frame_free(f);
  clear_dir();
}

static void test_bad_attrs(void) {
  rf_frame *f = h5t_summary(0);
  struct {
    const char *name;
    rf_value *value;
    int on_run; /* the map is given as run rather than attrs */
  } cases[] = {
      {"list", rf_value_list(), 0},
      {"flag", rf_value_bool(1), 0},
      {"nothing", rf_value_null(), 1},
      {"blob", rf_value_bytes("ab", 2), 1},
      {"pandas_type", rf_value_string("series"), 0},
      {"nblocks", rf_value_int(3), 0},
      {"block0_items_variety", rf_value_string("multi"), 0},
      {"CLASS", rf_value_string("TABLE"), 1},
      {"FIELD_0_NAME", rf_value_string("x"), 0},
      {"", rf_value_int(1), 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    rf_value *m = rf_value_map();
    rf_value_map_set(m, cases[i].name, cases[i].value);
    rf_status st = rf_frame_write_hdf5(in_dir("a.h5"), "summary", f,
                                       cases[i].on_run ? NULL : m,
                                       cases[i].on_run ? m : NULL);
    if (st != RF_EINVAL) {
      fprintf(stderr, "attribute '%s' gave %s\n", cases[i].name,
              rf_status_name(st));
      rf_test_failures++;
    }
    rf_value_free(m);
  }
  /* Allowed on /run, which is not the frame: pandas' names. */
  rf_value *ok = rf_value_map();
  rf_value_map_set(ok, "nblocks", rf_value_int(3));
  CHECK_OK(rf_frame_write_hdf5(in_dir("a.h5"), "summary", f, NULL, ok));
  CHECK_OK(unlink(in_dir("a.h5")));
  rf_value_free(ok);
  rf_value *notmap = rf_value_int(3);
  CHECK_STATUS(rf_frame_write_hdf5(in_dir("a.h5"), "summary", f, notmap, NULL),
               RF_EINVAL);
  CHECK_CONTAINS(rf_last_error(), "expected a map");
  rf_value_free(notmap);
  CHECK_INT(entries(0), 0);
  rf_frame_free(f);
}

static void test_bad_paths(void) {
  rf_frame *f = h5t_summary(0);
  CHECK_STATUS(rf_frame_write_hdf5("/nonexistent/dir/x.h5", "s", f, NULL, NULL),
               RF_EIO);
  CHECK(strcmp(rf_last_error(), "cannot create /nonexistent/dir/x.h5: "
                                "No such file or directory") == 0);
  CHECK(access("/nonexistent/dir/x.h5", F_OK) != 0);
  CHECK_STATUS(rf_frame_write_hdf5(in_dir("sub/"), "s", f, NULL, NULL),
               RF_EINVAL);
  CHECK_STATUS(rf_frame_write_hdf5("", "s", f, NULL, NULL), RF_EINVAL);
  /* A directory in the way: HDF5 wrote the temporary file, rename fails. */
  CHECK_INT(mkdir(in_dir("sub"), 0755), 0);
  CHECK_STATUS(rf_frame_write_hdf5(in_dir("sub"), "s", f, NULL, NULL), RF_EIO);
  CHECK_CONTAINS(rf_last_error(), "cannot rename");
  CHECK_INT(entries(1), 1);
  /* A directory that cannot be written (root writes anywhere: skipped). */
  if (geteuid() != 0) {
    CHECK_INT(chmod(in_dir("sub"), 0555), 0);
    CHECK_STATUS(rf_frame_write_hdf5(in_dir("sub/x.h5"), "s", f, NULL, NULL),
                 RF_EIO);
    CHECK_CONTAINS(rf_last_error(), "Permission denied");
    CHECK_INT(chmod(in_dir("sub"), 0755), 0);
  }
  CHECK_INT(rmdir(in_dir("sub")), 0);
  /* Relative paths work (the directory is then "."). */
  char cwd[512];
  CHECK(getcwd(cwd, sizeof cwd) != NULL);
  CHECK_INT(chdir(dir), 0);
  CHECK_OK(rf_frame_write_hdf5("rel.h5", "s", f, NULL, NULL));
  check_reads_as("rel.h5", "s", f, "relative path");
  CHECK_INT(chdir(cwd), 0);
  CHECK_INT(entries(1), 1);
  clear_dir();
  /* Reading what cannot be opened. */
  rf_frame *out = (rf_frame *)1;
  CHECK_STATUS(rf_frame_read_hdf5(in_dir("none.h5"), "s", &out), RF_EIO);
  CHECK(out == NULL);
  CHECK_CONTAINS(rf_last_error(), "none.h5: No such file or directory");
  CHECK_STATUS(rf_frame_read_hdf5(dir, "s", &out), RF_EIO);
  CHECK_CONTAINS(rf_last_error(), ": Is a directory");
  CHECK_INT(spill(in_dir("text.h5"), (const unsigned char *)"not hdf5\n", 9), 0);
  CHECK_STATUS(rf_frame_read_hdf5(in_dir("text.h5"), "s", &out), RF_EUSAGE);
  CHECK_CONTAINS(rf_last_error(), "text.h5 is not an HDF5 file");
  /* Half a file: HDF5's reason, on one line. */
  rf_frame *g = h5t_summary(0);
  CHECK_OK(rf_frame_write_hdf5(in_dir("half.h5"), "s", g, NULL, NULL));
  size_t n;
  unsigned char *bytes = slurp(in_dir("half.h5"), &n);
  CHECK_INT(spill(in_dir("half.h5"), bytes, n / 2), 0);
  CHECK_STATUS(rf_frame_read_hdf5(in_dir("half.h5"), "s", &out), RF_EIO);
  CHECK_CONTAINS(rf_last_error(), "half.h5: truncated file");
  CHECK(strchr(rf_last_error(), '\n') == NULL);
  free(bytes);
  rf_frame_free(g);
  clear_dir();
  rf_frame_free(f);
}

/* A second write replaces the file whole: a new inode under the name,
 * while a reader of the old one keeps reading the old bytes. */
static void test_replace(void) {
  rf_frame *a = h5t_summary(0), *b = h5t_utf8();
  const char *path = in_dir("r.h5");
  struct stat s1, s2, s3;
  CHECK_OK(rf_frame_write_hdf5(path, "k", a, NULL, NULL));
  size_t n1;
  unsigned char *old = slurp(path, &n1);
  int fd = open(path, O_RDONLY);
  CHECK(fd >= 0 && fstat(fd, &s1) == 0);
  CHECK_OK(rf_frame_write_hdf5(path, "k", b, NULL, NULL));
  CHECK(stat(path, &s2) == 0 && s2.st_ino != s1.st_ino);
  CHECK(fstat(fd, &s3) == 0 && s3.st_nlink == 0);
  unsigned char *again = malloc(n1 ? n1 : 1);
  CHECK(again != NULL && pread(fd, again, n1, 0) == (ssize_t)n1 &&
        memcmp(again, old, n1) == 0);
  close(fd);
  check_reads_as(path, "k", b, "second write");
  rf_frame *gone = (rf_frame *)1;
  CHECK_STATUS(rf_frame_read_hdf5(path, "nokey", &gone), RF_EUSAGE);
  CHECK(gone == NULL);
  CHECK_INT(entries(1), 1);
  free(old);
  free(again);
  rf_frame_free(a);
  rf_frame_free(b);
  clear_dir();
}

/* ---- allocation failures ----------------------------------------------------- */

static void test_alloc_faults(void) {
  rf_frame *a = h5t_summary(0), *b = h5t_summary(1);
  rf_value *attrs = summary_attrs(), *run = run_attrs();
  const char *path = in_dir("f.h5");
  CHECK_OK(rf_frame_write_hdf5(path, "k", a, NULL, NULL));
  size_t n0, n;
  unsigned char *before = slurp(path, &n0);
  long k, live = rf__alloc_live();
  rf_status st = RF_ENOMEM;
  for (k = 0; k < 1000 && st != RF_OK; k++) {
    rf__alloc_fail_after(k, 0);
    st = rf_frame_write_hdf5(path, "k", b, attrs, run);
    rf__alloc_fail_after(-1, 0);
    if (st == RF_OK) break;
    CHECK_STATUS(st, RF_ENOMEM);
    unsigned char *now = slurp(path, &n);
    CHECK(now != NULL && n == n0 && memcmp(now, before, n) == 0);
    free(now);
    CHECK_INT(entries(1), 1);
    CHECK_INT(rf__alloc_live(), live);
  }
  CHECK(k > 3 && st == RF_OK);
  check_reads_as(path, "k", b, "after the write faults");
  st = RF_ENOMEM;
  for (k = 0; k < 1000 && st != RF_OK; k++) {
    rf_frame *out = (rf_frame *)1;
    rf__alloc_fail_after(k, 0);
    st = rf_frame_read_hdf5(path, "k", &out);
    rf__alloc_fail_after(-1, 0);
    if (st == RF_OK) {
      CHECK(rf_frame_equal(out, b));
      rf_frame_free(out);
      break;
    }
    CHECK_STATUS(st, RF_ENOMEM);
    CHECK(out == NULL);
    CHECK_INT(rf__alloc_live(), live);
  }
  CHECK(k > 10 && st == RF_OK);
  free(before);
  rf_value_free(attrs);
  rf_value_free(run);
  rf_frame_free(a);
  rf_frame_free(b);
  clear_dir();
}

/* ---- malformed files ------------------------------------------------------------ */

/* Small editing helpers on an open group; failures count as test failures
 * (the forged file would not be what the case means). */
static void must(herr_t rc, const char *what) {
  if (rc < 0) {
    fprintf(stderr, "forging: %s failed\n", what);
    rf_test_failures++;
  }
}

static void set_text(hid_t obj, const char *name, const char *value) {
  if (H5Aexists(obj, name) > 0) must(H5Adelete(obj, name), name);
  hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
  must(H5Tset_size(t, strlen(value) + 1), "H5Tset_size");
  hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  must(H5Awrite(a, t, value), name);
  H5Aclose(a);
  H5Sclose(s);
  H5Tclose(t);
}

static void set_int(hid_t obj, const char *name, int64_t v) {
  if (H5Aexists(obj, name) > 0) must(H5Adelete(obj, name), name);
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
  must(H5Awrite(a, H5T_NATIVE_INT64, &v), name);
  H5Aclose(a);
  H5Sclose(s);
}

/* Replace dataset name of g by one of type with dims (data may be NULL). */
static hid_t replace(hid_t g, const char *name, hid_t type, int rank,
                     const hsize_t *dims, const void *data) {
  if (H5Lexists(g, name, H5P_DEFAULT) > 0) {
    must(H5Ldelete(g, name, H5P_DEFAULT), name);
  }
  hid_t s = H5Screate_simple(rank, dims, NULL);
  hid_t d = H5Dcreate2(g, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (data) must(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name);
  H5Sclose(s);
  return d; /* caller closes */
}

static void strings_dataset(hid_t g, const char *name, const char *packed,
                            size_t n, size_t width) {
  hid_t t = H5Tcopy(H5T_C_S1);
  must(H5Tset_size(t, width), "H5Tset_size");
  hsize_t dim = n;
  hid_t d = replace(g, name, t, 1, &dim, packed);
  set_text(d, "kind", "string");
  H5Dclose(d);
  H5Tclose(t);
}

static void e_no_type(hid_t g) { must(H5Adelete(g, "pandas_type"), "del"); }
static void e_table(hid_t g) { set_text(g, "pandas_type", "frame_table"); }
static void e_series(hid_t g) { set_text(g, "pandas_type", "series"); }
static void e_ndim(hid_t g) { set_int(g, "ndim", 3); }
static void e_ndim_text(hid_t g) { set_text(g, "ndim", "2"); }
static void e_ndim_null(hid_t g) {
  must(H5Adelete(g, "ndim"), "del ndim");
  hid_t s = H5Screate(H5S_NULL);
  hid_t a = H5Acreate2(g, "ndim", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
  H5Aclose(a);
  H5Sclose(s);
}
static void e_multi(hid_t g) { set_text(g, "axis1_variety", "multi"); }
static void e_long_text(hid_t g) {
  char big[200];
  memset(big, 'f', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  set_text(g, "pandas_type", big);
}
static void e_no_axis0(hid_t g) {
  must(H5Ldelete(g, "axis0", H5P_DEFAULT), "del axis0");
}
static void e_axis1_ints(hid_t g) {
  int64_t v[8] = {0};
  hsize_t dim = 8;
  H5Dclose(replace(g, "axis1", H5T_NATIVE_INT64, 1, &dim, v));
}
static void e_axis1_kind(hid_t g) {
  hid_t d = H5Dopen2(g, "axis1", H5P_DEFAULT);
  set_text(d, "kind", "integer");
  H5Dclose(d);
}
static void e_axis1_no_kind(hid_t g) {
  hid_t d = H5Dopen2(g, "axis1", H5P_DEFAULT);
  must(H5Adelete(d, "kind"), "del kind");
  H5Dclose(d);
}
static void e_axis0_vlen(hid_t g) {
  const char *names[4] = {"id", "x", "n", "y"};
  hid_t t = H5Tcopy(H5T_C_S1);
  must(H5Tset_size(t, H5T_VARIABLE), "vlen");
  hsize_t dim = 4;
  hid_t d = replace(g, "axis0", t, 1, &dim, names);
  set_text(d, "kind", "string");
  H5Dclose(d);
  H5Tclose(t);
}
static void e_axis0_twice(hid_t g) {
  strings_dataset(g, "axis0", "id\0x\0\0id\0y\0", 4, 3);
}
static void e_axis1_huge(hid_t g) {
  hsize_t dim = (hsize_t)1 << 40; /* no storage is ever allocated */
  hid_t t = H5Tcopy(H5T_C_S1);
  hid_t d = replace(g, "axis1", t, 1, &dim, NULL);
  set_text(d, "kind", "string");
  H5Dclose(d);
  H5Tclose(t);
}
static void e_nblocks_more(hid_t g) { set_int(g, "nblocks", 3); }
static void e_nblocks_huge(hid_t g) { set_int(g, "nblocks", 99); }
static void e_nblocks_less(hid_t g) { set_int(g, "nblocks", 1); }
static void e_values_i32(hid_t g) {
  int32_t v[24] = {0};
  hsize_t dims[2] = {3, 8};
  H5Dclose(replace(g, "block0_values", H5T_NATIVE_INT32, 2, dims, v));
}
static void e_values_u64(hid_t g) {
  uint64_t v[8] = {0};
  hsize_t dims[2] = {1, 8};
  H5Dclose(replace(g, "block1_values", H5T_NATIVE_UINT64, 2, dims, v));
}
static void e_values_shape(hid_t g) {
  double v[21] = {0};
  hsize_t dims[2] = {3, 7};
  H5Dclose(replace(g, "block0_values", H5T_NATIVE_DOUBLE, 2, dims, v));
}
static void e_values_flat(hid_t g) {
  double v[24] = {0};
  hsize_t dim = 24;
  H5Dclose(replace(g, "block0_values", H5T_NATIVE_DOUBLE, 1, &dim, v));
}
static void e_values_group(hid_t g) {
  must(H5Ldelete(g, "block0_values", H5P_DEFAULT), "del");
  hid_t sub = H5Gcreate2(g, "block0_values", H5P_DEFAULT, H5P_DEFAULT,
                         H5P_DEFAULT);
  H5Gclose(sub);
}
static void e_transposed_flag(hid_t g) {
  hid_t d = H5Dopen2(g, "block0_values", H5P_DEFAULT);
  uint8_t one = 1;
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(d, "transposed", H5T_STD_B8LE, s, H5P_DEFAULT,
                       H5P_DEFAULT);
  must(H5Awrite(a, H5T_NATIVE_B8, &one), "transposed");
  H5Aclose(a);
  H5Sclose(s);
  H5Dclose(d);
}
static void e_items_unknown(hid_t g) {
  strings_dataset(g, "block0_items", "id\0x\0\0z\0", 3, 3);
}
static void e_items_twice(hid_t g) {
  strings_dataset(g, "block1_items", "id", 1, 2);
}

typedef struct {
  const char *what;
  void (*edit)(hid_t group);
  rf_status want;
  const char *message;
} forgery;

static const forgery forgeries[] = {
    {"no pandas_type", e_no_type, RF_EUSAGE, "has no attribute 'pandas_type'"},
    {"table format", e_table, RF_EUSAGE, "only the fixed format is read"},
    {"a series", e_series, RF_EUSAGE, "pandas_type is 'series'"},
    {"long pandas_type", e_long_text, RF_EUSAGE, "not a short fixed-length"},
    {"ndim 3", e_ndim, RF_EUSAGE, "ndim is 3"},
    {"ndim as text", e_ndim_text, RF_EUSAGE, "'ndim' is not a scalar integer"},
    {"ndim empty", e_ndim_null, RF_EUSAGE, "'ndim' is not a scalar integer"},
    {"multi-index", e_multi, RF_EUSAGE, "'axis1_variety' is 'multi'"},
    {"no axis0", e_no_axis0, RF_EUSAGE, "it has no 'axis0'"},
    {"int index", e_axis1_ints, RF_EUSAGE, "'axis1' is not a 1-D array"},
    {"index kind", e_axis1_kind, RF_EUSAGE, "'kind' is 'integer'"},
    {"no index kind", e_axis1_no_kind, RF_EUSAGE, "has no attribute 'kind'"},
    {"vlen names", e_axis0_vlen, RF_EUSAGE, "of fixed-length strings"},
    {"column twice", e_axis0_twice, RF_EUSAGE, "'id' appears twice"},
    {"huge index", e_axis1_huge, RF_EUSAGE, "larger than a frame can be"},
    {"nblocks 3", e_nblocks_more, RF_EUSAGE,
     "no attribute 'block2_items_variety'"},
    {"nblocks 99", e_nblocks_huge, RF_EUSAGE, "nblocks is 99 for 4 columns"},
    {"nblocks 1", e_nblocks_less, RF_EUSAGE, "column 'n' is in no block"},
    {"int32 values", e_values_i32, RF_EUSAGE, "neither float64 nor int64"},
    {"uint64 values", e_values_u64, RF_EUSAGE, "neither float64 nor int64"},
    {"short values", e_values_shape, RF_EUSAGE,
     "'block0_values' is not [columns][rows] of 3 columns and 8 rows"},
    {"flat values", e_values_flat, RF_EUSAGE, "is not [columns][rows]"},
    {"values a group", e_values_group, RF_EUSAGE, "is not a dataset"},
    {"wrongly transposed", e_transposed_flag, RF_EUSAGE,
     "is not [rows][columns]"},
    {"unknown item", e_items_unknown, RF_EUSAGE, "'z', which is not in axis0"},
    {"item twice", e_items_twice, RF_EUSAGE, "'id', already in a block"},
};

static void test_malformed(void) {
  rf_frame *f = h5t_summary(1);
  const char *good = in_dir("good.h5"), *bad = in_dir("bad.h5");
  CHECK_OK(rf_frame_write_hdf5(good, "k", f, NULL, NULL));
  size_t n;
  unsigned char *bytes = slurp(good, &n);
  for (size_t i = 0; i < sizeof forgeries / sizeof *forgeries; i++) {
    const forgery *c = &forgeries[i];
    CHECK_INT(spill(bad, bytes, n), 0);
    hid_t file = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(file, "k", H5P_DEFAULT);
    c->edit(g);
    H5Gclose(g);
    H5Fclose(file);
    rf_frame *out = (rf_frame *)1;
    rf_status st = rf_frame_read_hdf5(bad, "k", &out);
    if (st != c->want || strstr(rf_last_error(), c->message) == NULL ||
        strstr(rf_last_error(), bad) == NULL || out != NULL) {
      fprintf(stderr, "%s: %s (%s), expected %s with '%s'\n", c->what,
              rf_status_name(st), rf_last_error(), rf_status_name(c->want),
              c->message);
      rf_test_failures++;
    }
    if (st == RF_OK) rf_frame_free(out);
  }
  /* The key names a dataset, or nothing. */
  CHECK_INT(spill(bad, bytes, n), 0);
  hid_t file = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
  hsize_t dim = 1;
  double one = 1;
  H5Dclose(replace(file, "plain", H5T_NATIVE_DOUBLE, 1, &dim, &one));
  H5Fclose(file);
  rf_frame *out = NULL;
  CHECK_STATUS(rf_frame_read_hdf5(bad, "plain", &out), RF_EUSAGE);
  CHECK_CONTAINS(rf_last_error(), "has no frame /plain (not a group)");
  CHECK_STATUS(rf_frame_read_hdf5(bad, "nokey", &out), RF_EUSAGE);
  CHECK_CONTAINS(rf_last_error(), "has no frame /nokey");
  free(bytes);
  rf_frame_free(f);
  clear_dir();
}

/* pandas' own layout: values [rows][columns] with a `transposed` bitfield
 * (pandas_frame_check.py --write makes one; forged here the same way). */
static void test_pandas_layout(void) {
  rf_frame *f = h5t_summary(1);
  const char *path = in_dir("t.h5");
  CHECK_OK(rf_frame_write_hdf5(path, "k", f, NULL, NULL));
  hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t g = H5Gopen2(file, "k", H5P_DEFAULT);
  for (int b = 0; b < 2; b++) {
    char name[32];
    snprintf(name, sizeof name, "block%d_values", b);
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t dims[2];
    H5Sget_simple_extent_dims(s, dims, NULL);
    uint64_t in[32], out[32];
    must(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, in), "read");
    for (hsize_t c = 0; c < dims[0]; c++) {
      for (hsize_t r = 0; r < dims[1]; r++) out[r * dims[0] + c] = in[c * dims[1] + r];
    }
    H5Sclose(s);
    H5Dclose(d);
    hsize_t tdims[2] = {dims[1], dims[0]};
    d = replace(g, name, t, 2, tdims, out);
    H5Tclose(t);
    H5Dclose(d);
    if (b == 0) {
      e_transposed_flag(g); /* pandas' bitfield */
    } else {
      d = H5Dopen2(g, name, H5P_DEFAULT);
      uint8_t one = 1;
      s = H5Screate(H5S_SCALAR);
      hid_t a = H5Acreate2(d, "transposed", H5T_NATIVE_UINT8, s, H5P_DEFAULT,
                           H5P_DEFAULT); /* an integer flag works too */
      must(H5Awrite(a, H5T_NATIVE_UINT8, &one), "transposed");
      H5Aclose(a);
      H5Sclose(s);
      H5Dclose(d);
    }
  }
  H5Gclose(g);
  H5Fclose(file);
  check_reads_as(path, "k", f, "pandas' transposed layout");
  rf_frame_free(f);
  clear_dir();
}

/* Every byte of every dataset's data damaged in turn (labels, names and
 * values become arbitrary bytes: duplicates, unknown items, NULs, invalid
 * UTF-8): any status, no crash, a frame only with RF_OK. Only the data:
 * damaged metadata tests HDF5's parser, which in 1.10.8 reads out of
 * bounds, leaks and asks for terabytes on some single-byte damages. */
static void test_damage(void) {
  static const char *const names[] = {"axis0",        "axis1",
                                      "block0_items", "block0_values",
                                      "block1_items", "block1_values"};
  rf_frame *f = h5t_summary(1);
  const char *path = in_dir("d.h5");
  CHECK_OK(rf_frame_write_hdf5(path, "k", f, NULL, NULL));
  haddr_t off[6];
  hsize_t len[6];
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t g = H5Gopen2(file, "k", H5P_DEFAULT);
  for (int i = 0; i < 6; i++) {
    hid_t d = H5Dopen2(g, names[i], H5P_DEFAULT);
    off[i] = H5Dget_offset(d);
    len[i] = H5Dget_storage_size(d);
    CHECK(off[i] != HADDR_UNDEF && len[i] > 0);
    H5Dclose(d);
  }
  H5Gclose(g);
  H5Fclose(file);
  size_t n;
  unsigned char *bytes = slurp(path, &n);
  int ok = 0, failed = 0;
  for (int i = 0; bytes != NULL && i < 6; i++) {
    for (hsize_t k = 0; k < len[i] && off[i] + k < n; k++) {
      unsigned char *b = bytes + off[i] + k, keep = *b;
      for (int v = 0; v < 3; v++) {
        *b = v == 0 ? keep ^ 0xff : v == 1 ? 0 : keep ^ 1;
        CHECK_INT(spill(path, bytes, n), 0);
        rf_frame *out = (rf_frame *)1;
        rf_status st = rf_frame_read_hdf5(path, "k", &out);
        if (st == RF_OK) {
          ok++;
          CHECK(out != NULL);
          rf_frame_free(out);
        } else {
          failed++;
          CHECK_STATUS(st, RF_EUSAGE);
          CHECK(out == NULL);
        }
      }
      *b = keep;
    }
  }
  printf("damage: %d reads, %d refused\n", ok, failed);
  CHECK(ok > 0 && failed > 0);
  free(bytes);
  rf_frame_free(f);
  clear_dir();
}

/* HDF5 objects open now in any file (files, groups, datasets, named
 * types, attributes). */
static long open_ids(void) {
  return (long)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
}

/* Run one test and check it left no HDF5 identifier open. */
static void run(void (*test)(void), const char *name) {
  long before = open_ids();
  test();
  long after = open_ids();
  if (after != before) {
    fprintf(stderr, "%s: %ld HDF5 identifiers open before, %ld after\n", name,
            before, after);
    rf_test_failures++;
  }
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/rf_h5_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  run(test_roundtrips, "test_roundtrips");
  run(test_attributes, "test_attributes");
  run(test_bad_keys, "test_bad_keys");
  run(test_bad_attrs, "test_bad_attrs");
  run(test_bad_paths, "test_bad_paths");
  run(test_replace, "test_replace");
  run(test_alloc_faults, "test_alloc_faults");
  run(test_malformed, "test_malformed");
  run(test_pandas_layout, "test_pandas_layout");
  run(test_damage, "test_damage");
  clear_dir();
  rmdir(dir);
  printf("test_h5_frame: %s (%d failed checks)\n", rf_test_failures ? "FAIL" : "PASS", rf_test_failures);
  return rf_test_failures ? 1 : 0;
}
