/* SPDX-License-Identifier: BSD-3-Clause */
/* test_codec_strict.c -- the decoder refuses every malformed message.
 *
 * Workers and rank 0 decode bytes sent by another rank; a corrupt or
 * hostile message must be RF_ECODEC with a message in rf_last_error(),
 * never a crash, a leak, or a huge allocation. Checked here: every proper
 * prefix of valid encodings; containers, strings and bins that declare far
 * more items or bytes than the message holds (no allocation may happen
 * before the error); type bytes that are not values (0xc1, ext types),
 * map keys that are not strings, uint64 above INT64_MAX, NUL in strings
 * and keys, trailing bytes, duplicate map keys, nesting deeper than
 * RF_MAX_DEPTH, and the rf__read_* primitives on the same inputs.
 */
#include <stdlib.h>

#include "data/data.h"
#include "rf_test.h"

/* Decode must fail with RF_ECODEC, leave *out NULL, say why, and make at
 * most max_allocs allocations (each freed: LeakSanitizer checks that). */
static void expect_codec_n(const uint8_t *data, size_t len, long max_allocs,
                           const char *what) {
  rf_value *v = (rf_value *)(void *)&v; /* poison: must be reset to NULL */
  rf__error_clear();
  long before = rf__alloc_count();
  rf_status st = rf__value_decode(data, len, &v);
  long allocs = rf__alloc_count() - before;
  if (st != RF_ECODEC) {
    fprintf(stderr, "%s: decode gave %s, expected ECODEC\n", what,
            rf_status_name(st));
    rf_test_failures++;
    if (st == RF_OK) rf_value_free(v);
    return;
  }
  if (v != NULL) {
    fprintf(stderr, "%s: failed decode left *out non-NULL\n", what);
    rf_test_failures++;
  }
  if (rf_last_error()[0] == '\0') {
    fprintf(stderr, "%s: no message in rf_last_error()\n", what);
    rf_test_failures++;
  }
  if (allocs > max_allocs) {
    fprintf(stderr, "%s: %ld allocations before failing, expected <= %ld\n",
            what, allocs, max_allocs);
    rf_test_failures++;
  }
}

/* Malformed inputs here are at most a few values long: a handful of
 * allocations (nodes, item arrays, keys) is all a decoder may make. */
static void expect_codec(const uint8_t *data, size_t len, const char *what) {
  expect_codec_n(data, len, 8, what);
}

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__})
#define EXPECT(what, ...)                                                   \
  expect_codec(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)), what)

static void expect_ok(const uint8_t *data, size_t len, const char *what) {
  rf_value *v = NULL;
  rf_status st = rf__value_decode(data, len, &v);
  if (st != RF_OK) {
    fprintf(stderr, "%s: decode gave %s (%s), expected OK\n", what,
            rf_status_name(st), rf_last_error());
    rf_test_failures++;
  }
  rf_value_free(v);
}

/* ---- truncation ---------------------------------------------------------- */

static rf_value *sample(void) {
  rf_value *root = rf_value_map();
  rf_value *l = rf_value_list();
  CHECK_OK(rf_value_list_append(l, rf_value_int(INT64_MIN)));
  CHECK_OK(rf_value_list_append(l, rf_value_int(70000)));
  CHECK_OK(rf_value_list_append(l, rf_value_int(-200)));
  CHECK_OK(rf_value_list_append(l, rf_value_double(-0.0)));
  CHECK_OK(rf_value_list_append(l, rf_value_bool(1)));
  CHECK_OK(rf_value_list_append(l, rf_value_null()));
  CHECK_OK(rf_value_list_append(l, rf_value_bytes("\0\1", 2)));
  CHECK_OK(rf_value_list_append(l, rf_value_list()));
  CHECK_OK(rf_value_list_append(l, rf_value_map()));
  CHECK_OK(rf_value_map_set(root, "list", l));
  CHECK_OK(rf_value_map_set(root, "", rf_value_string("")));
  rf_value *inner = rf_value_map();
  CHECK_OK(rf_value_map_set(inner, "s", rf_value_string("hello")));
  CHECK_OK(rf_value_map_set(root, "inner", inner));
  return root;
}

static void truncate_all(rf_value *v, const char *what) {
  rf_buf b = {0};
  CHECK_OK(rf__value_encode(v, &b));
  expect_ok(b.data, b.len, what);
  /* A copy of exactly len bytes, so ASan catches any read past a prefix. */
  for (size_t n = 0; n < b.len; n++) {
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, b.data, n);
    char w[96];
    snprintf(w, sizeof w, "%s cut to %zu of %zu bytes", what, n, b.len);
    expect_codec_n(p, n, 64, w);
    free(p);
  }
  rf__buf_free(&b);
  rf_value_free(v);
}

static void test_truncation(void) {
  truncate_all(sample(), "nested map");
  truncate_all(rf_value_int(INT64_MAX), "uint64");
  truncate_all(rf_value_int(-40000), "int32");
  truncate_all(rf_value_double(1e300), "double");
  char s[300];
  memset(s, 'x', sizeof s);
  truncate_all(rf_value_string_n(s, 20), "fixstr");
  truncate_all(rf_value_string_n(s, 200), "str8");
  truncate_all(rf_value_string_n(s, 300), "str16");
  truncate_all(rf_value_bytes(s, 300), "bin16");
  EXPECT("float32 cut", 0xca, 0x3f, 0xc0, 0x00);
  EXPECT("str32 cut", 0xdb, 0x00, 0x00, 0x00, 0x01);
  EXPECT("bin32 header cut", 0xc6, 0x00, 0x00);
}

/* ---- declared sizes larger than the message ------------------------------ */

/* A container or string header claiming more than the message holds must
 * fail before anything is allocated: no allocation at all (counted), and
 * still RF_ECODEC (not RF_ENOMEM) when every allocation would fail. */
static void expect_codec_no_alloc(const uint8_t *data, size_t len,
                                  const char *what) {
  expect_codec_n(data, len, 0, what);
  rf__alloc_fail_after(0, 1);
  rf_value *v = NULL;
  rf_status st = rf__value_decode(data, len, &v);
  rf__alloc_fail_after(-1, 0);
  if (st != RF_ECODEC) {
    fprintf(stderr, "%s: with allocation failing, gave %s, expected ECODEC\n",
            what, rf_status_name(st));
    rf_test_failures++;
  }
  rf_value_free(v);
}
#define EXPECT_NO_ALLOC(what, ...)                                          \
  expect_codec_no_alloc(BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)), what)

static void test_huge_counts(void) {
  EXPECT_NO_ALLOC("array32 of 0xffffffff", 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0,
                  0xc0, 0xc0);
  EXPECT_NO_ALLOC("array32 of 0x7fffffff", 0xdd, 0x7f, 0xff, 0xff, 0xff, 0x01);
  EXPECT_NO_ALLOC("array16 of 65535", 0xdc, 0xff, 0xff, 0x01, 0x02, 0x03);
  EXPECT_NO_ALLOC("fixarray of 15 with 3", 0x9f, 0x01, 0x02, 0x03);
  EXPECT_NO_ALLOC("map32 of 0xffffffff", 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1,
                  0x61, 0x01);
  EXPECT_NO_ALLOC("map16 of 65535", 0xde, 0xff, 0xff, 0xa1, 0x61, 0x01);
  /* A map of n pairs needs 2n bytes: 2 pairs cannot fit in 3 bytes. */
  EXPECT_NO_ALLOC("fixmap of 2 with 3 bytes", 0x82, 0xa0, 0xc0, 0xc0);
  EXPECT_NO_ALLOC("str32 of 0xffffffff", 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61,
                  0x62);
  EXPECT_NO_ALLOC("str16 of 65535", 0xda, 0xff, 0xff, 0x61);
  EXPECT_NO_ALLOC("str8 of 255", 0xd9, 0xff, 0x61);
  EXPECT_NO_ALLOC("fixstr of 31 with 1", 0xbf, 0x61);
  EXPECT_NO_ALLOC("bin32 of 0xffffffff", 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00);
  EXPECT_NO_ALLOC("bin16 of 65535", 0xc5, 0xff, 0xff, 0x00);
  EXPECT_NO_ALLOC("bin8 of 255", 0xc4, 0xff, 0x00);

  /* Inside an outer container: the outer one may allocate its node and
   * item array, nothing sized by the inner count. */
  EXPECT("array32 inside a list", 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0);
  EXPECT("map32 inside a map", 0x81, 0xa1, 0x6b, 0xdf, 0xff, 0xff, 0xff,
         0xff, 0xc0);
  EXPECT("str32 as a map key", 0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61);
  EXPECT("bin32 inside a list", 0x92, 0xc0, 0xc6, 0xff, 0xff, 0xff, 0xff);
}

/* ---- bytes that are not values -------------------------------------------- */

static void test_ill_typed(void) {
  EXPECT("0xc1 (never used)", 0xc1);
  EXPECT("0xc1 in a list", 0x92, 0x01, 0xc1);
  EXPECT("fixext1", 0xd4, 0x01, 0x00);
  EXPECT("fixext2", 0xd5, 0x01, 0x00, 0x00);
  EXPECT("fixext4", 0xd6, 0x01, 0x00, 0x00, 0x00, 0x00);
  EXPECT("fixext8", 0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0);
  EXPECT("fixext16", 0xd8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
         0);
  EXPECT("fixext timestamp (-1)", 0xd6, 0xff, 0x00, 0x00, 0x00, 0x00);
  EXPECT("ext8", 0xc7, 0x01, 0x01, 0x00);
  EXPECT("ext16", 0xc8, 0x00, 0x01, 0x01, 0x00);
  EXPECT("ext32", 0xc9, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00);
  EXPECT("ext8 in a map value", 0x81, 0xa1, 0x61, 0xc7, 0x00, 0x01);

  EXPECT("int map key", 0x81, 0x01, 0x01);
  EXPECT("nil map key", 0x81, 0xc0, 0x01);
  EXPECT("bool map key", 0x81, 0xc3, 0x01);
  EXPECT("double map key", 0x81, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0x01);
  EXPECT("bin map key", 0x81, 0xc4, 0x01, 0x61, 0x01);
  EXPECT("array map key", 0x81, 0x91, 0x01, 0x01);
  EXPECT("map map key", 0x81, 0x80, 0x01);
  EXPECT("second key not a string", 0x82, 0xa1, 0x61, 0x01, 0x02, 0x02);

  EXPECT("uint64 INT64_MAX+1", 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0);
  EXPECT("uint64 max", 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  EXPECT("uint64 above range in a list", 0x91, 0xcf, 0x80, 0, 0, 0, 0, 0, 0,
         0x01);
  expect_ok(BYTES(0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 9,
            "uint64 INT64_MAX");

  EXPECT("trailing nil", 0xc0, 0xc0);
  EXPECT("trailing byte after an int", 0x01, 0x00);
  EXPECT("trailing after a list", 0x90, 0x90);
  EXPECT("trailing after a string", 0xa1, 0x61, 0x00);
  EXPECT("trailing after a map", 0x81, 0xa1, 0x61, 0x01, 0xc1);

  EXPECT("NUL inside a fixstr", 0xa3, 0x61, 0x00, 0x62);
  EXPECT("NUL at the end of a string", 0xa2, 0x61, 0x00);
  EXPECT("NUL-only string", 0xa1, 0x00);
  EXPECT("NUL inside a str8", 0xd9, 0x03, 0x61, 0x00, 0x62);
  EXPECT("NUL inside a map key", 0x81, 0xa2, 0x61, 0x00, 0x01);
  expect_ok(BYTES(0xc4, 0x03, 0x61, 0x00, 0x62), 5, "NUL inside bin");

  /* Duplicate keys: rf_value_map_set can never build such a map, lookup
   * would see the first entry and rf_value_copy keeps only the last, so a
   * strict decoder must refuse it. */
  EXPECT("duplicate map key", 0x82, 0xa1, 0x61, 0x01, 0xa1, 0x61, 0x02);
  EXPECT("duplicate empty key", 0x83, 0xa0, 0x01, 0xa1, 0x62, 0x02, 0xa0,
         0x03);

  /* Larger than the largest message: refused on the length alone, without
   * reading the bytes (only 1 byte is really there). */
  static const uint8_t one = 0xc0;
  expect_codec_n(&one, RF_MAX_MESSAGE + 1, 0, "message over RF_MAX_MESSAGE");
}

/* ---- nesting -------------------------------------------------------------- */

/* n arrays (or maps with key "k") nested, the innermost empty. */
static uint8_t *nested(size_t n, int maps, size_t *len) {
  uint8_t *p = malloc(3 * n + 1), *q = p;
  for (size_t i = 0; i + 1 < n; i++) {
    if (maps) {
      *q++ = 0x81;
      *q++ = 0xa1;
      *q++ = 'k';
    } else {
      *q++ = 0x91;
    }
  }
  *q++ = maps ? 0x80 : 0x90;
  *len = (size_t)(q - p);
  return p;
}

static void test_depth(void) {
  for (int maps = 0; maps <= 1; maps++) {
    size_t len;
    uint8_t *p = nested(RF_MAX_DEPTH, maps, &len);
    expect_ok(p, len, maps ? "maps RF_MAX_DEPTH deep" : "lists RF_MAX_DEPTH deep");
    free(p);
    p = nested(RF_MAX_DEPTH + 2, maps, &len);
    expect_codec_n(p, len, 4 * (RF_MAX_DEPTH + 2),
                   maps ? "maps RF_MAX_DEPTH+2 deep" : "lists RF_MAX_DEPTH+2 deep");
    free(p);
    /* Far deeper: must fail at the limit, not overflow the stack. */
    p = nested(100000, maps, &len);
    expect_codec_n(p, len, 4 * (RF_MAX_DEPTH + 2),
                   maps ? "maps 100000 deep" : "lists 100000 deep");
    free(p);
  }
  /* The writer's limit and the reader's agree: one level past what both
   * surely accept, either both accept or both refuse. */
  size_t len;
  uint8_t *p = nested(RF_MAX_DEPTH + 1, 0, &len);
  rf_value *v = NULL;
  rf_status st = rf__value_decode(p, len, &v);
  CHECK(st == RF_OK || st == RF_ECODEC);
  if (st == RF_OK) {
    rf_buf b = {0};
    CHECK_OK(rf__value_encode(v, &b));
    CHECK(b.len == len && memcmp(b.data, p, len) == 0);
    rf__buf_free(&b);
  }
  rf_value_free(v);
  free(p);
}

/* ---- the reader primitives ------------------------------------------------ */

static void test_readers(void) {
  rf_reader r;
  uint32_t n = 0;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  const char *s = NULL;
  size_t len = 0;
  const uint8_t *raw = NULL;

  rf__reader_init(&r, BYTES(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01), 6);
  CHECK_STATUS(rf__read_array(&r, &n), RF_ECODEC);
  rf__reader_init(&r, BYTES(0xa1, 0x61), 2);
  CHECK_STATUS(rf__read_array(&r, &n), RF_ECODEC);
  rf__reader_init(&r, BYTES(0x92, 0x01, 0x02), 3);
  CHECK_OK(rf__read_array(&r, &n));
  CHECK_INT(n, 2);

  rf__reader_init(&r, BYTES(0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0), 9);
  CHECK_STATUS(rf__read_int(&r, &i), RF_ECODEC);
  rf__reader_init(&r, BYTES(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff), 9);
  CHECK_OK(rf__read_uint(&r, &u));
  CHECK(u == UINT64_MAX);
  rf__reader_init(&r, BYTES(0xff), 1);
  CHECK_STATUS(rf__read_uint(&r, &u), RF_ECODEC); /* negative */
  rf__reader_init(&r, BYTES(0xd3, 0x00), 2);
  CHECK_STATUS(rf__read_int(&r, &i), RF_ECODEC);
  rf__reader_init(&r, BYTES(0xc0), 1);
  CHECK_STATUS(rf__read_int(&r, &i), RF_ECODEC);
  rf__reader_init(&r, BYTES(0x01), 1);
  CHECK_STATUS(rf__read_double(&r, &d), RF_ECODEC);
  rf__reader_init(&r, BYTES(0xcb, 0x00), 2);
  CHECK_STATUS(rf__read_double(&r, &d), RF_ECODEC);

  rf__reader_init(&r, BYTES(0xa3, 0x61, 0x00, 0x62), 4);
  CHECK_STATUS(rf__read_str(&r, &s, &len), RF_ECODEC);
  rf__reader_init(&r, BYTES(0xc4, 0x01, 0x61), 3);
  CHECK_STATUS(rf__read_str(&r, &s, &len), RF_ECODEC);
  rf__reader_init(&r, BYTES(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61), 6);
  CHECK_STATUS(rf__read_str(&r, &s, &len), RF_ECODEC);
  rf__reader_init(&r, BYTES(0x00), 0);
  CHECK_STATUS(rf__read_str(&r, &s, &len), RF_ECODEC);

  /* rf__read_raw checks the same things as decoding, without building. */
  rf__reader_init(&r, BYTES(0x92, 0x01, 0xc1), 3);
  CHECK_STATUS(rf__read_raw(&r, &raw, &len), RF_ECODEC);
  rf__reader_init(&r, BYTES(0x81, 0x01, 0x01), 3);
  CHECK_STATUS(rf__read_raw(&r, &raw, &len), RF_ECODEC);
  rf__reader_init(&r, BYTES(0x91, 0xdd, 0xff, 0xff, 0xff, 0xff), 6);
  CHECK_STATUS(rf__read_raw(&r, &raw, &len), RF_ECODEC);
  size_t dlen;
  uint8_t *deep = nested(100000, 0, &dlen);
  rf__reader_init(&r, deep, dlen);
  CHECK_STATUS(rf__read_raw(&r, &raw, &len), RF_ECODEC);
  free(deep);
  rf__reader_init(&r, BYTES(0x92, 0x01, 0xa1, 0x61, 0xc0), 5);
  CHECK_OK(rf__read_raw(&r, &raw, &len));
  CHECK_INT(len, 4);
}

int main(void) {
  test_truncation();
  test_huge_counts();
  test_ill_typed();
  test_depth();
  test_readers();
  printf("test_codec_strict: %s (%d failed checks)\n",
         rf_test_failures ? "FAIL" : "PASS", rf_test_failures);
  return rf_test_failures ? 1 : 0;
}
