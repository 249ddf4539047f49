/* SPDX-License-Identifier: BSD-3-Clause */
/* registry.c -- tasks and steps by name, and a fingerprint every rank
 * compares.
 *
 * Ranks identify a task or a step by its index in the registry, so every
 * rank must register the same ones in the same order. Two builds in one
 * job would otherwise run the wrong function: rf_run() compares the
 * fingerprint (a hash of every name and option, in order) across ranks
 * before anything is dispatched.
 */
#include "exec.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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
  for (size_t i = 0; i < reg->count; i++) free_task(reg->tasks[i]);
  for (size_t i = 0; i < reg->nsteps; i++) {
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
  RF_ENSURE(o->isolate >= -1 && o->isolate <= 1, RF_EINVAL,
            "task '%s': isolate must be -1, 0 or 1", name);
  RF_ENSURE(!(o->isolate == 1 && (o->io || o->ranks > 1)), RF_EINVAL,
            "task '%s': io and parallel tasks cannot be isolated", name);
  RF_ENSURE(isfinite(o->timeout) && o->timeout >= 0, RF_EINVAL,
            "task '%s': timeout must be >= 0", name);
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
  RF_CHECK(rf__array_reserve(&reg->tasks, sizeof *reg->tasks, reg->count,
                             &reg->cap, 16, "registering a task"));
  rf_task *t = rf__calloc(1, sizeof *t);
  if (t == NULL) return rf__error(RF_ENOMEM, "registering a task");
  t->opts = *opts;
  t->opts.tags = NULL;
  t->fn = fn;
  t->index = (uint32_t)reg->count;
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

rf_status rf_task_find(rf_runtime *rt, const char *name, rf_task **out) {
  *out = NULL;
  for (size_t i = 0; name != NULL && i < rt->reg.count; i++) {
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

int rf__task_width(const rf_task *t) {
  return t->opts.ranks > 1 ? t->opts.ranks : 1;
}

/* ---- steps ---------------------------------------------------------------- */

rf_status rf_step_register(rf_runtime *rt, const char *name, rf_step_fn fn,
                           rf_step **out) {
  rf_registry *reg = &rt->reg;
  if (out) *out = NULL;
  RF_ENSURE(!reg->closed, RF_EINVAL, "step registered after rf_run() started");
  RF_ENSURE(name != NULL && name[0] != '\0' && strlen(name) < 64 && fn != NULL,
            RF_EINVAL, "a step needs a name of 1 to 63 characters and a function");
  for (size_t i = 0; i < reg->nsteps; i++) {
    RF_ENSURE(strcmp(reg->steps[i]->name, name) != 0, RF_EINVAL,
              "step '%s' is registered twice", name);
  }
  RF_CHECK(rf__array_reserve(&reg->steps, sizeof *reg->steps, reg->nsteps,
                             &reg->capsteps, 16, "registering a step"));
  rf_step *s = rf__calloc(1, sizeof *s);
  char *copy = rf__strdup(name);
  if (s == NULL || copy == NULL) {
    rf__free(s);
    rf__free(copy);
    return rf__error(RF_ENOMEM, "registering a step");
  }
  s->name = copy;
  s->fn = fn;
  s->index = (uint32_t)reg->nsteps;
  reg->steps[reg->nsteps++] = s;
  if (out) *out = s;
  return RF_OK;
}

rf_status rf_step_find(rf_runtime *rt, const char *name, rf_step **out) {
  *out = NULL;
  for (size_t i = 0; name != NULL && i < rt->reg.nsteps; i++) {
    if (strcmp(rt->reg.steps[i]->name, name) == 0) {
      *out = rt->reg.steps[i];
      return RF_OK;
    }
  }
  return rf__error(RF_ENOTASK, "step '%s' is not registered",
                   name ? name : "(null)");
}

rf_step *rf__registry_step_at(const rf_registry *reg, uint64_t index) {
  return index < reg->nsteps ? reg->steps[index] : NULL;
}

uint64_t rf__registry_fingerprint(const rf_registry *reg) {
  XXH3_state_t st;
  XXH3_64bits_reset(&st);
  for (size_t i = 0; i < reg->count; i++) {
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
    XXH3_64bits_update(&st, &o->isolate, sizeof o->isolate);
    XXH3_64bits_update(&st, &o->timeout, sizeof o->timeout);
    XXH3_64bits_update(&st, &o->memory, sizeof o->memory);
    for (size_t k = 0; o->tags && o->tags[k]; k++) {
      XXH3_64bits_update(&st, o->tags[k], strlen(o->tags[k]) + 1);
    }
    XXH3_64bits_update(&st, "\x1e", 1); /* end of one task's record */
  }
  for (size_t i = 0; i < reg->nsteps; i++) {
    XXH3_64bits_update(&st, "step", 4);
    XXH3_64bits_update(&st, reg->steps[i]->name, strlen(reg->steps[i]->name) + 1);
  }
  return XXH3_64bits_digest(&st);
}

/* ---- task keys -------------------------------------------------------------- */

void rf__key_format(const char *name, uint64_t key, char *buf, size_t len) {
  snprintf(buf, len, "%s-%016" PRIx64, name, key);
}

const char *rf__future_keytext(rf_future *f) {
  if (f->keytext == NULL) {
    char buf[96];
    rf__key_format(f->task->name, f->key, buf, sizeof buf);
    f->keytext = rf__strdup(buf);
    if (f->keytext == NULL) return "(out of memory)";
  }
  return f->keytext;
}
