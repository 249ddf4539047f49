/* SPDX-License-Identifier: BSD-3-Clause */
/* marks.c -- what rank 0 remembers of a task key beyond its future.
 *
 * A future is freed once its flow lets go of it, and a rerun makes new
 * ones; but the crash limit counts crashes of the same task across
 * attempts and across runs, and a resume must know which tasks an earlier
 * run saw start and never finish (they may be what killed it). So a few
 * facts live per task key here: crashes of task hosts, started without
 * an end, crashed for good. Only keys with something to remember have an
 * entry (the journal seeds them when it opens, the scheduler adds crashes),
 * so a million well-behaved tasks cost nothing here.
 */
#include "coord.h"

#include <string.h>

static rf_mark *slot(rf_mark *t, size_t cap, uint64_t key) {
  size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (cap - 1);
  while (t[i].used && t[i].key != key) i = (i + 1) & (cap - 1);
  return &t[i];
}

rf_mark *rf__marks_find(const rf_marks *m, uint64_t key) {
  if (m->count == 0) return NULL;
  rf_mark *e = slot(m->table, m->cap, key);
  return e->used ? e : NULL;
}

rf_status rf__marks_get(rf_marks *m, uint64_t key, rf_mark **out) {
  if ((m->count + 1) * 4 > m->cap * 3) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    rf_mark *t = rf__calloc(cap, sizeof *t);
    if (t == NULL) return rf__error(RF_ENOMEM, "remembering a task");
    for (size_t i = 0; i < m->cap; i++) {
      if (m->table[i].used) *slot(t, cap, m->table[i].key) = m->table[i];
    }
    rf__free(m->table);
    m->table = t;
    m->cap = cap;
  }
  rf_mark *e = slot(m->table, m->cap, key);
  if (!e->used) {
    memset(e, 0, sizeof *e);
    e->key = key;
    e->used = 1;
    m->count++;
  }
  *out = e;
  return RF_OK;
}

void rf__marks_free(rf_marks *m) {
  rf__free(m->table);
  memset(m, 0, sizeof *m);
}
