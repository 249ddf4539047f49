/* SPDX-License-Identifier: BSD-3-Clause */
/* frame.c -- small columnar frames: typed columns and a string index.
 *
 * A frame is what a summary looks like (describe(): rows count..max,
 * columns id, x, y). It is a value, so a task can return one; the codec
 * carries it as a msgpack extension whose body holds the labels and, per
 * column, its name, type and values as raw little-endian bytes, so a frame
 * crosses ranks bit for bit. Frames are small (rows are statistics, not
 * data): everything is copied, nothing is shared.
 */
#include "data.h"

#include <math.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "frames are carried as little-endian bytes; add byte swapping here"
#endif

typedef struct {
  char *name;
  rf_column_type type;
  void *data; /* nrows doubles or int64s */
} column;

struct rf_frame {
  size_t nrows, ncols, capcols;
  char **labels;
  column *cols;
};

rf_status rf_frame_create(size_t nrows, rf_frame **out) {
  *out = NULL;
  rf_frame *f = rf__calloc(1, sizeof *f);
  if (f == NULL) return rf__error(RF_ENOMEM, "creating a frame");
  f->nrows = nrows;
  f->labels = rf__calloc(nrows ? nrows : 1, sizeof *f->labels);
  if (f->labels == NULL) {
    rf__free(f);
    return rf__error(RF_ENOMEM, "creating a frame of %zu rows", nrows);
  }
  *out = f;
  return RF_OK;
}

void rf_frame_free(rf_frame *f) {
  if (f == NULL) return;
  for (size_t i = 0; i < f->nrows; i++) rf__free(f->labels[i]);
  for (size_t c = 0; c < f->ncols; c++) {
    rf__free(f->cols[c].name);
    rf__free(f->cols[c].data);
  }
  rf__free(f->labels);
  rf__free(f->cols);
  rf__free(f);
}

rf_status rf_frame_set_label(rf_frame *f, size_t row, const char *label) {
  RF_ENSURE(row < f->nrows && label != NULL, RF_EINVAL,
            "rf_frame_set_label: row %zu of %zu, or no label", row, f->nrows);
  char *copy = rf__strdup(label);
  if (copy == NULL) return rf__error(RF_ENOMEM, "copying a frame label");
  rf__free(f->labels[row]);
  f->labels[row] = copy;
  return RF_OK;
}

static rf_status add(rf_frame *f, const char *name, rf_column_type type,
                     const void *values) {
  RF_ENSURE(name != NULL, RF_EINVAL, "a frame column needs a name");
  for (size_t c = 0; c < f->ncols; c++) {
    RF_ENSURE(strcmp(f->cols[c].name, name) != 0, RF_EINVAL,
              "frame column '%s' added twice", name);
  }
  if (f->ncols == f->capcols) {
    size_t cap = f->capcols ? f->capcols * 2 : 4;
    column *cols = rf__realloc(f->cols, cap * sizeof *cols);
    if (cols == NULL) return rf__error(RF_ENOMEM, "adding a frame column");
    f->cols = cols;
    f->capcols = cap;
  }
  size_t bytes = f->nrows * 8; /* both types are 8 bytes wide */
  column col = {rf__strdup(name), type, rf__malloc(bytes ? bytes : 1)};
  if (col.name == NULL || col.data == NULL) {
    rf__free(col.name);
    rf__free(col.data);
    return rf__error(RF_ENOMEM, "adding a frame column");
  }
  if (bytes) memcpy(col.data, values, bytes);
  f->cols[f->ncols++] = col;
  return RF_OK;
}

rf_status rf_frame_add_f64(rf_frame *f, const char *name, const double *v) {
  return add(f, name, RF_COLUMN_F64, v);
}

rf_status rf_frame_add_i64(rf_frame *f, const char *name, const int64_t *v) {
  return add(f, name, RF_COLUMN_I64, v);
}

size_t rf_frame_rows(const rf_frame *f) { return f->nrows; }
size_t rf_frame_columns(const rf_frame *f) { return f->ncols; }

const char *rf_frame_label(const rf_frame *f, size_t row) {
  if (row >= f->nrows) return NULL;
  return f->labels[row] ? f->labels[row] : "";
}

const char *rf_frame_column_name(const rf_frame *f, size_t col) {
  return col < f->ncols ? f->cols[col].name : NULL;
}

rf_column_type rf_frame_column_type(const rf_frame *f, size_t col) {
  return col < f->ncols ? f->cols[col].type : RF_COLUMN_F64;
}

const double *rf_frame_f64(const rf_frame *f, size_t col) {
  if (col >= f->ncols || f->cols[col].type != RF_COLUMN_F64) return NULL;
  return f->cols[col].data;
}

const int64_t *rf_frame_i64(const rf_frame *f, size_t col) {
  if (col >= f->ncols || f->cols[col].type != RF_COLUMN_I64) return NULL;
  return f->cols[col].data;
}

int rf_frame_equal(const rf_frame *a, const rf_frame *b) {
  if (a == NULL || b == NULL) return a == b;
  if (a->nrows != b->nrows || a->ncols != b->ncols) return 0;
  for (size_t i = 0; i < a->nrows; i++) {
    if (strcmp(rf_frame_label(a, i), rf_frame_label(b, i)) != 0) return 0;
  }
  for (size_t c = 0; c < a->ncols; c++) {
    if (strcmp(a->cols[c].name, b->cols[c].name) != 0 ||
        a->cols[c].type != b->cols[c].type ||
        memcmp(a->cols[c].data, b->cols[c].data, a->nrows * 8) != 0) {
      return 0;
    }
  }
  return 1;
}

rf_frame *rf_frame_copy(const rf_frame *f) {
  rf_frame *c;
  if (f == NULL || rf_frame_create(f->nrows, &c) != RF_OK) return NULL;
  for (size_t i = 0; i < f->nrows; i++) {
    if (f->labels[i] && rf_frame_set_label(c, i, f->labels[i]) != RF_OK) {
      rf_frame_free(c);
      return NULL;
    }
  }
  for (size_t k = 0; k < f->ncols; k++) {
    if (add(c, f->cols[k].name, f->cols[k].type, f->cols[k].data) != RF_OK) {
      rf_frame_free(c);
      return NULL;
    }
  }
  return c;
}

/* ---- printing as pandas does --------------------------------------------
 * pandas 1.5 (io/formats/format.py) formats a float column as "% .6f" with
 * trailing zeros trimmed alike across the column (leaving one), unless a
 * value is tiny (0 < |v| < 1e-6) or the column is long (over 12 chars) with
 * a large value (|v| > 1e6): then "% .6e". Integers are "% d", NaN is
 * "NaN". Cells are right-justified to the column's width (its name
 * included) and columns joined by one space; labels are left-justified. */

#define CELL 48

/* A number with a decimal point and no exponent: what pandas trims. */
static int trimmable(const char *s) {
  while (*s == ' ') s++;
  if (*s == '-' || *s == '+') s++;
  if (*s < '0' || *s > '9') return 0;
  while (*s >= '0' && *s <= '9') s++;
  if (*s++ != '.') return 0;
  while (*s >= '0' && *s <= '9') s++;
  return *s == '\0';
}

static void format_floats(const double *v, size_t n, char (*cells)[CELL],
                          int sci) {
  for (size_t i = 0; i < n; i++) {
    if (isnan(v[i])) snprintf(cells[i], CELL, "NaN");
    else snprintf(cells[i], CELL, sci ? "% .6e" : "% .6f", v[i]);
  }
  if (sci) return;
  for (;;) { /* trim a zero from every number while all end in one */
    int any = 0, all = 1;
    for (size_t i = 0; i < n; i++) {
      if (!trimmable(cells[i])) continue;
      any = 1;
      size_t len = strlen(cells[i]);
      if (cells[i][len - 1] != '0') all = 0;
    }
    if (!any || !all) break;
    for (size_t i = 0; i < n; i++) {
      if (trimmable(cells[i])) cells[i][strlen(cells[i]) - 1] = '\0';
    }
  }
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(cells[i]);
    if (trimmable(cells[i]) && cells[i][len - 1] == '.') {
      cells[i][len] = '0';
      cells[i][len + 1] = '\0';
    }
  }
}

static void format_column(const rf_frame *f, size_t c, char (*cells)[CELL]) {
  if (f->cols[c].type == RF_COLUMN_I64) {
    const int64_t *v = f->cols[c].data;
    for (size_t i = 0; i < f->nrows; i++) {
      snprintf(cells[i], CELL, "% lld", (long long)v[i]);
    }
    return;
  }
  const double *v = f->cols[c].data;
  format_floats(v, f->nrows, cells, 0);
  size_t maxlen = 0;
  int large = 0, small = 0;
  for (size_t i = 0; i < f->nrows; i++) {
    size_t len = strlen(cells[i]);
    if (len > maxlen) maxlen = len;
    double a = fabs(v[i]);
    if (a > 1e6) large = 1; /* NaN compares false; inf is large */
    if (a > 0 && a < 1e-6) small = 1;
  }
  if (small || (maxlen > 12 && large)) format_floats(v, f->nrows, cells, 1);
}

rf_status rf_frame_print(const rf_frame *f, FILE *out) {
  size_t lw = 0;
  for (size_t i = 0; i < f->nrows; i++) {
    size_t n = strlen(rf_frame_label(f, i));
    if (n > lw) lw = n;
  }
  size_t ncells = (f->nrows ? f->nrows : 1) * (f->ncols ? f->ncols : 1);
  char (*cells)[CELL] = rf__calloc(ncells, sizeof *cells);
  size_t *width = rf__calloc(f->ncols ? f->ncols : 1, sizeof *width);
  if (cells == NULL || width == NULL) {
    rf__free(cells);
    rf__free(width);
    return rf__error(RF_ENOMEM, "printing a frame");
  }
  for (size_t c = 0; c < f->ncols; c++) {
    format_column(f, c, cells + c * f->nrows);
    width[c] = strlen(f->cols[c].name);
    for (size_t i = 0; i < f->nrows; i++) {
      size_t n = strlen(cells[c * f->nrows + i]);
      if (n > width[c]) width[c] = n;
    }
  }
  int bad = fprintf(out, "%*s", (int)lw, "") < 0;
  for (size_t c = 0; c < f->ncols; c++) {
    bad |= fprintf(out, " %*s", (int)width[c], f->cols[c].name) < 0;
  }
  bad |= fputc('\n', out) == EOF;
  for (size_t i = 0; i < f->nrows; i++) {
    bad |= fprintf(out, "%-*s", (int)lw, rf_frame_label(f, i)) < 0;
    for (size_t c = 0; c < f->ncols; c++) {
      bad |= fprintf(out, " %*s", (int)width[c], cells[c * f->nrows + i]) < 0;
    }
    bad |= fputc('\n', out) == EOF;
  }
  rf__free(cells);
  rf__free(width);
  if (bad || fflush(out) != 0) return rf__error(RF_EIO, "printing a frame");
  return RF_OK;
}

/* ---- as a value, and on the wire ----------------------------------------- */

rf_value *rf_value_frame(rf_frame *frame) {
  if (frame == NULL) return NULL;
  rf_value *v = rf__calloc(1, sizeof *v);
  if (v == NULL) {
    rf_frame_free(frame);
    return NULL;
  }
  v->type = RF_VALUE_FRAME;
  v->u.frame = frame;
  return v;
}

rf_status rf_value_get_frame(const rf_value *v, const rf_frame **out) {
  RF_ENSURE(rf_value_type_of(v) == RF_VALUE_FRAME, RF_EINVAL,
            "expected frame, got %s", rf_value_type_name(rf_value_type_of(v)));
  *out = v->u.frame;
  return RF_OK;
}

/* Body of the frame extension: [[labels...], [[name, type, bin], ...]]. */
rf_status rf__frame_pack(msgpack_packer *pk, const rf_frame *f) {
  rf_buf body = {0};
  msgpack_packer bp;
  rf__buf_packer(&body, &bp);
  (void)msgpack_pack_array(&bp, 2);
  (void)msgpack_pack_array(&bp, (uint32_t)f->nrows);
  for (size_t i = 0; i < f->nrows; i++) {
    const char *l = rf_frame_label(f, i);
    (void)msgpack_pack_str_with_body(&bp, l, strlen(l));
  }
  (void)msgpack_pack_array(&bp, (uint32_t)f->ncols);
  for (size_t c = 0; c < f->ncols; c++) {
    (void)msgpack_pack_array(&bp, 3);
    (void)msgpack_pack_str_with_body(&bp, f->cols[c].name,
                                     strlen(f->cols[c].name));
    (void)msgpack_pack_uint32(&bp, (uint32_t)f->cols[c].type);
    (void)msgpack_pack_bin_with_body(&bp, f->cols[c].data, f->nrows * 8);
  }
  int rc = body.oom ? -1
                    : msgpack_pack_ext_with_body(pk, body.data, body.len,
                                                 RF__EXT_FRAME);
  rf__buf_free(&body);
  return rc == 0 ? RF_OK : rf__error(RF_ENOMEM, "encoding a frame");
}

rf_status rf__frame_unpack(const uint8_t *p, size_t len, rf_frame **out) {
  rf_reader r;
  uint32_t n, rows, cols, fields;
  const char *s;
  size_t slen;
  rf_frame *f = NULL;
  rf_status st;
  *out = NULL;
  rf__reader_init(&r, p, len);
  RF_CHECK(rf__read_array(&r, &n));
  RF_ENSURE(n == 2, RF_ECODEC, "malformed message: frame of %u parts", n);
  RF_CHECK(rf__read_array(&r, &rows));
  RF_CHECK(rf_frame_create(rows, &f));
  for (uint32_t i = 0; i < rows; i++) {
    RF_CHECK_GOTO(rf__read_str(&r, &s, &slen), st, fail);
    f->labels[i] = rf__strndup(s, slen);
    if (f->labels[i] == NULL) {
      st = rf__error(RF_ENOMEM, "decoding a frame");
      goto fail;
    }
  }
  RF_CHECK_GOTO(rf__read_array(&r, &cols), st, fail);
  /* Frames are summaries: a cap keeps the duplicate-name check cheap. */
  if (cols > RF_FRAME_MAX_COLUMNS) {
    st = rf__error(RF_ECODEC, "malformed message: frame of %u columns", cols);
    goto fail;
  }
  for (uint32_t c = 0; c < cols; c++) {
    uint64_t type;
    const char *data;
    size_t dlen;
    char name[256];
    RF_CHECK_GOTO(rf__read_array(&r, &fields), st, fail);
    if (fields != 3) {
      st = rf__error(RF_ECODEC, "malformed message: frame column");
      goto fail;
    }
    RF_CHECK_GOTO(rf__read_str(&r, &s, &slen), st, fail);
    RF_CHECK_GOTO(rf__read_uint(&r, &type), st, fail);
    RF_CHECK_GOTO(rf__read_bin(&r, &data, &dlen), st, fail);
    if (slen >= sizeof name || type > RF_COLUMN_I64 || dlen != (size_t)rows * 8) {
      st = rf__error(RF_ECODEC, "malformed message: frame column of %zu bytes",
                     dlen);
      goto fail;
    }
    memcpy(name, s, slen);
    name[slen] = '\0';
    st = add(f, name, (rf_column_type)type, data);
    if (st == RF_EINVAL) st = rf__error(RF_ECODEC, "malformed message: %s",
                                        rf_last_error());
    if (st != RF_OK) goto fail;
  }
  if (r.p != r.end) {
    st = rf__error(RF_ECODEC, "malformed message: trailing bytes in a frame");
    goto fail;
  }
  *out = f;
  return RF_OK;
fail:
  rf_frame_free(f);
  return st;
}
