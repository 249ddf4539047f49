/* SPDX-License-Identifier: BSD-3-Clause */
/* nest.c -- tasks that submit tasks (the origin story's get_dask_client):
 * rank 0's half.
 *
 * A running task gets a flow of its own (rf_ctx_flow) and submits, maps,
 * waits and reads results with the same calls the flow uses. On a worker
 * the submission comes to rank 0 as a message (worker/nest_client.c holds
 * the task's handle, a future with no coordinator named by a token); rank
 * 0 schedules the subtask like any other and sends its end back to that
 * rank. At one rank the subtask is an ordinary future of rank 0's, run
 * inline: this file also holds that flow's operations.
 *
 * No deadlock, bounded stack: a task that waits on subtasks gives its
 * rank's capacity back ("secedes"). The rank re-enters its loop inside
 * the wait (MPI stays on the one thread) and runs the waiting task's own
 * subtasks there: rank 0 queues a task's ready subtasks under it and
 * sends a blocked rank only those, so a waiting task never sits behind
 * unrelated work; unstarted tasks the rank held go back to rank 0 when it
 * blocks. Other workers take subtasks too, when the flow's own queue is
 * empty. At most RF_NEST_MAX waits nest on one rank.
 *
 * Ends travel down: when a task's attempt ends (completed, failed,
 * retried, cancelled), its unfinished subtasks are cancelled (pending ones
 * never run, running ones see rf_ctx_cancelled), so nothing waits for an
 * orphan; handles a task leaves behind are dropped when it returns.
 */
#include "coord.h"

#include <inttypes.h>
#include <stdio.h>

/* ---- rank 0: parents, subtasks, and their queues ------------------------- */

static rf_nest *nest_of(rf_future *f) {
  if (f->nest == NULL) f->nest = rf__calloc(1, sizeof *f->nest);
  return f->nest;
}

void rf__nest_free(rf_future *f) {
  if (f->nest == NULL) return;
  rf__free(f->nest->handles); /* their references went at tear-down */
  rf__free(f->nest->kids);
  rf__free(f->nest);
  f->nest = NULL;
}

rf_status rf__nest_reserve(rf_future *parent, rf_future *f) {
  rf_nest *pn = nest_of(parent), *kn = nest_of(f);
  if (pn == NULL || kn == NULL) return rf__error(RF_ENOMEM, "a subtask");
  return rf__array_reserve(&pn->kids, sizeof *pn->kids, pn->nkids,
                           &pn->capkids, 16, "a subtask");
}

void rf__nest_adopt(rf_future *parent, rf_future *f, int client,
                    uint64_t token) {
  rf_nest *pn = parent->nest, *kn = f->nest;
  pn->kids[pn->nkids++] = f;
  rf__future_ref(f); /* the parent's, until f ends or the parent does */
  kn->parent = parent;
  kn->client = client;
  kn->token = token;
}

int rf__nest_ready(rf_coord *co, rf_future *f) {
  if (f->nest == NULL || f->nest->parent == NULL ||
      rf__sched_lane(f) != RF_LANE_CPU) {
    return 0; /* I/O and parallel subtasks use the lanes of their kind */
  }
  rf_future *p = f->nest->parent;
  rf__sched_enqueue(&p->nest->ready, f);
  /* Idle workers find parents with ready subtasks in a list; at one rank
   * only the waiting parent's queue is ever read. */
  if (!p->nest->listed && co->nworkers > 0) {
    if (rf__array_reserve(&co->nest_parents, sizeof *co->nest_parents,
                          co->nnest_parents, &co->capnest_parents, 16,
                          "a parent of subtasks") != RF_OK) {
      /* Found by a worker blocked on p, not by idle ones. */
      return 1;
    }
    co->nest_parents[co->nnest_parents++] = p;
    rf__future_ref(p);
    p->nest->listed = 1;
  }
  return 1;
}

rf_lane *rf__nest_queue_for(rf_coord *co, const rf_worker_info *w) {
  if (w->nblocked > 0) {
    rf_future *b = w->blocked[w->nblocked - 1];
    return b->nest != NULL ? &b->nest->ready : NULL;
  }
  if (rf__sched_peek(co, RF_LANE_CPU) != NULL) return &co->ready[RF_LANE_CPU];
  /* The flow's queue is empty: help with subtasks. Parents whose queue
   * ran dry leave the list. */
  while (co->nnest_parents > 0) {
    rf_future *p = co->nest_parents[0];
    if (rf__sched_peek_q(co, &p->nest->ready) != NULL) return &p->nest->ready;
    co->nest_parents[0] = co->nest_parents[--co->nnest_parents];
    p->nest->listed = 0;
    rf__future_unref(p);
  }
  return &co->ready[RF_LANE_CPU];
}

static void cancel_kids(rf_future *p) {
  rf_nest *n = p->nest;
  rf_future **kids = n->kids;
  size_t count = n->nkids;
  n->kids = NULL;
  n->nkids = n->capkids = 0;
  for (size_t i = 0; i < count; i++) {
    rf_future *k = kids[i];
    k->nest->parent = NULL;
    (void)rf__coord_cancel(k); /* an error here is kept as fatal */
    rf__future_unref(k);
  }
  rf__free(kids);
}

void rf__nest_attempt_ended(rf_future *f) {
  if (f->nest != NULL && f->nest->nkids > 0) cancel_kids(f);
}

/* The subtask's end to the rank holding its handle. */
static void send_done(rf_coord *co, rf_future *f) {
  rf_buf b = {0};
  rf__msg_subdone(&b, f->nest->token, f->state, f->attempts, f->key,
                  rf__blob_data(&f->u.done.result), f->u.done.result.len,
                  f->error ? f->error : "no message");
  rf_status st = b.oom ? rf__error(RF_ENOMEM, "a subtask's end")
                       : rf__send(co->sendq, f->nest->client, RF_TAG_SUBDONE, &b);
  if (st != RF_OK && co->fatal == RF_OK) co->fatal = st;
}

void rf__nest_ended(rf_coord *co, rf_future *f) {
  rf_nest *n = f->nest;
  if (n == NULL) return;
  if (n->nkids > 0) cancel_kids(f);
  if (n->listed) {
    /* Its queue holds only cancelled subtasks now: dropped with it. */
    for (size_t i = 0; i < co->nnest_parents; i++) {
      if (co->nest_parents[i] != f) continue;
      co->nest_parents[i] = co->nest_parents[--co->nnest_parents];
      break;
    }
    n->listed = 0;
    rf__sched_drop_q(&n->ready);
    rf__future_unref(f); /* the list's; the live one is still held */
  }
  if (n->parent != NULL) {
    rf_nest *pn = n->parent->nest;
    for (size_t i = 0; i < pn->nkids; i++) {
      if (pn->kids[i] != f) continue;
      pn->kids[i] = pn->kids[--pn->nkids];
      rf__future_unref(f); /* the parent's; the live one is still held */
      break;
    }
    n->parent = NULL;
  }
  if (n->client > 0) {
    send_done(co, f);
    n->client = 0;
    /* The handle's rank has it all now: rank 0 keeps nothing. */
    f->flags &= (uint8_t)~RF_FUT_HELD;
    rf__future_unref(f);
  }
}


/* The task id running on src, or an error. */
static rf_status running_on(rf_coord *co, int src, uint64_t id,
                            rf_future **out) {
  rf_future *f = rf__future_lookup(co, id);
  RF_ENSURE(f != NULL && f->rank == src &&
                (f->state == RF_STATE_SCHEDULED || f->state == RF_STATE_RUNNING),
            RF_ECODEC, "malformed message: rank %d named task %" PRIx64
            " it is not running", src, id);
  *out = f;
  return RF_OK;
}

rf_status rf__nest_on_message(rf_coord *co, int src, int tag, rf_reader *r) {
  uint64_t id, token = 0, task = 0;
  const uint8_t *arg = NULL;
  size_t len = 0;
  if (tag == RF_TAG_SUBMIT) {
    RF_CHECK(rf__msg_submit_read(r, &id, &token, &task, &arg, &len));
  } else if (tag == RF_TAG_SUBCANCEL) {
    RF_CHECK(rf__msg_subcancel_read(r, &id, &token));
  } else {
    RF_CHECK(rf__msg_word_read(r, tag, &id)); /* BLOCK, UNBLOCK */
  }
  rf_worker_info *w = &co->workers[src - 1];
  rf_future *p = NULL;
  switch (tag) {
    case RF_TAG_SUBMIT: {
      const rf_task *t = rf__registry_at(co->reg, task);
      RF_ENSURE(t != NULL, RF_ENOTASK, "task index %" PRIu64
                " is not registered", task);
      RF_CHECK(running_on(co, src, id, &p));
      rf_future *f;
      rf_status st = (p->flags & RF_FUT_CANCEL)
                         ? rf__error(RF_ECANCELLED, "its parent was cancelled")
                         : rf__submit_encoded(co, t, arg, len, p, src, token, &f);
      if (st == RF_OK || st == RF_ENOMEM || st == RF_ECODEC) return st;
      /* Refused (stopping, too large, too wide): the handle hears why. */
      rf_buf b = {0};
      char why[1200];
      rf__describe(st, why, sizeof why);
      rf__msg_subdone(&b, token, RF_STATE_FAILED, 0, 0, NULL, 0, why);
      return rf__send(co->sendq, src, RF_TAG_SUBDONE, &b);
    }
    case RF_TAG_SUBCANCEL:
      RF_CHECK(running_on(co, src, id, &p));
      for (size_t i = 0; p->nest != NULL && i < p->nest->nkids; i++) {
        rf_future *k = p->nest->kids[i];
        if (k->nest->token == token && k->nest->client == src) {
          return rf__coord_cancel(k);
        }
      }
      return RF_OK; /* ended already */
    case RF_TAG_BLOCK:
      RF_CHECK(running_on(co, src, id, &p));
      RF_ENSURE(w->nblocked < RF_NEST_MAX, RF_ECODEC,
                "malformed message: rank %d blocked %d deep", src, w->nblocked);
      rf__future_ref(p);
      w->blocked[w->nblocked++] = p;
      return RF_OK;
    default: /* RF_TAG_UNBLOCK */
      RF_ENSURE(w->nblocked > 0 && rf__future_id(w->blocked[w->nblocked - 1]) == id,
                RF_ECODEC, "malformed message: rank %d unblocked %" PRIx64,
                src, id);
      rf__future_unref(w->blocked[--w->nblocked]);
      return RF_OK;
  }
}

/* ---- one rank: a task's own flow ------------------------------------------ */

static rf_status no_future(rf_future *f, void *user) {
  (void)f, (void)user;
  return RF_EINVAL;
}

/* rf_submit on a task's flow at one rank: the subtask is rank 0's own
 * future, run inline when waited on. */
static rf_status local_submit(rf_flow *flow, const rf_task *task,
                              rf_value *arg, rf_future **out) {
  *out = NULL;
  /* Futures in its argument are refused here too, as on workers. */
  if (rf__value_visit_futures(arg, no_future, NULL) != RF_OK) {
    rf_value_free(arg);
    return rf__error(RF_EINVAL, "futures cannot be arguments of subtasks");
  }
  rf_coord *co = flow->rt->co;
  rf_future *parent = rf__future_lookup(co, rf__ctx_id(flow->ctx));
  if (parent == NULL || co->nlocal >= RF_NEST_MAX) {
    rf_value_free(arg);
    return rf__error(RF_ESTATE, parent == NULL
                                    ? "submitting from a task that is not running"
                                    : "tasks nest more than %d deep",
                     RF_NEST_MAX);
  }
  /* The task's handles are rank 0's futures: remembered, so they can be
   * dropped when it returns, as on workers. */
  rf_nest *pn = nest_of(parent);
  if (pn == NULL) {
    rf_value_free(arg);
    return rf__error(RF_ENOMEM, "a subtask's handle");
  }
  if (rf__array_reserve(&pn->handles, sizeof *pn->handles, pn->nhandles,
                        &pn->caphandles, 16, "a subtask's handle") != RF_OK) {
    rf_value_free(arg);
    return RF_ENOMEM;
  }
  RF_CHECK(rf__submit_from(co, task, arg, parent, out));
  rf__future_ref(*out);
  pn->handles[pn->nhandles++] = *out;
  return RF_OK;
}

void rf__nest_local_done(rf_future *f) {
  rf_nest *n = f->nest;
  if (n == NULL || n->nhandles == 0) return;
  rf_future **h = n->handles;
  size_t count = n->nhandles;
  n->handles = NULL;
  n->nhandles = n->caphandles = 0;
  for (size_t i = 0; i < count; i++) {
    rf__coord_release(h[i]); /* the task's, if it kept it */
    rf__future_unref(h[i]);  /* the list's */
  }
  rf__free(h);
}

const rf_flow_ops rf__local_task_flow_ops = {
    .kind = "a task at one rank",
    .submit = local_submit,
    .wait = rf__coord_wait,
    .cancel = rf__coord_cancel,
    .release = rf__coord_release,
    .unref = rf__future_unref,
    .as_completed = rf__coord_as_completed,
};
