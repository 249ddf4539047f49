/* SPDX-License-Identifier: BSD-3-Clause */
/* alloc.c -- the library's allocator, with a fault-injection hook.
 *
 * Every allocation rankflow makes goes through rf_malloc and friends
 * (spelled rf__malloc inside the library) so that tests can fail the n-th
 * allocation (once, or from then on) and check that each caller returns
 * RF_ENOMEM and leaks nothing, SQLite-style; jobs that allocate through
 * them are tested the same way. The hook costs one predictable branch
 * when unused. The arrays that grow one
 * element at a time (registries, queues, work lists) share one grower.
 */
#include "base.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Allocations left before one fails; negative means never. Atomic because
 * I/O-slot threads allocate too. */
static _Atomic long fail_countdown = -1;
static _Atomic int fail_persistent = 0;
static _Atomic long alloc_total = 0;
static _Atomic long alloc_live = 0; /* blocks allocated and not freed */

void rf__alloc_fail_after(long n, int persistent) {
  atomic_store(&fail_persistent, persistent);
  atomic_store(&fail_countdown, n);
}

long rf__alloc_count(void) { return atomic_load(&alloc_total); }

long rf__alloc_live(void) { return atomic_load(&alloc_live); }

static void *counted(void *p) {
  if (p != NULL) atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
  return p;
}

/* 1 if this allocation must fail. */
static int should_fail(void) {
  atomic_fetch_add_explicit(&alloc_total, 1, memory_order_relaxed);
  long left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
  if (left < 0) return 0;
  if (left == 0) {
    if (!atomic_load(&fail_persistent)) atomic_store(&fail_countdown, -1);
    return 1;
  }
  atomic_fetch_sub(&fail_countdown, 1);
  return 0;
}

void *rf_malloc(size_t size) {
  if (should_fail()) return NULL;
  return counted(malloc(size ? size : 1));
}

void *rf_calloc(size_t n, size_t size) {
  if (should_fail()) return NULL;
  return counted(calloc(n ? n : 1, size ? size : 1));
}

void *rf_realloc(void *ptr, size_t size) {
  if (should_fail()) return NULL;
  void *p = realloc(ptr, size ? size : 1);
  return ptr == NULL ? counted(p) : p;
}

void rf_free(void *ptr) {
  if (ptr == NULL) return;
  atomic_fetch_sub_explicit(&alloc_live, 1, memory_order_relaxed);
  free(ptr);
}

char *rf__strndup(const char *s, size_t len) {
  char *d = rf__malloc(len + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *rf__strdup(const char *s) { return rf__strndup(s, strlen(s)); }

rf_status rf__array_reserve(void *arrayp, size_t elem, size_t count,
                            size_t *cap, size_t first, const char *what) {
  if (count < *cap) return RF_OK;
  size_t n = *cap ? *cap * 2 : first;
  if (n <= *cap || n > SIZE_MAX / elem) return rf__error(RF_ENOMEM, "%s", what);
  void *old;
  memcpy(&old, arrayp, sizeof old); /* arrayp points at some T * */
  void *p = rf__realloc(old, n * elem);
  if (p == NULL) return rf__error(RF_ENOMEM, "%s", what);
  memcpy(arrayp, &p, sizeof p);
  *cap = n;
  return RF_OK;
}
