/* SPDX-License-Identifier: BSD-3-Clause */
/* future.c -- rank 0's futures: their states, references and dependency
 * edges, submitting, and the operations of rank 0's flow on them.
 *
 * A future is rank 0's record of one submitted task. It lives in a table
 * so that a worker's reply names it by (index, generation) and a stale or
 * forged id is caught rather than dereferenced. It is reference counted:
 * the flow's handle, every value that holds it, every upstream that will
 * wake it, and the scheduler while the task has not ended. Arguments are
 * kept encoded (inline when small), results too, so a million finished
 * tasks cost a few hundred bytes each. Ending a task propagates to its
 * dependents with an explicit work list, never deep recursion. The public
 * calls reach this file through rf__rank0_flow_ops (api/flow.c).
 */
#include "coord.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

/* ---- the table and references ------------------------------------------- */

uint64_t rf__future_id(const rf_future *f) {
  return ((uint64_t)f->gen << 32) | f->index;
}

#define NO_ENTRY UINT32_MAX

static int entry_is_free(const rf_future *p) {
  return ((uintptr_t)p & 1u) != 0;
}

rf_future *rf__future_lookup(rf_coord *co, uint64_t id) {
  uint32_t index = (uint32_t)id, gen = (uint32_t)(id >> 32);
  if (index >= co->nentries) return NULL;
  rf_future *f = co->table[index];
  return (!entry_is_free(f) && f->gen == gen) ? f : NULL;
}

static void entry_give(rf_coord *co, uint32_t index) {
  co->table[index] = (rf_future *)(((uintptr_t)co->free_head << 1) | 1u);
  co->free_head = index;
}

static rf_status entry_take(rf_coord *co, rf_future *f) {
  if (co->free_head != NO_ENTRY) {
    f->index = co->free_head;
    co->free_head = (uint32_t)((uintptr_t)co->table[f->index] >> 1);
  } else {
    if (co->nentries == co->capentries) {
      uint32_t cap = co->capentries ? co->capentries * 2 : 1024;
      rf_future **t = rf__realloc(co->table, cap * sizeof *t);
      if (t == NULL) return rf__error(RF_ENOMEM, "growing the future table");
      co->table = t;
      co->capentries = cap;
    }
    f->index = co->nentries++;
  }
  f->gen = ++co->gen;
  co->table[f->index] = f;
  return RF_OK;
}

/* Free what the union holds in f's current phase. */
static void clear_phase(rf_future *f) {
  if (rf__state_final((rf_state)f->state)) {
    rf__blob_free(&f->u.done.result);
    rf_value_free(f->u.done.decoded);
    f->u.done.decoded = NULL;
  } else {
    rf__blob_free(&f->u.live.arg);
    rf_value_free(f->u.live.tree);
    f->u.live.tree = NULL;
    rf__free(f->u.live.deps); /* only at tear-down: deps are gone by then */
    f->u.live.deps = NULL;
  }
}

static void destroy(rf_future *f) {
  entry_give(f->co, f->index);
  rf__nest_free(f);
  clear_phase(f);
  rf__free(f->error);
  rf__free(f->keytext);
  rf__free(f);
}

void rf__future_ref(rf_future *f) { f->refs++; }

void rf__future_unref(rf_future *f) {
  if (--f->refs == 0) destroy(f);
}

void rf__futures_free_all(rf_coord *co) {
  /* Tear-down: references may form cycles (a dependent's argument holds its
   * upstream, the upstream holds the dependent), so free by entry. Values in
   * trees must not touch freed futures: drop the trees first. */
  for (uint32_t i = 0; i < co->nentries; i++) {
    rf_future *f = co->table[i];
    if (entry_is_free(f)) continue;
    f->refs = UINT32_MAX / 2; /* keep everything alive while trees go */
  }
  for (uint32_t i = 0; i < co->nentries; i++) {
    rf_future *f = co->table[i];
    if (entry_is_free(f) || rf__state_final((rf_state)f->state)) continue;
    rf_value_free(f->u.live.tree);
    f->u.live.tree = NULL;
  }
  for (uint32_t i = 0; i < co->nentries; i++) {
    if (!entry_is_free(co->table[i])) destroy(co->table[i]);
  }
}

uint64_t rf__future_key(const rf_future *f) { return f->key; }

rf_status rf__future_result_bytes(const rf_future *f, const uint8_t **data,
                                  size_t *len) {
  if (f->state != RF_STATE_COMPLETED) {
    return rf__error(RF_ESTATE, "future %s has no result",
                     rf__future_keytext((rf_future *)f));
  }
  *data = rf__blob_data(&f->u.done.result);
  *len = f->u.done.result.len;
  return RF_OK;
}

/* ---- ending and waking -------------------------------------------------- */

static rf_status add_dependent(rf_future *up, rf_future *down) {
  struct rf_deps *d = up->u.live.deps;
  if (d == NULL || d->n == d->cap) {
    uint32_t cap = d ? d->cap * 2 : 2;
    d = rf__realloc(d, sizeof *d + cap * sizeof d->items[0]);
    if (d == NULL) return rf__error(RF_ENOMEM, "recording a dependency");
    if (up->u.live.deps == NULL) d->n = 0;
    d->cap = cap;
    up->u.live.deps = d;
  }
  d->items[d->n++] = down;
  rf__future_ref(down);
  return RF_OK;
}


static void watcher_push(rf_as_completed *it, rf_future *f);

/* End one future, without touching dependents: its waiting dependents are
 * handed back in *deps. */
static void end_one(rf_future *f, rf_state st, const char *error,
                    rf_blob *result, struct rf_deps **deps) {
  rf_coord *co = f->co;
  *deps = f->u.live.deps;
  f->u.live.deps = NULL;
  clear_phase(f); /* the argument is no longer needed by anyone */
  f->state = (uint8_t)st;
  memset(&f->u.done, 0, sizeof f->u.done);
  if (result != NULL) {
    f->u.done.result = *result; /* moved */
    memset(result, 0, sizeof *result);
  }
  f->t_end = rf__now();
  if (st == RF_STATE_COMPLETED) {
    rf__free(f->error);
    f->error = NULL;
  } else if (error != NULL &&
             (f->error == NULL || strcmp(f->error, error) != 0)) {
    rf__free(f->error);
    /* Out of memory here loses only the message, never the state. */
    f->error = rf__strdup(error);
  }
  co->totals[st]++;
  co->unfinished--;
  if (co->report != NULL) {
    rf__report_task(co->report, rf__future_keytext(f), f->task->name,
                    rf_state_name(st), f->attempts,
                    (f->flags & RF_FUT_JOURNAL) != 0, f->error);
  }
  if (f->watcher != NULL) watcher_push(f->watcher, f);
}

/* Room for one more entry on the work list; 0 when out of memory. */
static int ending_room(rf_coord *co) {
  if (co->nending < co->capending) return 1;
  size_t cap = co->capending ? co->capending * 2 : 64;
  struct rf_ending *e = rf__realloc(co->ending, cap * sizeof *e);
  if (e == NULL) return 0;
  co->ending = e;
  co->capending = cap;
  return 1;
}

void rf__future_end(rf_future *f, rf_state st, const char *error,
                    rf_blob *result) {
  rf_coord *co = f->co;
  size_t base = co->nending;
  struct rf_deps *deps;
  end_one(f, st, error, result, &deps);
  /* A work list of ended futures whose dependents must hear of it, so a
   * failure at the head of a long chain needs no deep recursion. */
  if (!ending_room(co)) {
    /* Dependents of f stay waiting; the job ends with exit 3. */
    co->fatal = rf__error(RF_ENOMEM, "propagating a task's end");
    rf__free(deps);
    return;
  }
  co->ending[co->nending++] = (struct rf_ending){f, deps};
  while (co->nending > base) {
    struct rf_ending e = co->ending[--co->nending];
    rf_future *u = e.f;
    for (uint32_t i = 0; e.deps != NULL && i < e.deps->n; i++) {
      rf_future *down = e.deps->items[i];
      if (!rf__state_final((rf_state)down->state)) {
        if (u->state == RF_STATE_COMPLETED) {
          if (--down->waiting == 0) rf__sched_ready(down);
        } else {
          char msg[1024];
          struct rf_deps *dd;
          snprintf(msg, sizeof msg, "upstream %s %s: %s", rf__future_keytext(u),
                   rf_state_name((rf_state)u->state),
                   u->error ? u->error : "no message");
          end_one(down, RF_STATE_UPSTREAM_FAILED, msg, NULL, &dd);
          if (ending_room(co)) {
            co->ending[co->nending++] = (struct rf_ending){down, dd};
            continue; /* its references are dropped when it is popped */
          }
          co->fatal = rf__error(RF_ENOMEM, "propagating a task's end");
          rf__free(dd);
          rf__future_unref(down); /* live */
        }
      }
      rf__future_unref(down); /* the upstream's reference */
    }
    rf__free(e.deps);
    /* Subtasks and parents: the handle's rank hears of the end, a parent's
     * subtasks are cancelled (nest.c). */
    if (u->nest != NULL) rf__nest_ended(co, u);
    /* A dependent ended here also loses the reference its upstream held,
     * which the loop above kept. The live reference goes unless a queue
     * still holds the future (the queue drops it on pop). */
    if (u != f) rf__future_unref(u);
    if (!(u->flags & RF_FUT_QUEUED)) rf__future_unref(u);
  }
}

/* ---- submitting --------------------------------------------------------- */

typedef struct {
  rf_future *down;
  rf_future *failed; /* first upstream that did not complete */
  rf_status st;
} dep_walk;

static rf_status visit_dep(rf_future *up, void *user) {
  dep_walk *w = user;
  if (up->co != w->down->co) {
    return rf__error(RF_EINVAL, "a future of another runtime in an argument");
  }
  if (rf__state_final((rf_state)up->state)) {
    if (up->state != RF_STATE_COMPLETED && w->failed == NULL) w->failed = up;
    return RF_OK;
  }
  RF_CHECK(add_dependent(up, w->down));
  w->down->waiting++;
  return RF_OK;
}

/* Undo one edge from up to down, if there is one (a failed submit). */
static rf_status unwire_dep(rf_future *up, void *user) {
  rf_future *down = user;
  if (up->co != down->co || rf__state_final((rf_state)up->state)) return RF_OK;
  struct rf_deps *d = up->u.live.deps;
  for (uint32_t i = d ? d->n : 0; i-- > 0;) {
    if (d->items[i] != down) continue;
    memmove(&d->items[i], &d->items[i + 1],
            (d->n - i - 1) * sizeof d->items[0]);
    d->n--;
    down->waiting--;
    rf__future_unref(down);
    break;
  }
  return RF_OK;
}

/* Let workers start while the flow is still submitting; at one rank tasks
 * stay deferred until the flow blocks. An error here is kept by the
 * coordinator (fatal or stop) and surfaces at the flow's next wait: the
 * submission itself has succeeded. */
static void pump_if_due(rf_coord *co) {
  if (co->nworkers == 0 || ++co->since_poll < 64) return;
  co->since_poll = 0;
  (void)rf__coord_progress(co, NULL, NULL, 0);
}

static rf_status submit(rf_coord *co, const rf_task *task, rf_value *arg,
                        const uint8_t *bytes, size_t len, rf_future *parent,
                        int client, uint64_t token, rf_future **out);

/* rf_submit on rank 0's flow. */
static rf_status flow_submit(rf_flow *flow, const rf_task *task,
                             rf_value *arg, rf_future **out) {
  return submit(flow->rt->co, task, arg, NULL, 0, NULL, 0, 0, out);
}

rf_status rf__submit_from(rf_coord *co, const rf_task *task, rf_value *arg,
                          rf_future *parent, rf_future **out) {
  return submit(co, task, arg, NULL, 0, parent, 0, 0, out);
}

rf_status rf__submit_encoded(rf_coord *co, const rf_task *task,
                             const uint8_t *bytes, size_t len,
                             rf_future *parent, int client, uint64_t token,
                             rf_future **out) {
  return submit(co, task, NULL, bytes, len, parent, client, token, out);
}

/* Submit task (one of co's registry: the callers checked) on arg (a value,
 * taken) or on bytes already encoded without futures; a subtask names its
 * parent, and the rank (client) holding its handle under token. */
static rf_status submit(rf_coord *co, const rf_task *task, rf_value *arg,
                        const uint8_t *bytes, size_t len, rf_future *parent,
                        int client, uint64_t token, rf_future **out) {
  rf_future *f = NULL;
  rf_status st;
  size_t nfut = 0;
  *out = NULL;
  if (co->fatal != RF_OK) {
    st = co->fatal;
    goto fail;
  }
  if (co->stop != RF_SIGNAL_NONE || rf__signal_requested() != RF_SIGNAL_NONE) {
    st = rf__error(RF_ESTOPPED, "the job is stopping; %s not submitted",
                   task->name);
    goto fail;
  }
  int width = rf__task_width(task);
  if (width > 1 && width > co->nworkers) {
    st = co->nworkers == 0
             ? rf__error(RF_EUSAGE,
                         "task %s runs on %d ranks; at one rank tasks run "
                         "inline, one rank each", task->name, width)
             : rf__error(RF_EUSAGE,
                         "task %s runs on %d ranks; this job has %d worker%s",
                         task->name, width, co->nworkers,
                         co->nworkers == 1 ? "" : "s");
    goto fail;
  }
  f = rf__calloc(1, sizeof *f);
  if (f == NULL) {
    st = rf__error(RF_ENOMEM, "submitting %s", task->name);
    goto fail;
  }
  f->co = co;
  f->task = co->reg->tasks[task->index];
  f->rank = -1;
  f->refs = 1; /* the flow's handle; the live reference comes below */
  f->flags = RF_FUT_HELD;
  f->t_submit = rf__now();
  RF_CHECK_GOTO(entry_take(co, f), st, fail_free);

  /* Encode with futures as their keys: these bytes give the task key and,
   * when there is no future in them, are the argument as sent. */
  msgpack_packer pk;
  co->scratch.len = 0;
  rf__buf_packer(&co->scratch, &pk);
  if (bytes != NULL) {
    RF_CHECK_GOTO(rf__buf_append(&co->scratch, bytes, len), st, fail_entry);
  } else {
    RF_CHECK_GOTO(rf__value_pack(&pk, arg, RF_PACK_KEY, &nfut), st, fail_entry);
  }
  if (co->scratch.oom) {
    st = rf__error(RF_ENOMEM, "encoding the argument of %s", task->name);
    goto fail_entry;
  }
  if (co->scratch.len > RF_MAX_VALUE) {
    st = rf__error(RF_EINVAL, "argument of %s: %zu bytes is over the %zu-byte "
                   "limit", task->name, co->scratch.len, (size_t)RF_MAX_VALUE);
    goto fail_entry;
  }
  f->key = XXH3_64bits_withSeed(co->scratch.data, co->scratch.len,
                                task->name_hash);
  if (parent != NULL) RF_CHECK_GOTO(rf__nest_reserve(parent, f), st, fail_entry);
  if (parent != NULL && co->journal != NULL && !parent->nest->journaled) {
    /* A task host cannot submit: a resume must not isolate the parent. */
    parent->nest->journaled = 1;
    RF_CHECK_GOTO(rf__journal_mark(co->journal, RF_JOURNAL_PARENT, parent->key),
                  st, fail_entry);
  }
  if (co->journal != NULL) {
    /* Finished in an earlier run: resolved now, never sent, its upstream
     * futures not waited for. */
    rf_blob result = {0};
    int hit = rf__journal_lookup(co->journal, f->key, &result, &st);
    if (st != RF_OK) goto fail_entry;
    if (hit) {
      if (parent != NULL) rf__nest_adopt(parent, f, client, token);
      rf_value_free(arg);
      co->submitted++;
      co->unfinished++;
      co->from_journal++;
      f->refs++; /* live, dropped as it ends */
      f->flags |= RF_FUT_JOURNAL;
      *out = f;
      rf__future_end(f, RF_STATE_COMPLETED, NULL, &result);
      return RF_OK;
    }
    /* What an earlier run saw of it: crashes that reached the limit end
     * it now; a start without an end (it may have killed its rank) makes
     * it run in a task host. */
    rf_mark *m = rf__marks_find(&co->marks, f->key);
    if (m != NULL && m->final && !co->rt->opts.retry_failed) {
      if (parent != NULL) rf__nest_adopt(parent, f, client, token);
      rf_value_free(arg);
      co->submitted++;
      co->unfinished++;
      f->refs++; /* live, dropped as it ends */
      *out = f;
      char msg[200];
      snprintf(msg, sizeof msg, "crashed its task host %d times in earlier "
               "runs (--crash-limit); not run again without --retry-failed",
               (int)m->crashes);
      rf__future_end(f, RF_STATE_CRASHED, msg, NULL);
      return RF_OK;
    }
    if (m != NULL && m->final) m->crashes = 0; /* --retry-failed: afresh */
    if (m != NULL && m->started && !m->parent &&
        !rf__task_isolated(co->rt, task) &&
        rf__attempt_isolated(co->rt, task, 1)) {
      f->flags |= RF_FUT_ISOLATE;
      rf__log(RF_LOG_INFO, rf__future_keytext(f),
              "was running when an earlier run ended: running it isolated");
    }
  }
  dep_walk w = {f, NULL, RF_OK};
  if (nfut == 0) {
    RF_CHECK_GOTO(
        rf__blob_set(&f->u.live.arg, co->scratch.data, co->scratch.len), st,
        fail_entry);
    rf_value_free(arg);
  } else {
    f->u.live.tree = arg;
    f->flags |= RF_FUT_TREE;
    /* Edges added before a failure stay: each holds a reference and the
     * upstream drops it when it ends, so the half-wired future is freed
     * then. Until then it sits in its entry as pending. */
    st = rf__value_visit_futures(arg, visit_dep, &w);
    if (st != RF_OK) {
      /* Unwire the edges made before the failure; then nothing refers to
       * f and it goes with its argument, as if never submitted. */
      rf_status ignored = rf__value_visit_futures(arg, unwire_dep, f);
      (void)ignored;
      f->refs--; /* the flow's; the edges' went with them */
      if (f->refs == 0) destroy(f);
      return st;
    }
  }
  if (parent != NULL) rf__nest_adopt(parent, f, client, token);
  co->submitted++;
  co->unfinished++;
  f->refs++; /* live until the task ends */
  *out = f;
  if (w.failed != NULL) {
    char msg[1024];
    snprintf(msg, sizeof msg, "upstream %s %s: %s",
             rf__future_keytext(w.failed),
             rf_state_name((rf_state)w.failed->state),
             w.failed->error ? w.failed->error : "no message");
    rf__future_end(f, RF_STATE_UPSTREAM_FAILED, msg, NULL);
  } else if (f->waiting == 0) {
    rf__sched_ready(f);
  }
  pump_if_due(co);
  return RF_OK;

fail_entry:
  entry_give(co, f->index);
fail_free:
  rf__blob_free(&f->u.live.arg);
  rf__nest_free(f);
  rf__free(f);
fail:
  rf_value_free(arg);
  return st;
}

/* ---- rank 0's flow ------------------------------------------------------- */

void rf__coord_release(rf_future *f) {
  if (!(f->flags & RF_FUT_HELD)) return;
  f->flags &= (uint8_t)~RF_FUT_HELD;
  rf__future_unref(f);
}

static int is_final(void *user) {
  return rf__state_final((rf_state)((rf_future *)user)->state);
}

rf_status rf__coord_wait(rf_future *f, uint64_t deadline_ns) {
  return rf__coord_progress(f->co, is_final, f, deadline_ns);
}

rf_status rf__coord_cancel(rf_future *f) {
  rf_coord *co = f->co;
  if (rf__state_final((rf_state)f->state)) return RF_OK;
  /* Its subtasks first: a task waiting on them wakes up to its flag. */
  rf__nest_attempt_ended(f);
  f->flags |= RF_FUT_CANCEL;
  if (f->state == RF_STATE_PENDING) {
    /* Queued (ready or waiting for a retry) or waiting on upstreams: it
     * never runs. A queue drops it when it comes to the front. */
    rf__future_end(f, RF_STATE_CANCELLED, "cancelled before it ran", NULL);
    return RF_OK;
  }
  return rf__coord_cancel_remote(co, f);
}

/* ---- as-completed ------------------------------------------------------- */

struct rf_as_completed {
  rf_coord *co;
  rf_future **futures; /* borrowed */
  size_t n;
  rf_future **done;    /* ended, not yet given, in order of ending */
  size_t head, tail, given;
};

static void watcher_push(rf_as_completed *it, rf_future *f) {
  it->done[it->tail++] = f;
  f->watcher = NULL;
}

rf_status rf__coord_as_completed(rf_flow *flow, rf_future **futures, size_t n,
                                 rf_as_completed **out) {
  *out = NULL;
  rf_as_completed *it = rf__calloc(1, sizeof *it);
  if (it == NULL) return rf__error(RF_ENOMEM, "as-completed iterator");
  it->done = rf__calloc(n ? n : 1, sizeof *it->done);
  if (it->done == NULL) {
    rf__free(it);
    return rf__error(RF_ENOMEM, "as-completed iterator of %zu", n);
  }
  it->co = flow->rt->co;
  it->futures = futures;
  it->n = n;
  for (size_t i = 0; i < n; i++) {
    rf_future *f = futures[i];
    if (f->watcher != NULL) {
      rf_status st = rf__error(RF_EINVAL, "%s is %s", rf__future_keytext(f),
                               f->watcher == it
                                   ? "given twice to one as-completed iterator"
                                   : "already in another as-completed iterator");
      it->n = i; /* only these were marked */
      rf_as_completed_free(it);
      return st;
    }
    f->watcher = it; /* also marks finished ones, to catch duplicates */
  }
  for (size_t i = 0; i < n; i++) {
    if (rf__state_final((rf_state)futures[i]->state)) {
      watcher_push(it, futures[i]);
    }
  }
  *out = it;
  return RF_OK;
}

static int has_done(void *user) {
  rf_as_completed *it = user;
  return it->head < it->tail;
}

rf_status rf_as_completed_next(rf_as_completed *it, rf_future **out) {
  *out = NULL;
  if (it->given == it->n) return RF_OK;
  if (it->head == it->tail) {
    RF_CHECK(rf__coord_progress(it->co, has_done, it, 0));
  }
  *out = it->done[it->head++];
  it->given++;
  return RF_OK;
}

void rf_as_completed_free(rf_as_completed *it) {
  if (it == NULL) return;
  for (size_t i = 0; i < it->n; i++) {
    if (it->futures[i]->watcher == it) it->futures[i]->watcher = NULL;
  }
  rf__free(it->done);
  rf__free(it);
}

const rf_flow_ops rf__rank0_flow_ops = {
    .kind = "the flow",
    .submit = flow_submit,
    .wait = rf__coord_wait,
    .cancel = rf__coord_cancel,
    .release = rf__coord_release,
    .unref = rf__future_unref,
    .as_completed = rf__coord_as_completed,
    .step = rf__coord_step,
};
