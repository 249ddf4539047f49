/* registry.c -- tasks by name, and a fingerprint every rank compares.
 *
 * Ranks identify a task by its index in the registry, so every rank must
 * register the same tasks in the same order. Two builds in one job would
 * otherwise run the wrong function: rf_run() compares the fingerprint (a
 * hash of every name and option, in order) across ranks before anything is
 * dispatched.
 */
#include "rf_internal.h"

#include <math.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

static void free_task(rf_task *t) {
  if (t == NULL) return;
  if (t->opts.tags != NULL) {
    for (size_t i = 0; t->opts.tags[i] != NULL; i++) {
      rf__free((char *)t->opts.tags[i]);
    }
    rf__free((void *)t->opts.tags);
  }
  rf__free(t->name);
  rf__free(t);
}

void rf__registry_free(rf_registry *reg) {
  for (uint32_t i = 0; i < reg->count; i++) free_task(reg->tasks[i]);
  for (uint32_t i = 0; i < reg->nsteps; i++) {
    rf__free(reg->steps[i]->name);
    rf__free(reg->steps[i]);
  }
  rf__free(reg->steps);
  rf__free(reg->tasks);
  memset(reg, 0, sizeof *reg);
}

static rf_status check_options(const char *name, const rf_task_options *o) {
  RF_ENSURE(o->retries >= 0 && o->retries <= 1000, RF_EINVAL,
            "task '%s': retries must be in 0..1000", name);
  RF_ENSURE(isfinite(o->retry_delay) && o->retry_delay >= 0, RF_EINVAL,
            "task '%s': retry_delay must be >= 0", name);
  RF_ENSURE(isfinite(o->retry_backoff) && o->retry_backoff >= 0, RF_EINVAL,
            "task '%s': retry_backoff must be >= 0", name);
  RF_ENSURE(isfinite(o->retry_max_delay) && o->retry_max_delay >= 0,
            RF_EINVAL, "task '%s': retry_max_delay must be >= 0", name);
  RF_ENSURE(o->retry_jitter >= 0 && o->retry_jitter <= 1, RF_EINVAL,
            "task '%s': retry_jitter must be in [0, 1]", name);
  RF_ENSURE(o->io == 0 || o->io == 1, RF_EINVAL,
            "task '%s': io must be 0 or 1", name);
  RF_ENSURE(o->ranks >= 0 && o->ranks <= 65536, RF_EINVAL,
            "task '%s': ranks must be in 0..65536", name);
  RF_ENSURE(!(o->io && o->ranks > 1), RF_EINVAL,
            "task '%s': a parallel task (ranks > 1) cannot be io", name);
  return RF_OK;
}

static rf_status copy_tags(rf_task *t, const char *const *tags) {
  size_t n = 0;
  if (tags == NULL) return RF_OK;
  while (tags[n] != NULL) n++;
  const char **copy = rf__calloc(n + 1, sizeof *copy);
  if (copy == NULL) return rf__error(RF_ENOMEM, "copying task tags");
  t->opts.tags = copy;
  for (size_t i = 0; i < n; i++) {
    copy[i] = rf__strdup(tags[i]);
    if (copy[i] == NULL) return rf__error(RF_ENOMEM, "copying task tags");
  }
  return RF_OK;
}

rf_status rf_task_register(rf_runtime *rt, const char *name, rf_task_fn fn,
                           const rf_task_options *opts, rf_task **out) {
  static const rf_task_options defaults = {0};
  rf_registry *reg = &rt->reg;
  rf_status st;
  if (out) *out = NULL;
  if (opts == NULL) opts = &defaults;
  RF_ENSURE(!reg->closed, RF_EINVAL,
            "task '%s' registered after rf_run() started", name ? name : "");
  RF_ENSURE(name != NULL && name[0] != '\0' && strlen(name) < 64, RF_EINVAL,
            "a task name must have 1 to 63 characters");
  RF_ENSURE(fn != NULL, RF_EINVAL, "task '%s' has no function", name);
  RF_CHECK(check_options(name, opts));
  rf_task *found;
  RF_ENSURE(rf_task_find(rt, name, &found) != RF_OK, RF_EINVAL,
            "task '%s' is registered twice", name);
  rf__error_clear();
  RF_CHECK(rf__registry_reserve(&reg->tasks, reg->count, &reg->cap,
                                 "registering a task"));
  rf_task *t = rf__calloc(1, sizeof *t);
  if (t == NULL) return rf__error(RF_ENOMEM, "registering a task");
  t->opts = *opts;
  t->opts.tags = NULL;
  t->fn = fn;
  t->index = reg->count;
  t->name = rf__strdup(name);
  if (t->name == NULL) {
    st = rf__error(RF_ENOMEM, "registering a task");
    goto fail;
  }
  t->name_hash = XXH3_64bits(name, strlen(name));
  RF_CHECK_GOTO(copy_tags(t, opts->tags), st, fail);
  reg->tasks[reg->count++] = t;
  if (out) *out = t;
  return RF_OK;
fail:
  free_task(t);
  return st;
}

rf_status rf__registry_reserve(void *items, uint32_t count, uint32_t *cap,
                               const char *what) {
  if (count < *cap) return RF_OK;
  uint32_t n = *cap ? *cap * 2 : 16;
  void *old;
  memcpy(&old, items, sizeof old); /* items points at some T ** */
  void *p = rf__realloc(old, n * sizeof(void *));
  if (p == NULL) return rf__error(RF_ENOMEM, "%s", what);
  memcpy(items, &p, sizeof p);
  *cap = n;
  return RF_OK;
}

rf_status rf_task_find(rf_runtime *rt, const char *name, rf_task **out) {
  *out = NULL;
  for (uint32_t i = 0; name != NULL && i < rt->reg.count; i++) {
    if (strcmp(rt->reg.tasks[i]->name, name) == 0) {
      *out = rt->reg.tasks[i];
      return RF_OK;
    }
  }
  return rf__error(RF_ENOTASK, "task '%s' is not registered",
                   name ? name : "(null)");
}

const char *rf_task_name(const rf_task *task) { return task->name; }

rf_task *rf__registry_at(const rf_registry *reg, uint64_t index) {
  return index < reg->count ? reg->tasks[index] : NULL;
}

uint64_t rf__registry_fingerprint(const rf_registry *reg) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (uint32_t i = 0; i < reg->count; i++) {
    const rf_task *t = reg->tasks[i];
    const rf_task_options *o = &t->opts;
    XXH3_64bits_update(&st, t->name, strlen(t->name) + 1);
    XXH3_64bits_update(&st, &o->retries, sizeof o->retries);
    XXH3_64bits_update(&st, &o->retry_delay, sizeof o->retry_delay);
    XXH3_64bits_update(&st, &o->retry_backoff, sizeof o->retry_backoff);
    XXH3_64bits_update(&st, &o->retry_max_delay, sizeof o->retry_max_delay);
    XXH3_64bits_update(&st, &o->retry_jitter, sizeof o->retry_jitter);
    XXH3_64bits_update(&st, &o->io, sizeof o->io);
    XXH3_64bits_update(&st, &o->ranks, sizeof o->ranks);
    for (size_t k = 0; o->tags && o->tags[k]; k++) {
      XXH3_64bits_update(&st, o->tags[k], strlen(o->tags[k]) + 1);
    }
    XXH3_64bits_update(&st, "\x1e", 1); /* end of one task's record */
  }
  for (uint32_t i = 0; i < reg->nsteps; i++) {
    XXH3_64bits_update(&st, "step", 4);
    XXH3_64bits_update(&st, reg->steps[i]->name, strlen(reg->steps[i]->name) + 1);
  }
  return XXH3_64bits_digest(&st);
}
