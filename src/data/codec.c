/* SPDX-License-Identifier: BSD-3-Clause */
/* codec.c -- values to msgpack bytes and back, strict on input.
 *
 * Writing uses msgpack-c's packer (the format's reference C library, from
 * Debian). Reading does not use msgpack-c's unpacker: version 4.0 allocates
 * the size a container *declares* before reading it, so 5 hostile bytes can
 * ask for gigabytes. The reader here checks every type tag, every length
 * against the bytes left (a container of n items needs at least n bytes),
 * and the nesting depth, before it allocates anything; containers grow with
 * the items actually read; a map's keys are unique. Bytes from a peer
 * are never trusted: a malformed message is RF_ECODEC, never a crash.
 */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing ------------------------------------------------------------ */

static int packer_write(void *data, const char *buf, size_t len) {
  rf_buf *b = data;
  if (b->oom) return -1;
  return rf__buf_append(b, buf, len) == RF_OK ? 0 : -1;
}

void rf__buf_packer(rf_buf *b, msgpack_packer *pk) {
  msgpack_packer_init(pk, b, packer_write);
}

static rf_status pack(msgpack_packer *pk, const rf_value *v, rf_pack_mode mode,
                      size_t *nfut, int depth) {
  if (depth > RF_MAX_DEPTH) {
    return rf__error(RF_EINVAL, "value nested deeper than %d", RF_MAX_DEPTH);
  }
  int rc = 0;
  switch (rf_value_type_of(v)) {
    case RF_VALUE_NULL: rc = msgpack_pack_nil(pk); break;
    case RF_VALUE_BOOL:
      rc = v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
      break;
    case RF_VALUE_INT: rc = msgpack_pack_int64(pk, v->u.i); break;
    case RF_VALUE_DOUBLE: rc = msgpack_pack_double(pk, v->u.d); break;
    case RF_VALUE_STRING:
      if (v->u.str.len > UINT32_MAX) return rf__error(RF_EINVAL, "string over 4 GiB");
      rc = msgpack_pack_str_with_body(pk, v->u.str.ptr, v->u.str.len);
      break;
    case RF_VALUE_BYTES:
      if (v->u.str.len > UINT32_MAX) return rf__error(RF_EINVAL, "bytes over 4 GiB");
      rc = msgpack_pack_bin_with_body(pk, v->u.str.ptr, v->u.str.len);
      break;
    case RF_VALUE_LIST:
      rc = msgpack_pack_array(pk, v->count);
      for (uint32_t i = 0; rc == 0 && i < v->count; i++) {
        RF_CHECK(pack(pk, v->u.c.items[i], mode, nfut, depth + 1));
      }
      break;
    case RF_VALUE_MAP:
      rc = msgpack_pack_map(pk, v->count);
      for (uint32_t i = 0; rc == 0 && i < v->count; i++) {
        const char *k = v->u.c.keys[i];
        rc = msgpack_pack_str_with_body(pk, k, strlen(k));
        if (rc == 0) RF_CHECK(pack(pk, v->u.c.items[i], mode, nfut, depth + 1));
      }
      break;
    case RF_VALUE_FUTURE: {
      if (nfut) (*nfut)++;
      if (mode == RF_PACK_PLAIN) {
        return rf__error(RF_EINVAL, "a future cannot be encoded here");
      }
      if (mode == RF_PACK_KEY) {
        uint64_t key = rf__future_hooks->key(v->u.future);
        uint8_t be[8];
        for (int i = 0; i < 8; i++) be[i] = (uint8_t)(key >> (56 - 8 * i));
        rc = msgpack_pack_ext_with_body(pk, be, sizeof be, RF__EXT_FUTURE_KEY);
      } else {
        const uint8_t *data;
        size_t len;
        RF_CHECK(rf__future_hooks->result(v->u.future, &data, &len));
        rc = pk->callback(pk->data, (const char *)data, len);
      }
      break;
    }
    case RF_VALUE_FRAME:
      return rf__frame_pack(pk, v->u.frame);
  }
  if (rc != 0) return rf__error(RF_ENOMEM, "encoding a value");
  return RF_OK;
}

rf_status rf__value_pack(msgpack_packer *pk, const rf_value *v,
                         rf_pack_mode mode, size_t *nfutures) {
  return pack(pk, v, mode, nfutures, 0);
}

rf_status rf__value_encode(const rf_value *v, rf_buf *out) {
  msgpack_packer pk;
  rf__buf_packer(out, &pk);
  return rf__value_pack(&pk, v, RF_PACK_PLAIN, NULL);
}

void rf__text_encode(rf_buf *b, const char *text) {
  msgpack_packer pk;
  b->len = 0;
  b->oom = 0;
  rf__buf_packer(b, &pk);
  (void)msgpack_pack_str_with_body(&pk, text, strlen(text));
}

/* ---- reading ------------------------------------------------------------ */

void rf__reader_init(rf_reader *r, const void *data, size_t len) {
  r->p = data;
  r->end = r->p + len;
}

static size_t left(const rf_reader *r) { return (size_t)(r->end - r->p); }

static rf_status bad(const char *what) {
  return rf__error(RF_ECODEC, "malformed message: %s", what);
}

/* Read an n-byte big-endian unsigned integer. */
static rf_status be(rf_reader *r, int n, uint64_t *out) {
  *out = 0;
  if (left(r) < (size_t)n) return bad("truncated");
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | r->p[i];
  r->p += n;
  *out = v;
  return RF_OK;
}

static rf_status tag(rf_reader *r, uint8_t *t) {
  *t = 0;
  if (left(r) < 1) return bad("truncated");
  *t = *r->p++;
  return RF_OK;
}

/* Container header: count of items (maps: pairs), checked against the
 * bytes left (each item takes at least one byte). */
static rf_status container(rf_reader *r, uint8_t t, int map, uint32_t *n) {
  uint64_t count;
  if (!map && (t & 0xf0) == 0x90) count = t & 0x0f;
  else if (map && (t & 0xf0) == 0x80) count = t & 0x0f;
  else if (t == (map ? 0xde : 0xdc)) RF_CHECK(be(r, 2, &count));
  else if (t == (map ? 0xdf : 0xdd)) RF_CHECK(be(r, 4, &count));
  else return bad(map ? "expected a map" : "expected an array");
  if (count > left(r) / (map ? 2 : 1)) return bad("count larger than the message");
  *n = (uint32_t)count;
  return RF_OK;
}

rf_status rf__read_array(rf_reader *r, uint32_t *n) {
  uint8_t t;
  RF_CHECK(tag(r, &t));
  return container(r, t, 0, n);
}

/* Integers of any msgpack width; *neg tells a negative value apart. */
static rf_status integer(rf_reader *r, uint8_t t, int64_t *out, int *isint) {
  uint64_t u;
  *isint = 1;
  if (t <= 0x7f) { *out = t; return RF_OK; }
  if (t >= 0xe0) { *out = (int8_t)t; return RF_OK; }
  switch (t) {
    case 0xcc: RF_CHECK(be(r, 1, &u)); *out = (int64_t)u; return RF_OK;
    case 0xcd: RF_CHECK(be(r, 2, &u)); *out = (int64_t)u; return RF_OK;
    case 0xce: RF_CHECK(be(r, 4, &u)); *out = (int64_t)u; return RF_OK;
    case 0xcf:
      RF_CHECK(be(r, 8, &u));
      if (u > INT64_MAX) return bad("integer above the int64 range");
      *out = (int64_t)u;
      return RF_OK;
    case 0xd0: RF_CHECK(be(r, 1, &u)); *out = (int8_t)u; return RF_OK;
    case 0xd1: RF_CHECK(be(r, 2, &u)); *out = (int16_t)u; return RF_OK;
    case 0xd2: RF_CHECK(be(r, 4, &u)); *out = (int32_t)u; return RF_OK;
    case 0xd3: RF_CHECK(be(r, 8, &u)); *out = (int64_t)u; return RF_OK;
    default: *isint = 0; return RF_OK;
  }
}

rf_status rf__read_int(rf_reader *r, int64_t *out) {
  uint8_t t;
  int isint;
  RF_CHECK(tag(r, &t));
  RF_CHECK(integer(r, t, out, &isint));
  return isint ? RF_OK : bad("expected an integer");
}

rf_status rf__read_uint(rf_reader *r, uint64_t *out) {
  uint8_t t;
  RF_CHECK(tag(r, &t));
  if (t <= 0x7f) { *out = t; return RF_OK; }
  switch (t) {
    case 0xcc: return be(r, 1, out);
    case 0xcd: return be(r, 2, out);
    case 0xce: return be(r, 4, out);
    case 0xcf: return be(r, 8, out);
    default: return bad("expected an unsigned integer");
  }
}

static rf_status float64(rf_reader *r, uint8_t t, double *out, int *isdbl) {
  uint64_t u;
  *isdbl = 1;
  if (t == 0xcb) {
    RF_CHECK(be(r, 8, &u));
    memcpy(out, &u, sizeof *out);
    return RF_OK;
  }
  if (t == 0xca) {
    RF_CHECK(be(r, 4, &u));
    uint32_t u32 = (uint32_t)u;
    float f;
    memcpy(&f, &u32, sizeof f);
    *out = f;
    return RF_OK;
  }
  *isdbl = 0;
  return RF_OK;
}

rf_status rf__read_double(rf_reader *r, double *out) {
  uint8_t t;
  int isdbl;
  RF_CHECK(tag(r, &t));
  RF_CHECK(float64(r, t, out, &isdbl));
  return isdbl ? RF_OK : bad("expected a double");
}

/* String or bin body; *kind is 's' or 'b', 0 if t is neither. */
static rf_status body(rf_reader *r, uint8_t t, const char **s, size_t *len,
                      int *kind) {
  uint64_t n;
  *kind = 's';
  if ((t & 0xe0) == 0xa0) n = t & 0x1f;
  else if (t == 0xd9) RF_CHECK(be(r, 1, &n));
  else if (t == 0xda) RF_CHECK(be(r, 2, &n));
  else if (t == 0xdb) RF_CHECK(be(r, 4, &n));
  else {
    *kind = 'b';
    if (t == 0xc4) RF_CHECK(be(r, 1, &n));
    else if (t == 0xc5) RF_CHECK(be(r, 2, &n));
    else if (t == 0xc6) RF_CHECK(be(r, 4, &n));
    else { *kind = 0; return RF_OK; }
  }
  if (n > left(r)) return bad("string longer than the message");
  *s = (const char *)r->p;
  *len = (size_t)n;
  r->p += n;
  if (*kind == 's' && memchr(*s, '\0', *len) != NULL) {
    return bad("NUL byte inside a string");
  }
  return RF_OK;
}

rf_status rf__read_bin(rf_reader *r, const char **s, size_t *len) {
  uint8_t t;
  int kind;
  RF_CHECK(tag(r, &t));
  RF_CHECK(body(r, t, s, len, &kind));
  return kind == 'b' ? RF_OK : bad("expected bytes");
}

/* An extension (ext 8/16/32 only: the fixext forms carry no frame): its
 * type and body. *is_ext = 0 if t is not one. */
static rf_status ext(rf_reader *r, uint8_t t, int8_t *type,
                     const uint8_t **data, size_t *len, int *is_ext) {
  uint64_t n, ty;
  *is_ext = 1;
  if (t == 0xc7) RF_CHECK(be(r, 1, &n));
  else if (t == 0xc8) RF_CHECK(be(r, 2, &n));
  else if (t == 0xc9) RF_CHECK(be(r, 4, &n));
  else { *is_ext = 0; return RF_OK; }
  RF_CHECK(be(r, 1, &ty));
  if (n > left(r)) return bad("extension longer than the message");
  *type = (int8_t)ty;
  *data = r->p;
  *len = (size_t)n;
  r->p += n;
  return RF_OK;
}

/* A frame extension at tag t into *out; *is_ext = 0 if t is no extension.
 * The only extension accepted on input is the frame. */
static rf_status ext_frame(rf_reader *r, uint8_t t, rf_frame **out,
                           int *is_ext) {
  int8_t type = 0;
  const uint8_t *data = NULL;
  size_t len = 0;
  *out = NULL;
  RF_CHECK(ext(r, t, &type, &data, &len, is_ext));
  if (!*is_ext) return RF_OK;
  if (type != RF__EXT_FRAME) return bad("unknown extension type");
  return rf__frame_unpack(data, len, out);
}

rf_status rf__read_str(rf_reader *r, const char **s, size_t *len) {
  uint8_t t;
  int kind;
  RF_CHECK(tag(r, &t));
  RF_CHECK(body(r, t, s, len, &kind));
  return kind == 's' ? RF_OK : bad("expected a string");
}

static int key_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A map with a repeated key is malformed: lookup would see the first entry
 * and a copy the last. Maps of up to 16 keys are checked as they are read;
 * larger ones here, sorted, in O(n log n). */
static rf_status unique_keys(const rf_value *m) {
  uint32_t n = m->count;
  char **keys = m->u.c.keys;
  char **sorted = rf__malloc(n * sizeof *sorted);
  if (sorted == NULL) return rf__error(RF_ENOMEM, "checking map keys");
  memcpy(sorted, keys, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, key_cmp);
  rf_status st = RF_OK;
  for (uint32_t i = 1; i < n && st == RF_OK; i++) {
    if (strcmp(sorted[i - 1], sorted[i]) == 0) st = bad("repeated map key");
  }
  rf__free(sorted);
  return st;
}

static rf_status value(rf_reader *r, rf_value **out, int depth) {
  uint8_t t;
  int64_t i;
  double d;
  const char *s;
  size_t len;
  int ok;
  *out = NULL;
  if (depth > RF_MAX_DEPTH) return bad("nested too deep");
  RF_CHECK(tag(r, &t));
  rf_value *v = NULL;
  switch (t) {
    case 0xc0: v = rf_value_null(); goto scalar;
    case 0xc2: v = rf_value_bool(0); goto scalar;
    case 0xc3: v = rf_value_bool(1); goto scalar;
    default: break;
  }
  RF_CHECK(integer(r, t, &i, &ok));
  if (ok) { v = rf_value_int(i); goto scalar; }
  RF_CHECK(float64(r, t, &d, &ok));
  if (ok) { v = rf_value_double(d); goto scalar; }
  RF_CHECK(body(r, t, &s, &len, &ok));
  if (ok) {
    v = ok == 's' ? rf_value_string_n(s, len) : rf_value_bytes(s, len);
    goto scalar;
  }
  {
    rf_frame *f;
    RF_CHECK(ext_frame(r, t, &f, &ok));
    if (ok) {
      v = rf_value_frame(f);
      goto scalar;
    }
  }
  int map = (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf;
  uint32_t n;
  RF_CHECK(container(r, t, map, &n));
  v = map ? rf_value_map() : rf_value_list();
  if (v == NULL) return rf__error(RF_ENOMEM, "decoding a container");
  for (uint32_t k = 0; k < n; k++) {
    /* Arrays grow with the items actually read, never to the declared
     * count at once: nested headers that each claim every byte left
     * would otherwise multiply what one message can make us allocate. */
    rf_status st = rf__value_reserve(v, n);
    if (st != RF_OK) {
      rf_value_free(v);
      return st;
    }
    if (map) {
      st = rf__read_str(r, &s, &len);
      char *key = st == RF_OK ? rf__strndup(s, len) : NULL;
      if (st == RF_OK && key == NULL) st = rf__error(RF_ENOMEM, "map key");
      /* Small maps: refuse a repeated key as soon as it is read. */
      for (uint32_t j = 0; st == RF_OK && k < 16 && j < k; j++) {
        if (strcmp(v->u.c.keys[j], key) == 0) st = bad("repeated map key");
      }
      if (st != RF_OK) {
        rf__free(key);
        rf_value_free(v);
        return st;
      }
      v->u.c.keys[k] = key;
    }
    st = value(r, &v->u.c.items[k], depth + 1);
    if (st != RF_OK) {
      if (map) rf__free(v->u.c.keys[k]);
      rf_value_free(v);
      return st;
    }
    v->count = k + 1;
  }
  if (map && n > 16) {
    rf_status st = unique_keys(v);
    if (st != RF_OK) {
      rf_value_free(v);
      return st;
    }
  }
  *out = v;
  return RF_OK;
scalar:
  if (v == NULL) return rf__error(RF_ENOMEM, "decoding a value");
  *out = v;
  return RF_OK;
}

rf_status rf__read_value(rf_reader *r, rf_value **out) {
  return value(r, out, 0);
}

/* Walk one value without building it, checking it is well formed. */
static rf_status skip(rf_reader *r, int depth) {
  uint8_t t;
  int64_t i;
  double d;
  const char *s;
  size_t len;
  int ok;
  if (depth > RF_MAX_DEPTH) return bad("nested too deep");
  RF_CHECK(tag(r, &t));
  if (t == 0xc0 || t == 0xc2 || t == 0xc3) return RF_OK;
  RF_CHECK(integer(r, t, &i, &ok));
  if (ok) return RF_OK;
  RF_CHECK(float64(r, t, &d, &ok));
  if (ok) return RF_OK;
  RF_CHECK(body(r, t, &s, &len, &ok));
  if (ok) return RF_OK;
  {
    /* Raw copies must be as strict as decoding: check the frame. */
    rf_frame *f;
    RF_CHECK(ext_frame(r, t, &f, &ok));
    if (ok) {
      rf_frame_free(f);
      return RF_OK;
    }
  }
  int map = (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf;
  uint32_t n;
  RF_CHECK(container(r, t, map, &n));
  for (uint32_t k = 0; k < n; k++) {
    if (map) RF_CHECK(rf__read_str(r, &s, &len));
    RF_CHECK(skip(r, depth + 1));
  }
  return RF_OK;
}

rf_status rf__read_raw(rf_reader *r, const uint8_t **start, size_t *len) {
  const uint8_t *p = r->p;
  RF_CHECK(skip(r, 0));
  *start = p;
  *len = (size_t)(r->p - p);
  return RF_OK;
}

rf_status rf__value_decode(const void *data, size_t len, rf_value **out) {
  rf_reader r;
  *out = NULL;
  if (len > RF_MAX_MESSAGE) return bad("larger than the maximum message");
  rf__reader_init(&r, data, len);
  rf_value *v;
  RF_CHECK(rf__read_value(&r, &v));
  if (r.p != r.end) {
    rf_value_free(v);
    return bad("trailing bytes after the value");
  }
  *out = v;
  return RF_OK;
}

rf_status rf__read_end(const rf_reader *r) {
  return r->p == r->end ? RF_OK : bad("trailing bytes");
}

rf_status rf__text_decode(const uint8_t *p, size_t len, char *out,
                          size_t outlen) {
  rf_reader r;
  const char *s = NULL;
  size_t n = 0;
  rf__reader_init(&r, p, len);
  RF_CHECK(rf__read_str(&r, &s, &n));
  RF_CHECK(rf__read_end(&r));
  snprintf(out, outlen, "%.*s", (int)n, s);
  return RF_OK;
}
