/* SPDX-License-Identifier: BSD-3-Clause */
/* value.c -- typed values: build, read, copy, compare, free.
 *
 * A value is a small tree: scalars, strings and bytes (stored in the same
 * allocation as their node), lists and string-keyed maps (which own their
 * items), and futures (a reference to a submitted task, resolved to its
 * result before a task sees the value; held through rf_future_hooks, so
 * this file needs nothing of the layer that owns futures). Constructors
 * return NULL when out of memory; containers free an item they could not
 * take, so a caller can build a tree without checking every step and
 * check the final add.
 */
#include "data.h"

#include <string.h>

/* Set once, before the first future exists (a value can hold a future
 * only after one was submitted). Read by codec.c too. */
const rf_future_hooks *rf__future_hooks;

void rf__value_set_future_hooks(const rf_future_hooks *hooks) {
  rf__future_hooks = hooks;
}

static rf_value *node(rf_value_type type, size_t extra) {
  rf_value *v = rf__malloc(sizeof *v + extra);
  if (v == NULL) return NULL;
  memset(v, 0, sizeof *v);
  v->type = (uint8_t)type;
  return v;
}

rf_value *rf_value_null(void) { return node(RF_VALUE_NULL, 0); }

rf_value *rf_value_bool(int b) {
  rf_value *v = node(RF_VALUE_BOOL, 0);
  if (v) v->u.b = b ? 1 : 0;
  return v;
}

rf_value *rf_value_int(int64_t i) {
  rf_value *v = node(RF_VALUE_INT, 0);
  if (v) v->u.i = i;
  return v;
}

rf_value *rf_value_double(double d) {
  rf_value *v = node(RF_VALUE_DOUBLE, 0);
  if (v) v->u.d = d;
  return v;
}

static rf_value *bytes_node(rf_value_type type, const void *data, size_t len) {
  rf_value *v = node(type, len + 1);
  if (v == NULL) return NULL;
  v->u.str.ptr = (char *)(v + 1);
  if (len) memcpy(v->u.str.ptr, data, len);
  v->u.str.ptr[len] = '\0';
  v->u.str.len = len;
  return v;
}

rf_value *rf_value_string_n(const char *s, size_t len) {
  return bytes_node(RF_VALUE_STRING, s, len);
}

rf_value *rf_value_string(const char *s) {
  return s ? bytes_node(RF_VALUE_STRING, s, strlen(s)) : NULL;
}

rf_value *rf_value_bytes(const void *data, size_t len) {
  return bytes_node(RF_VALUE_BYTES, data, len);
}

rf_value *rf_value_list(void) { return node(RF_VALUE_LIST, 0); }

rf_value *rf_value_map(void) { return node(RF_VALUE_MAP, 0); }

rf_value *rf_value_future(rf_future *future) {
  if (future == NULL) return NULL;
  rf_value *v = node(RF_VALUE_FUTURE, 0);
  if (v == NULL) return NULL;
  rf__future_hooks->ref(future);
  v->u.future = future;
  return v;
}

rf_status rf__value_reserve(rf_value *c, uint32_t limit) {
  if (c->count < c->cap) return RF_OK;
  uint64_t cap = c->cap ? (uint64_t)c->cap * 2 : 4;
  if (cap > limit) cap = limit;
  if (cap <= c->cap) return rf__error(RF_ENOMEM, "container too large");
  rf_value **items = rf__realloc(c->u.c.items, cap * sizeof *items);
  if (items == NULL) return rf__error(RF_ENOMEM, "growing a container");
  c->u.c.items = items;
  if (c->type == RF_VALUE_MAP) {
    char **keys = rf__realloc(c->u.c.keys, cap * sizeof *keys);
    if (keys == NULL) return rf__error(RF_ENOMEM, "growing a map");
    c->u.c.keys = keys;
  }
  c->cap = (uint32_t)cap;
  return RF_OK;
}

rf_status rf_value_list_append(rf_value *list, rf_value *item) {
  rf_status st;
  if (list == NULL || list->type != RF_VALUE_LIST) {
    st = rf__error(RF_EINVAL, "rf_value_list_append: not a list");
    goto fail;
  }
  if (item == NULL) {
    st = rf__error(RF_ENOMEM, "rf_value_list_append: no item (out of memory)");
    goto fail;
  }
  RF_CHECK_GOTO(rf__value_reserve(list, UINT32_MAX), st, fail);
  list->u.c.items[list->count++] = item;
  return RF_OK;
fail:
  rf_value_free(item);
  return st;
}

rf_status rf_value_map_set(rf_value *map, const char *key, rf_value *item) {
  rf_status st;
  char *k = NULL;
  if (map == NULL || map->type != RF_VALUE_MAP || key == NULL) {
    st = rf__error(RF_EINVAL, "rf_value_map_set: not a map, or no key");
    goto fail;
  }
  if (item == NULL) {
    st = rf__error(RF_ENOMEM, "rf_value_map_set: no item (out of memory)");
    goto fail;
  }
  for (uint32_t i = 0; i < map->count; i++) {
    if (strcmp(map->u.c.keys[i], key) == 0) {
      rf_value_free(map->u.c.items[i]);
      map->u.c.items[i] = item;
      return RF_OK;
    }
  }
  k = rf__strdup(key);
  if (k == NULL) {
    st = rf__error(RF_ENOMEM, "copying a map key");
    goto fail;
  }
  RF_CHECK_GOTO(rf__value_reserve(map, UINT32_MAX), st, fail);
  map->u.c.keys[map->count] = k;
  map->u.c.items[map->count++] = item;
  return RF_OK;
fail:
  rf__free(k);
  rf_value_free(item);
  return st;
}

void rf_value_free(rf_value *v) {
  if (v == NULL) return;
  switch ((rf_value_type)v->type) {
    case RF_VALUE_LIST:
    case RF_VALUE_MAP:
      for (uint32_t i = 0; i < v->count; i++) {
        rf_value_free(v->u.c.items[i]);
        if (v->type == RF_VALUE_MAP) rf__free(v->u.c.keys[i]);
      }
      rf__free(v->u.c.items);
      rf__free(v->u.c.keys);
      break;
    case RF_VALUE_FUTURE:
      rf__future_hooks->unref(v->u.future);
      break;
    case RF_VALUE_FRAME:
      rf_frame_free(v->u.frame);
      break;
    case RF_VALUE_NULL:
    case RF_VALUE_BOOL:
    case RF_VALUE_INT:
    case RF_VALUE_DOUBLE:
    case RF_VALUE_STRING:
    case RF_VALUE_BYTES:
      break;
  }
  rf__free(v);
}

rf_value *rf_value_copy(const rf_value *v) {
  if (v == NULL) return NULL;
  switch ((rf_value_type)v->type) {
    case RF_VALUE_NULL: return rf_value_null();
    case RF_VALUE_BOOL: return rf_value_bool(v->u.b);
    case RF_VALUE_INT: return rf_value_int(v->u.i);
    case RF_VALUE_DOUBLE: return rf_value_double(v->u.d);
    case RF_VALUE_STRING: return rf_value_string_n(v->u.str.ptr, v->u.str.len);
    case RF_VALUE_BYTES: return rf_value_bytes(v->u.str.ptr, v->u.str.len);
    case RF_VALUE_FUTURE: return rf_value_future(v->u.future);
    case RF_VALUE_FRAME: {
      rf_frame *f = rf_frame_copy(v->u.frame);
      return f ? rf_value_frame(f) : NULL;
    }
    case RF_VALUE_LIST:
    case RF_VALUE_MAP: break;
  }
  rf_value *c = node((rf_value_type)v->type, 0);
  if (c == NULL) return NULL;
  for (uint32_t i = 0; i < v->count; i++) {
    rf_value *item = rf_value_copy(v->u.c.items[i]);
    rf_status st = v->type == RF_VALUE_LIST
                       ? rf_value_list_append(c, item)
                       : rf_value_map_set(c, v->u.c.keys[i], item);
    if (st != RF_OK) {
      rf_value_free(c);
      return NULL;
    }
  }
  return c;
}

int rf_value_equal(const rf_value *a, const rf_value *b) {
  if (a == NULL || b == NULL) return a == b;
  if (a->type != b->type) return 0;
  switch ((rf_value_type)a->type) {
    case RF_VALUE_NULL: return 1;
    case RF_VALUE_BOOL: return a->u.b == b->u.b;
    case RF_VALUE_INT: return a->u.i == b->u.i;
    case RF_VALUE_DOUBLE: return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
    case RF_VALUE_STRING:
    case RF_VALUE_BYTES:
      return a->u.str.len == b->u.str.len &&
             memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
    case RF_VALUE_FUTURE: return a->u.future == b->u.future;
    case RF_VALUE_FRAME: return rf_frame_equal(a->u.frame, b->u.frame);
    case RF_VALUE_LIST:
    case RF_VALUE_MAP: break;
  }
  if (a->count != b->count) return 0;
  for (uint32_t i = 0; i < a->count; i++) {
    if (a->type == RF_VALUE_MAP &&
        strcmp(a->u.c.keys[i], b->u.c.keys[i]) != 0)
      return 0;
    if (!rf_value_equal(a->u.c.items[i], b->u.c.items[i])) return 0;
  }
  return 1;
}

rf_value_type rf_value_type_of(const rf_value *v) {
  return v ? (rf_value_type)v->type : RF_VALUE_NULL;
}

const char *rf_value_type_name(rf_value_type type) {
  switch (type) {
    case RF_VALUE_NULL: return "null";
    case RF_VALUE_BOOL: return "bool";
    case RF_VALUE_INT: return "int";
    case RF_VALUE_DOUBLE: return "double";
    case RF_VALUE_STRING: return "string";
    case RF_VALUE_BYTES: return "bytes";
    case RF_VALUE_LIST: return "list";
    case RF_VALUE_MAP: return "map";
    case RF_VALUE_FUTURE: return "future";
    case RF_VALUE_FRAME: return "frame";
  }
  return "unknown";
}

static rf_status want(const rf_value *v, rf_value_type type) {
  if (rf_value_type_of(v) == type) return RF_OK;
  return rf__error(RF_EINVAL, "expected %s, got %s", rf_value_type_name(type),
                   rf_value_type_name(rf_value_type_of(v)));
}

rf_status rf_value_get_bool(const rf_value *v, int *out) {
  RF_CHECK(want(v, RF_VALUE_BOOL));
  *out = v->u.b;
  return RF_OK;
}

rf_status rf_value_get_int(const rf_value *v, int64_t *out) {
  RF_CHECK(want(v, RF_VALUE_INT));
  *out = v->u.i;
  return RF_OK;
}

rf_status rf_value_get_double(const rf_value *v, double *out) {
  RF_CHECK(want(v, RF_VALUE_DOUBLE));
  *out = v->u.d;
  return RF_OK;
}

rf_status rf_value_get_string(const rf_value *v, const char **out,
                              size_t *len) {
  RF_CHECK(want(v, RF_VALUE_STRING));
  *out = v->u.str.ptr;
  if (len) *len = v->u.str.len;
  return RF_OK;
}

rf_status rf_value_get_bytes(const rf_value *v, const void **out,
                             size_t *len) {
  RF_CHECK(want(v, RF_VALUE_BYTES));
  *out = v->u.str.ptr;
  if (len) *len = v->u.str.len;
  return RF_OK;
}

size_t rf_value_count(const rf_value *v) {
  if (v == NULL) return 0;
  return (v->type == RF_VALUE_LIST || v->type == RF_VALUE_MAP) ? v->count : 0;
}

const rf_value *rf_value_item(const rf_value *v, size_t i) {
  return i < rf_value_count(v) ? v->u.c.items[i] : NULL;
}

const char *rf_value_key(const rf_value *v, size_t i) {
  if (rf_value_type_of(v) != RF_VALUE_MAP || i >= v->count) return NULL;
  return v->u.c.keys[i];
}

const rf_value *rf_value_lookup(const rf_value *map, const char *key) {
  if (rf_value_type_of(map) != RF_VALUE_MAP || key == NULL) return NULL;
  for (uint32_t i = 0; i < map->count; i++) {
    if (strcmp(map->u.c.keys[i], key) == 0) return map->u.c.items[i];
  }
  return NULL;
}

rf_status rf__value_visit_futures(const rf_value *v, rf_future_visit_fn fn,
                                  void *user) {
  if (v == NULL) return RF_OK;
  if (v->type == RF_VALUE_FUTURE) return fn(v->u.future, user);
  if (v->type != RF_VALUE_LIST && v->type != RF_VALUE_MAP) return RF_OK;
  for (uint32_t i = 0; i < v->count; i++) {
    RF_CHECK(rf__value_visit_futures(v->u.c.items[i], fn, user));
  }
  return RF_OK;
}
