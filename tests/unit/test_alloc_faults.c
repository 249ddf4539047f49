/* SPDX-License-Identifier: BSD-3-Clause */
/* test_alloc_faults.c -- out of memory anywhere in values and the codec.
 *
 * SQLite/libuv style: for N = 0, 1, 2, ... let N allocations succeed and
 * the next one fail (once, then from then on), and run an operation that
 * builds, copies, encodes or decodes a nested value. Until N reaches the
 * number of allocations the operation makes when nothing fails, it must
 * report RF_ENOMEM (or NULL) and leave nothing behind; from there on it
 * must succeed with a result equal to the reference. An error that is
 * swallowed shows up as RF_OK with a smaller tree; a leak or a double free
 * on an error path shows up under the ASan preset (LeakSanitizer).
 */
#include <stdlib.h>

#include "data/data.h"
#include "rf_test.h"

/* Remember the first failure of a sequence of calls. */
static void keep(rf_status *st, rf_status s) {
  if (*st == RF_OK) *st = s;
}

/* A list of maps of strings, bytes, lists and maps. Every call is checked;
 * a container that could not be made is passed on as NULL, which the
 * parent's add reports as RF_ENOMEM. */
static rf_status build(rf_value **out) {
  rf_status st = RF_OK;
  *out = NULL;
  rf_value *root = rf_value_list();
  if (root == NULL) return RF_ENOMEM;
  for (int i = 0; i < 6; i++) {
    rf_value *m = rf_value_map();
    if (m != NULL) {
      char name[32];
      snprintf(name, sizeof name, "item number %d", i);
      keep(&st, rf_value_map_set(m, "name", rf_value_string(name)));
      keep(&st, rf_value_map_set(m, "n", rf_value_int(i * 1000)));
      keep(&st, rf_value_map_set(m, "x", rf_value_double(i / 3.0)));
      keep(&st, rf_value_map_set(m, "raw", rf_value_bytes("\0\1\2\3", 4)));
      keep(&st, rf_value_map_set(m, "on", rf_value_bool(i & 1)));
      keep(&st, rf_value_map_set(m, "nil", rf_value_null()));
      rf_value *tags = rf_value_list();
      if (tags != NULL) {
        for (int t = 0; t < 5; t++) { /* 5 items: the list grows once */
          keep(&st, rf_value_list_append(tags, rf_value_string("tag")));
        }
      }
      keep(&st, rf_value_map_set(m, "tags", tags));
      rf_value *sub = rf_value_map();
      if (sub != NULL) {
        keep(&st, rf_value_map_set(sub, "empty", rf_value_list()));
        keep(&st, rf_value_map_set(sub, "also", rf_value_map()));
      }
      keep(&st, rf_value_map_set(m, "sub", sub));
      keep(&st, rf_value_map_set(m, "name", rf_value_string("replaced")));
    }
    keep(&st, rf_value_list_append(root, m));
  }
  if (st != RF_OK) {
    rf_value_free(root);
    return st;
  }
  *out = root;
  return RF_OK;
}

typedef enum { OP_BUILD, OP_COPY, OP_ENCODE, OP_DECODE } op_kind;
static const char *const op_names[] = {"build", "copy", "encode", "decode"};

typedef struct {
  rf_value *ref;    /* the reference value */
  rf_buf enc;       /* its encoding */
} fixture;

/* Run one operation; RF_OK and (for build/copy/decode) a value equal to the
 * reference, or (for encode) the reference bytes; else the failure. */
static rf_status run_op(op_kind op, const fixture *fx, int *matches) {
  rf_value *v = NULL;
  rf_buf b = {0};
  rf_status st = RF_OK;
  *matches = 0;
  switch (op) {
    case OP_BUILD:
      st = build(&v);
      if (st != RF_OK && v != NULL) st = RF_EINVAL; /* half-made object */
      break;
    case OP_COPY:
      v = rf_value_copy(fx->ref);
      st = v ? RF_OK : RF_ENOMEM;
      break;
    case OP_ENCODE:
      st = rf__value_encode(fx->ref, &b);
      if (st == RF_OK) {
        *matches = b.len == fx->enc.len &&
                   memcmp(b.data, fx->enc.data, b.len) == 0;
      }
      break;
    case OP_DECODE:
      v = (rf_value *)(void *)&v; /* poison: must be reset to NULL */
      st = rf__value_decode(fx->enc.data, fx->enc.len, &v);
      if (st != RF_OK && v != NULL) st = RF_EINVAL; /* half-made object */
      break;
  }
  if (op != OP_ENCODE && st == RF_OK) *matches = rf_value_equal(v, fx->ref);
  if (st == RF_OK || op == OP_BUILD || op == OP_COPY) rf_value_free(v);
  rf__buf_free(&b);
  return st;
}

static void sweep(op_kind op, const fixture *fx, int persistent) {
  /* Allocations the operation makes when none fails. */
  int matches;
  long before = rf__alloc_count();
  CHECK_OK(run_op(op, fx, &matches));
  long need = rf__alloc_count() - before;
  CHECK(matches);
  CHECK(need > 0);

  int bad = 0;
  for (long n = 0; n <= need + 2 && bad < 5; n++) {
    rf__error_clear();
    rf__alloc_fail_after(n, persistent);
    rf_status st = run_op(op, fx, &matches);
    rf__alloc_fail_after(-1, 0);
    rf_status want = n < need ? RF_ENOMEM : RF_OK;
    if (st != want || (st == RF_OK && !matches)) {
      fprintf(stderr,
              "%s (%s): failing allocation %ld of %ld gave %s%s, expected "
              "%s (%s)\n",
              op_names[op], persistent ? "persistent" : "once", n + 1, need,
              rf_status_name(st),
              st == RF_OK && !matches ? " with a different result" : "",
              rf_status_name(want), rf_last_error());
      rf_test_failures++;
      bad++;
    }
    if (st == RF_ENOMEM && op != OP_BUILD && op != OP_COPY &&
        rf_last_error()[0] == '\0') {
      fprintf(stderr, "%s: RF_ENOMEM without a message (allocation %ld)\n",
              op_names[op], n + 1);
      rf_test_failures++;
      bad++;
    }
  }
  printf("%s (%s): %ld allocations, every one failed in turn\n", op_names[op],
         persistent ? "persistent" : "once", need);
}

/* The single-call contracts under failure: the list or map is unchanged
 * and the item is freed (LeakSanitizer) when growing fails. */
static void test_unchanged_on_failure(void) {
  rf_value *l = rf_value_list(), *m = rf_value_map();
  for (int i = 0; i < 4; i++) { /* fill the initial capacity of 4 */
    char k[8];
    snprintf(k, sizeof k, "k%d", i);
    CHECK_OK(rf_value_list_append(l, rf_value_int(i)));
    CHECK_OK(rf_value_map_set(m, k, rf_value_int(i)));
  }
  rf_value *l0 = rf_value_copy(l), *m0 = rf_value_copy(m);
  for (long n = 0; n < 4; n++) {
    rf_value *item = rf_value_string("item"); /* before the countdown */
    rf__alloc_fail_after(n, 0);
    rf_status st = rf_value_list_append(l, item);
    rf__alloc_fail_after(-1, 0);
    if (st == RF_OK) break;
    CHECK_STATUS(st, RF_ENOMEM);
    CHECK(rf_value_equal(l, l0));
  }
  for (long n = 0; n < 4; n++) {
    rf_value *item = rf_value_string("item");
    rf__alloc_fail_after(n, 0);
    rf_status st = rf_value_map_set(m, "new", item);
    rf__alloc_fail_after(-1, 0);
    if (st == RF_OK) break;
    CHECK_STATUS(st, RF_ENOMEM);
    CHECK(rf_value_equal(m, m0));
    CHECK(rf_value_lookup(m, "new") == NULL);
  }
  CHECK_INT(rf_value_count(l), 5);
  CHECK_INT(rf_value_count(m), 5);
  rf_value_free(l);
  rf_value_free(m);
  rf_value_free(l0);
  rf_value_free(m0);

  /* A constructor that fails returns NULL. */
  rf__alloc_fail_after(0, 0);
  CHECK(rf_value_string("x") == NULL);
  rf__alloc_fail_after(0, 0);
  CHECK(rf_value_list() == NULL);
  rf__alloc_fail_after(0, 0);
  CHECK(rf_value_int(1) == NULL);
  rf__alloc_fail_after(-1, 0);
  rf_value *ok = rf_value_int(1); /* -1 turned injection off */
  CHECK(ok != NULL);
  rf_value_free(ok);
}

int main(void) {
  fixture fx = {0};
  CHECK_OK(build(&fx.ref));
  CHECK(fx.ref != NULL && rf_value_count(fx.ref) == 6);
  CHECK_OK(rf__value_encode(fx.ref, &fx.enc));
  if (fx.ref == NULL || fx.enc.len == 0) {
    printf("test_alloc_faults: FAIL (no reference value)\n");
    return 1;
  }
  for (int persistent = 0; persistent <= 1; persistent++) {
    sweep(OP_BUILD, &fx, persistent);
    sweep(OP_COPY, &fx, persistent);
    sweep(OP_ENCODE, &fx, persistent);
    sweep(OP_DECODE, &fx, persistent);
  }
  test_unchanged_on_failure();
  rf_value_free(fx.ref);
  rf__buf_free(&fx.enc);
  printf("test_alloc_faults: %s (%d failed checks)\n",
         rf_test_failures ? "FAIL" : "PASS", rf_test_failures);
  return rf_test_failures ? 1 : 0;
}
