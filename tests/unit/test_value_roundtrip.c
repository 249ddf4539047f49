/* SPDX-License-Identifier: BSD-3-Clause */
/* test_value_roundtrip.c -- every kind of value survives encode + decode.
 *
 * Arguments and results cross ranks as msgpack bytes, so a value that does
 * not come back rf_value_equal from rf__value_encode/rf__value_decode is a
 * wrong task input on another rank. Covered: null, bool, int64 at every
 * msgpack width boundary and INT64_MIN/MAX, doubles bit for bit (-0.0, NaN
 * payloads, inf), strings and bytes at every length boundary (empty, long
 * > 65535, embedded NULs in bytes), lists, maps in insertion order, nesting
 * up to RF_MAX_DEPTH. Also the public accessors and their type checks,
 * rf_value_map_set replacing, rf_value_copy, rf_value_equal, and that a
 * future cannot be encoded in RF_PACK_PLAIN mode.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "data/data.h"
#include "rf_test.h"

/* Encode v, check the encoding is `want_len` bytes (0: any), decode it and
 * check the result equals v. Takes v. */
static void roundtrip_len(rf_value *v, size_t want_len, const char *what) {
  rf_buf b = {0};
  rf_value *back = NULL;
  if (v == NULL) {
    fprintf(stderr, "%s: constructor returned NULL\n", what);
    rf_test_failures++;
    return;
  }
  rf_status st = rf__value_encode(v, &b);
  if (st != RF_OK) {
    fprintf(stderr, "%s: encode gave %s (%s)\n", what, rf_status_name(st),
            rf_last_error());
    rf_test_failures++;
  } else {
    if (want_len && b.len != want_len) {
      fprintf(stderr, "%s: encoded in %zu bytes, expected %zu\n", what, b.len,
              want_len);
      rf_test_failures++;
    }
    st = rf__value_decode(b.data, b.len, &back);
    if (st != RF_OK) {
      fprintf(stderr, "%s: decode gave %s (%s)\n", what, rf_status_name(st),
              rf_last_error());
      rf_test_failures++;
    } else if (!rf_value_equal(v, back)) {
      fprintf(stderr, "%s: decoded value differs\n", what);
      rf_test_failures++;
    }
  }
  rf_value_free(back);
  rf_value_free(v);
  rf__buf_free(&b);
}

static void roundtrip(rf_value *v, const char *what) {
  roundtrip_len(v, 0, what);
}

static uint64_t bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static double from_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void test_scalars(void) {
  roundtrip_len(rf_value_null(), 1, "null");
  roundtrip_len(rf_value_bool(0), 1, "false");
  roundtrip_len(rf_value_bool(1), 1, "true");

  /* rf_value_bool normalises any non-zero int to 1. */
  rf_value *b = rf_value_bool(42);
  int bv = -1;
  CHECK_OK(rf_value_get_bool(b, &bv));
  CHECK_INT(bv, 1);
  rf_value_free(b);
}

static void test_ints(void) {
  /* Value and the size of its shortest msgpack encoding. */
  static const struct {
    int64_t i;
    size_t len;
  } cases[] = {
      {0, 1},
      {1, 1},
      {127, 1},                    /* positive fixint max */
      {128, 2},                    /* uint8 */
      {255, 2},
      {256, 3},                    /* uint16 */
      {65535, 3},
      {65536, 5},                  /* uint32 */
      {INT64_C(4294967295), 5},
      {INT64_C(4294967296), 9},    /* uint64 */
      {INT64_MAX, 9},
      {-1, 1},
      {-32, 1},                    /* negative fixint min */
      {-33, 2},                    /* int8 */
      {-128, 2},
      {-129, 3},                   /* int16 */
      {-32768, 3},
      {-32769, 5},                 /* int32 */
      {INT32_MIN, 5},
      {(int64_t)INT32_MIN - 1, 9}, /* int64 */
      {INT64_MIN + 1, 9},
      {INT64_MIN, 9},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char what[64];
    snprintf(what, sizeof what, "int %" PRId64, cases[k].i);
    roundtrip_len(rf_value_int(cases[k].i), cases[k].len, what);
  }

  /* The reader accepts every width, not only the shortest one. */
  static const struct {
    uint8_t bytes[9];
    size_t len;
    int64_t want;
  } wide[] = {
      {{0xcc, 0x05}, 2, 5},
      {{0xcd, 0x00, 0x05}, 3, 5},
      {{0xce, 0x00, 0x00, 0x00, 0x05}, 5, 5},
      {{0xcf, 0, 0, 0, 0, 0, 0, 0, 0x05}, 9, 5},
      {{0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9, INT64_MAX},
      {{0xce, 0xff, 0xff, 0xff, 0xff}, 5, INT64_C(4294967295)},
      {{0xd0, 0xfb}, 2, -5},
      {{0xd1, 0xff, 0xfb}, 3, -5},
      {{0xd2, 0xff, 0xff, 0xff, 0xfb}, 5, -5},
      {{0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb}, 9, -5},
      {{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, 9, INT64_MIN},
      {{0xd0, 0x05}, 2, 5},
      {{0xe0}, 1, -32},
      {{0xff}, 1, -1},
  };
  for (size_t k = 0; k < sizeof wide / sizeof wide[0]; k++) {
    rf_value *v = NULL;
    int64_t got = 0;
    CHECK_OK(rf__value_decode(wide[k].bytes, wide[k].len, &v));
    CHECK_INT(rf_value_type_of(v), RF_VALUE_INT);
    CHECK_OK(rf_value_get_int(v, &got));
    CHECK_INT(got, wide[k].want);
    rf_value_free(v);
  }
}

static void test_doubles(void) {
  static const uint64_t patterns[] = {
      UINT64_C(0x0000000000000000), /* +0.0 */
      UINT64_C(0x8000000000000000), /* -0.0 */
      UINT64_C(0x3ff0000000000000), /* 1.0 */
      UINT64_C(0x7ff0000000000000), /* +inf */
      UINT64_C(0xfff0000000000000), /* -inf */
      UINT64_C(0x7ff8000000000000), /* quiet NaN */
      UINT64_C(0x7ff8000000000123), /* quiet NaN with a payload */
      UINT64_C(0xfff8dead0000beef), /* negative NaN with a payload */
      UINT64_C(0x7ff0000000000001), /* signalling NaN */
      UINT64_C(0x0000000000000001), /* smallest subnormal */
      UINT64_C(0x0010000000000000), /* DBL_MIN */
      UINT64_C(0x7fefffffffffffff), /* DBL_MAX */
  };
  for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
    char what[64];
    snprintf(what, sizeof what, "double 0x%016" PRIx64, patterns[k]);
    rf_value *v = rf_value_double(from_bits(patterns[k]));
    double d = 0;
    CHECK_OK(rf_value_get_double(v, &d));
    CHECK(bits(d) == patterns[k]);
    roundtrip_len(v, 9, what);
  }

  /* Equality is bitwise: -0.0 != +0.0, and a NaN equals itself. */
  rf_value *pz = rf_value_double(0.0), *nz = rf_value_double(-0.0);
  rf_value *n1 = rf_value_double(NAN), *n2 = rf_value_double(NAN);
  CHECK(!rf_value_equal(pz, nz));
  CHECK(rf_value_equal(n1, n2));
  rf_value_free(pz);
  rf_value_free(nz);
  rf_value_free(n1);
  rf_value_free(n2);

  /* A float32 on the wire is read as the same double. */
  static const uint8_t f32[] = {0xca, 0x3f, 0xc0, 0x00, 0x00}; /* 1.5f */
  rf_value *v = NULL;
  double d = 0;
  CHECK_OK(rf__value_decode(f32, sizeof f32, &v));
  CHECK_OK(rf_value_get_double(v, &d));
  CHECK(d == 1.5);
  rf_value_free(v);
}

static char *filled(size_t len, int bin) {
  char *p = malloc(len ? len : 1);
  for (size_t i = 0; i < len; i++) {
    p[i] = bin ? (char)(i * 7) : (char)('a' + i % 26);
  }
  return p;
}

static void test_strings_bytes(void) {
  /* Lengths at each msgpack str header boundary (fixstr/str8/16/32), with
   * the encoded size they must take. */
  static const struct {
    size_t n, enc;
  } s[] = {{0, 1},       {1, 2},         {31, 32},        {32, 34},
           {255, 257},   {256, 259},     {65535, 65538},  {65536, 65541},
           {100000, 100005}};
  for (size_t k = 0; k < sizeof s / sizeof s[0]; k++) {
    char what[64], *p = filled(s[k].n, 0);
    snprintf(what, sizeof what, "string of %zu bytes", s[k].n);
    rf_value *v = rf_value_string_n(p, s[k].n);
    const char *got = NULL;
    size_t len = 0;
    CHECK_OK(rf_value_get_string(v, &got, &len));
    CHECK_INT(len, s[k].n);
    CHECK(got != NULL && got[len] == '\0' && memcmp(got, p, len) == 0);
    roundtrip_len(v, s[k].enc, what);
    free(p);
  }
  roundtrip(rf_value_string(""), "empty string");
  roundtrip(rf_value_string("h\xc3\xa9llo \xe2\x9c\x93"), "UTF-8 string");
  CHECK(rf_value_string(NULL) == NULL);

  /* Bytes: bin8/16/32 boundaries, every byte value, embedded NULs. */
  static const struct {
    size_t n, enc;
  } b[] = {{0, 2},         {1, 3},         {255, 257},     {256, 259},
           {65535, 65538}, {65536, 65541}, {100000, 100005}};
  for (size_t k = 0; k < sizeof b / sizeof b[0]; k++) {
    char what[64], *p = filled(b[k].n, 1);
    snprintf(what, sizeof what, "bytes of %zu", b[k].n);
    rf_value *v = rf_value_bytes(p, b[k].n);
    const void *got = NULL;
    size_t len = 0;
    CHECK_OK(rf_value_get_bytes(v, &got, &len));
    CHECK_INT(len, b[k].n);
    CHECK(got != NULL && memcmp(got, p, len) == 0);
    roundtrip_len(v, b[k].enc, what);
    free(p);
  }
  static const char nuls[] = {0, 'a', 0, 0, 'b', 0};
  rf_value *v = rf_value_bytes(nuls, sizeof nuls);
  const void *got = NULL;
  size_t len = 0;
  CHECK_OK(rf_value_get_bytes(v, &got, &len));
  CHECK_INT(len, sizeof nuls);
  CHECK(memcmp(got, nuls, sizeof nuls) == 0);
  roundtrip(v, "bytes with NULs");

  /* A string and bytes with the same content are different values. */
  rf_value *s1 = rf_value_string("abc"), *b1 = rf_value_bytes("abc", 3);
  CHECK(!rf_value_equal(s1, b1));
  rf_value_free(s1);
  rf_value_free(b1);
}

static rf_value *int_list(size_t n) {
  rf_value *l = rf_value_list();
  for (size_t i = 0; i < n; i++) {
    if (rf_value_list_append(l, rf_value_int((int64_t)i)) != RF_OK) {
      rf_test_failures++;
      break;
    }
  }
  return l;
}

/* n lists nested in each other, the innermost empty. */
static rf_value *nest(int n) {
  rf_value *v = rf_value_list();
  for (int i = 1; i < n; i++) {
    rf_value *outer = rf_value_list();
    if (rf_value_list_append(outer, v) != RF_OK) rf_test_failures++;
    v = outer;
  }
  return v;
}

static void test_lists(void) {
  roundtrip_len(rf_value_list(), 1, "empty list");
  roundtrip_len(int_list(15), 1 + 15, "fixarray of 15");
  roundtrip_len(int_list(16), 3 + 16, "array16 of 16");
  roundtrip(int_list(65535), "array16 of 65535");
  roundtrip(int_list(65536), "array32 of 65536");

  rf_value *l = int_list(5);
  CHECK_INT(rf_value_count(l), 5);
  int64_t x = -1;
  CHECK_OK(rf_value_get_int(rf_value_item(l, 3), &x));
  CHECK_INT(x, 3);
  CHECK(rf_value_item(l, 5) == NULL);
  CHECK(rf_value_key(l, 0) == NULL);
  CHECK(rf_value_lookup(l, "0") == NULL);

  /* Order matters, and so does length. */
  rf_value *l2 = int_list(4);
  CHECK(!rf_value_equal(l, l2));
  CHECK_OK(rf_value_list_append(l2, rf_value_int(4)));
  CHECK(rf_value_equal(l, l2));
  rf_value_free(l2);
  rf_value_free(l);

  /* Mixed items, nested lists. */
  rf_value *m = rf_value_list();
  CHECK_OK(rf_value_list_append(m, rf_value_null()));
  CHECK_OK(rf_value_list_append(m, rf_value_bool(1)));
  CHECK_OK(rf_value_list_append(m, rf_value_double(-2.5)));
  CHECK_OK(rf_value_list_append(m, rf_value_string("x")));
  CHECK_OK(rf_value_list_append(m, rf_value_bytes("\0", 1)));
  CHECK_OK(rf_value_list_append(m, int_list(3)));
  CHECK_OK(rf_value_list_append(m, rf_value_list()));
  CHECK_OK(rf_value_list_append(m, rf_value_map()));
  roundtrip(m, "mixed list");

  /* Nesting: the deepest value the writer accepts must also be read back;
   * a value nested much deeper is refused by the writer. */
  roundtrip(nest(RF_MAX_DEPTH), "lists nested RF_MAX_DEPTH deep");
  rf_value *edge = nest(RF_MAX_DEPTH + 1);
  rf_buf b = {0};
  if (rf__value_encode(edge, &b) == RF_OK) {
    rf_value *back = NULL;
    CHECK_OK(rf__value_decode(b.data, b.len, &back));
    CHECK(rf_value_equal(edge, back));
    rf_value_free(back);
  }
  rf__buf_free(&b);
  rf_value_free(edge);
  rf_value *deep = nest(RF_MAX_DEPTH + 2);
  CHECK_STATUS(rf__value_encode(deep, &b), RF_EINVAL);
  CHECK(rf_last_error()[0] != '\0');
  rf__buf_free(&b);
  rf_value_free(deep);
}

static void test_maps(void) {
  roundtrip_len(rf_value_map(), 1, "empty map");

  /* Insertion order is kept, through the codec too. */
  static const char *const keys[] = {"zeta", "alpha", "", "mid", "a b"};
  rf_value *m = rf_value_map();
  for (size_t i = 0; i < 5; i++) {
    CHECK_OK(rf_value_map_set(m, keys[i], rf_value_int((int64_t)i)));
  }
  rf_buf b = {0};
  rf_value *back = NULL;
  CHECK_OK(rf__value_encode(m, &b));
  CHECK_OK(rf__value_decode(b.data, b.len, &back));
  CHECK(rf_value_equal(m, back));
  CHECK_INT(rf_value_count(back), 5);
  for (size_t i = 0; i < 5; i++) {
    const char *k = rf_value_key(back, i);
    CHECK(k != NULL && strcmp(k, keys[i]) == 0);
    int64_t x = -1;
    CHECK_OK(rf_value_get_int(rf_value_item(back, i), &x));
    CHECK_INT(x, i);
    CHECK(rf_value_lookup(back, keys[i]) == rf_value_item(back, i));
  }
  CHECK(rf_value_key(back, 5) == NULL);
  CHECK(rf_value_item(back, 5) == NULL);
  CHECK(rf_value_lookup(back, "nope") == NULL);
  CHECK(rf_value_lookup(back, NULL) == NULL);
  rf_value_free(back);
  rf__buf_free(&b);

  /* Replacing keeps the position and the count. */
  CHECK_OK(rf_value_map_set(m, "alpha", rf_value_string("new")));
  CHECK_INT(rf_value_count(m), 5);
  CHECK(strcmp(rf_value_key(m, 1), "alpha") == 0);
  const char *s = NULL;
  CHECK_OK(rf_value_get_string(rf_value_lookup(m, "alpha"), &s, NULL));
  CHECK(s != NULL && strcmp(s, "new") == 0);
  roundtrip(m, "map after replacing");

  /* map16: 16 entries built through the API. */
  rf_value *m16 = rf_value_map();
  for (int i = 0; i < 16; i++) {
    char k[32];
    snprintf(k, sizeof k, "key%d", i);
    CHECK_OK(rf_value_map_set(m16, k, rf_value_int(i)));
  }
  CHECK_INT(rf_value_count(m16), 16);
  roundtrip(m16, "map16 of 16");

  /* map32: 70000 entries, built by decoding hand-made bytes (building it
   * with rf_value_map_set would take a quadratic number of key compares). */
  enum { NBIG = 70000 };
  uint8_t *raw = malloc(5 + (size_t)NBIG * 8);
  size_t n = 0;
  raw[n++] = 0xdf;
  raw[n++] = (uint8_t)(NBIG >> 24);
  raw[n++] = (uint8_t)(NBIG >> 16);
  raw[n++] = (uint8_t)(NBIG >> 8);
  raw[n++] = (uint8_t)NBIG;
  for (int i = 0; i < NBIG; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%05d", i);
    raw[n++] = 0xa6; /* fixstr of 6 */
    memcpy(raw + n, k, 6);
    n += 6;
    raw[n++] = 0x01;
  }
  rf_value *big = NULL;
  CHECK_OK(rf__value_decode(raw, n, &big));
  CHECK_INT(rf_value_count(big), NBIG);
  CHECK(rf_value_key(big, NBIG - 1) != NULL &&
        strcmp(rf_value_key(big, NBIG - 1), "k69999") == 0);
  rf_buf enc = {0};
  CHECK_OK(rf__value_encode(big, &enc));
  CHECK(enc.len == n && memcmp(enc.data, raw, n) == 0);
  rf__buf_free(&enc);
  roundtrip(big, "map32 of 70000");
  free(raw);

  /* The key is copied. */
  char key[] = "k";
  rf_value *m2 = rf_value_map();
  CHECK_OK(rf_value_map_set(m2, key, rf_value_null()));
  key[0] = 'z';
  CHECK(rf_value_lookup(m2, "k") != NULL);
  CHECK(rf_value_lookup(m2, "z") == NULL);
  rf_value_free(m2);
}

static rf_value *sample_tree(void) {
  rf_value *root = rf_value_map();
  rf_value *people = rf_value_list();
  for (int i = 0; i < 3; i++) {
    rf_value *p = rf_value_map();
    CHECK_OK(rf_value_map_set(p, "id", rf_value_int(i - 1)));
    CHECK_OK(rf_value_map_set(p, "score", rf_value_double(i * 0.5)));
    CHECK_OK(rf_value_map_set(p, "name", rf_value_string("pat")));
    CHECK_OK(rf_value_map_set(p, "raw", rf_value_bytes("\0\1\2", 3)));
    rf_value *tags = rf_value_list();
    CHECK_OK(rf_value_list_append(tags, rf_value_string("a")));
    CHECK_OK(rf_value_list_append(tags, rf_value_null()));
    CHECK_OK(rf_value_map_set(p, "tags", tags));
    CHECK_OK(rf_value_list_append(people, p));
  }
  CHECK_OK(rf_value_map_set(root, "people", people));
  CHECK_OK(rf_value_map_set(root, "ok", rf_value_bool(1)));
  CHECK_OK(rf_value_map_set(root, "none", rf_value_null()));
  rf_value *inner = rf_value_map();
  CHECK_OK(rf_value_map_set(inner, "deep", nest(10)));
  CHECK_OK(rf_value_map_set(root, "inner", inner));
  return root;
}

static void test_nested_and_copy(void) {
  roundtrip(sample_tree(), "nested tree");

  rf_value *t = sample_tree();
  rf_value *c = rf_value_copy(t);
  CHECK(c != NULL && c != t);
  CHECK(rf_value_equal(t, c));
  roundtrip(rf_value_copy(t), "copy of nested tree");
  /* The copy is deep: changing it leaves the original alone. */
  CHECK_OK(rf_value_map_set(c, "ok", rf_value_bool(0)));
  CHECK_OK(rf_value_list_append(
      (rf_value *)rf_value_lookup(c, "people"), rf_value_null()));
  CHECK(!rf_value_equal(t, c));
  int ok = 0;
  CHECK_OK(rf_value_get_bool(rf_value_lookup(t, "ok"), &ok));
  CHECK_INT(ok, 1);
  CHECK_INT(rf_value_count(rf_value_lookup(t, "people")), 3);
  rf_value_free(c);
  rf_value_free(t);
  CHECK(rf_value_copy(NULL) == NULL);

  /* Same keys in another order are a different map (order is content). */
  rf_value *a = rf_value_map(), *b = rf_value_map();
  CHECK_OK(rf_value_map_set(a, "x", rf_value_int(1)));
  CHECK_OK(rf_value_map_set(a, "y", rf_value_int(2)));
  CHECK_OK(rf_value_map_set(b, "x", rf_value_int(1)));
  CHECK_OK(rf_value_map_set(b, "y", rf_value_int(3)));
  CHECK(!rf_value_equal(a, b));
  CHECK(rf_value_equal(NULL, NULL));
  CHECK(!rf_value_equal(a, NULL));
  rf_value_free(a);
  rf_value_free(b);
}

static void test_accessors(void) {
  rf_value *i = rf_value_int(7), *d = rf_value_double(7.0);
  rf_value *s = rf_value_string("s"), *l = rf_value_list();
  int bv = 99;
  int64_t iv = 99;
  double dv = 99.0;
  const char *sv = "untouched";
  const void *bytes = "untouched";
  size_t len = 99;

  CHECK_INT(rf_value_type_of(NULL), RF_VALUE_NULL);
  CHECK_INT(rf_value_type_of(i), RF_VALUE_INT);
  CHECK_INT(rf_value_type_of(d), RF_VALUE_DOUBLE);
  CHECK_INT(rf_value_type_of(l), RF_VALUE_LIST);
  CHECK(strcmp(rf_value_type_name(RF_VALUE_NULL), "null") == 0);
  CHECK(strcmp(rf_value_type_name(RF_VALUE_MAP), "map") == 0);
  CHECK(strcmp(rf_value_type_name(RF_VALUE_FUTURE), "future") == 0);
  CHECK(strcmp(rf_value_type_name((rf_value_type)99), "unknown") == 0);

  /* Wrong type: RF_EINVAL, a message, and the out-parameter untouched. */
  CHECK_STATUS(rf_value_get_int(d, &iv), RF_EINVAL); /* no conversion */
  CHECK_INT(iv, 99);
  CHECK(rf_last_error()[0] != '\0');
  CHECK_STATUS(rf_value_get_double(i, &dv), RF_EINVAL);
  CHECK(dv == 99.0);
  CHECK_STATUS(rf_value_get_bool(i, &bv), RF_EINVAL);
  CHECK_INT(bv, 99);
  CHECK_STATUS(rf_value_get_string(i, &sv, &len), RF_EINVAL);
  CHECK(strcmp(sv, "untouched") == 0 && len == 99);
  CHECK_STATUS(rf_value_get_bytes(s, &bytes, &len), RF_EINVAL);
  CHECK(len == 99);
  CHECK_STATUS(rf_value_get_int(NULL, &iv), RF_EINVAL);
  CHECK_STATUS(rf_value_get_int(l, &iv), RF_EINVAL);

  CHECK_OK(rf_value_get_int(i, &iv));
  CHECK_INT(iv, 7);
  CHECK_OK(rf_value_get_double(d, &dv));
  CHECK(dv == 7.0);
  CHECK_OK(rf_value_get_string(s, &sv, NULL)); /* len may be NULL */
  CHECK(strcmp(sv, "s") == 0);
  CHECK(!rf_value_equal(i, d));

  CHECK_INT(rf_value_count(i), 0);
  CHECK_INT(rf_value_count(NULL), 0);
  CHECK(rf_value_item(i, 0) == NULL);
  CHECK(rf_value_item(NULL, 0) == NULL);
  CHECK(rf_value_key(NULL, 0) == NULL);

  /* Container misuse: the item is taken (freed) and the status says why;
   * LeakSanitizer checks the "taken even on failure" part. */
  CHECK_STATUS(rf_value_list_append(i, rf_value_int(1)), RF_EINVAL);
  CHECK_STATUS(rf_value_list_append(NULL, rf_value_int(1)), RF_EINVAL);
  CHECK_STATUS(rf_value_list_append(l, NULL), RF_ENOMEM);
  CHECK_INT(rf_value_count(l), 0);
  CHECK_STATUS(rf_value_map_set(l, "k", rf_value_int(1)), RF_EINVAL);
  rf_value *m = rf_value_map();
  CHECK_STATUS(rf_value_map_set(m, NULL, rf_value_int(1)), RF_EINVAL);
  CHECK_STATUS(rf_value_map_set(m, "k", NULL), RF_ENOMEM);
  CHECK_INT(rf_value_count(m), 0);
  rf_value_free(m);

  rf_value_free(NULL);
  rf_value_free(i);
  rf_value_free(d);
  rf_value_free(s);
  rf_value_free(l);
}

/* A future needs a runtime; a stand-in node of type RF_VALUE_FUTURE is
 * enough here because RF_PACK_PLAIN must refuse it before looking at the
 * future. The nodes live on the stack and are never rf_value_free'd. */
static void test_future_plain(void) {
  CHECK(rf_value_future(NULL) == NULL);

  int dummy = 0;
  rf_value fut;
  memset(&fut, 0, sizeof fut);
  fut.type = RF_VALUE_FUTURE;
  fut.u.future = (rf_future *)(void *)&dummy;
  rf_value *items[2] = {NULL, &fut};
  rf_value nil;
  memset(&nil, 0, sizeof nil);
  nil.type = RF_VALUE_NULL;
  items[0] = &nil;
  rf_value list;
  memset(&list, 0, sizeof list);
  list.type = RF_VALUE_LIST;
  list.count = list.cap = 2;
  list.u.c.items = items;

  rf_buf b = {0};
  rf__error_clear();
  CHECK_STATUS(rf__value_encode(&fut, &b), RF_EINVAL);
  CHECK(rf_last_error()[0] != '\0');
  rf__buf_free(&b);
  CHECK_STATUS(rf__value_encode(&list, &b), RF_EINVAL);
  rf__buf_free(&b);

  msgpack_packer pk;
  size_t nfut = 0;
  rf__buf_packer(&b, &pk);
  CHECK_STATUS(rf__value_pack(&pk, &list, RF_PACK_PLAIN, &nfut), RF_EINVAL);
  CHECK_INT(nfut, 1);
  rf__buf_free(&b);
}

int main(void) {
  test_scalars();
  test_ints();
  test_doubles();
  test_strings_bytes();
  test_lists();
  test_maps();
  test_nested_and_copy();
  test_accessors();
  test_future_plain();
  printf("test_value_roundtrip: %s (%d failed checks)\n",
         rf_test_failures ? "FAIL" : "PASS", rf_test_failures);
  return rf_test_failures ? 1 : 0;
}
