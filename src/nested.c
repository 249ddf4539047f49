/* nested.c -- tasks that submit tasks (the origin story's get_dask_client).
 *
 * A running task gets a flow of its own (rf_ctx_flow) and submits, maps,
 * waits and reads results with the same calls the flow uses. On a worker
 * the submission goes to rank 0 as a message and the task holds a handle
 * (a future with no coordinator, named by a token); rank 0 schedules the
 * subtask like any other and sends its end back to that rank. At one
 * rank the subtask is an ordinary future of rank 0's, run inline.
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
#include "rf_internal.h"

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
  return rf__registry_reserve(&pn->kids, pn->nkids, &pn->capkids,
                              "a subtask");
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
      rf__sched_lane(co, f) != RF_LANE_CPU) {
    return 0; /* I/O and parallel subtasks use the lanes of their kind */
  }
  rf_future *p = f->nest->parent;
  rf__sched_enqueue(&p->nest->ready, f);
  /* Idle workers find parents with ready subtasks in a list; at one rank
   * only the waiting parent's queue is ever read. */
  if (!p->nest->listed && co->nworkers > 0) {
    if (co->nnest_parents == co->capnest_parents) {
      size_t cap = co->capnest_parents ? co->capnest_parents * 2 : 16;
      rf_future **l = rf__realloc(co->nest_parents, cap * sizeof *l);
      if (l == NULL) {
        /* Found by a worker blocked on p, not by idle ones. */
        return 1;
      }
      co->nest_parents = l;
      co->capnest_parents = cap;
    }
    co->nest_parents[co->nnest_parents++] = p;
    rf__future_ref(p);
    p->nest->listed = 1;
  }
  return 1;
}

rf_lane *rf__nest_queue_for(rf_coord *co, const rf_worker_slot *w) {
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
  uint32_t count = n->nkids;
  n->kids = NULL;
  n->nkids = n->capkids = 0;
  for (uint32_t i = 0; i < count; i++) {
    rf_future *k = kids[i];
    k->nest->parent = NULL;
    (void)rf_future_cancel(k); /* an error here is kept as fatal */
    rf__future_unref(k);
  }
  rf__free(kids);
}

void rf__nest_attempt_ended(rf_coord *co, rf_future *f) {
  (void)co;
  if (f->nest != NULL && f->nest->nkids > 0) cancel_kids(f);
}

/* [token, state, attempts, key, result or message] to the handle's rank. */
static void send_done(rf_coord *co, rf_future *f) {
  rf_buf b = {0};
  msgpack_packer pk;
  rf__buf_packer(&b, &pk);
  (void)msgpack_pack_array(&pk, 5);
  (void)msgpack_pack_uint64(&pk, f->nest->token);
  (void)msgpack_pack_uint32(&pk, f->state);
  (void)msgpack_pack_uint32(&pk, f->attempts);
  (void)msgpack_pack_uint64(&pk, f->key);
  if (f->state == RF_STATE_COMPLETED) {
    (void)rf__buf_append(&b, rf__blob_data(&f->u.done.result),
                         f->u.done.result.len);
  } else {
    const char *e = f->error ? f->error : "no message";
    (void)msgpack_pack_str_with_body(&pk, e, strlen(e));
  }
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
    for (uint32_t i = 0; i < pn->nkids; i++) {
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

static rf_worker_slot *slot_of(rf_coord *co, int src) {
  return &co->workers[src - 1];
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
  uint32_t n;
  uint64_t id, token = 0, task = 0;
  const uint8_t *arg = NULL;
  size_t len = 0;
  uint32_t want = tag == RF_TAG_SUBMIT ? 4 : tag == RF_TAG_SUBCANCEL ? 2 : 1;
  RF_CHECK(rf__read_array(r, &n));
  RF_ENSURE(n == want, RF_ECODEC, "malformed message: nested, tag %d", tag);
  RF_CHECK(rf__read_uint(r, &id));
  if (tag == RF_TAG_SUBMIT || tag == RF_TAG_SUBCANCEL) {
    RF_CHECK(rf__read_uint(r, &token));
  }
  if (tag == RF_TAG_SUBMIT) {
    RF_CHECK(rf__read_uint(r, &task));
    RF_CHECK(rf__read_raw(r, &arg, &len));
  }
  RF_ENSURE(r->p == r->end, RF_ECODEC, "malformed message: trailing bytes");
  rf_worker_slot *w = slot_of(co, src);
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
      msgpack_packer pk;
      char why[1200];
      rf__describe(st, why, sizeof why);
      rf__buf_packer(&b, &pk);
      (void)msgpack_pack_array(&pk, 5);
      (void)msgpack_pack_uint64(&pk, token);
      (void)msgpack_pack_uint32(&pk, RF_STATE_FAILED);
      (void)msgpack_pack_uint32(&pk, 0);
      (void)msgpack_pack_uint64(&pk, 0);
      (void)msgpack_pack_str_with_body(&pk, why, strlen(why));
      return rf__send(co->sendq, src, RF_TAG_SUBDONE, &b);
    }
    case RF_TAG_SUBCANCEL:
      RF_CHECK(running_on(co, src, id, &p));
      for (uint32_t i = 0; p->nest != NULL && i < p->nest->nkids; i++) {
        rf_future *k = p->nest->kids[i];
        if (k->nest->token == token && k->nest->client == src) {
          return rf_future_cancel(k);
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

/* ---- the task's side: handles and waits ----------------------------------- */

/* Handles of subtasks on this rank, by token = generation << 32 | slot. */
typedef struct {
  rf_future *f;
  uint64_t owner; /* the task that submitted it */
} handle;

static struct {
  handle *h;
  uint32_t n, cap, live;
  uint32_t gen;
  rf_runtime *rt;
} cl;

const rf_registry *rf__nest_registry(void) { return &cl.rt->reg; }

static void handle_free(uint32_t slot) {
  rf_future *f = cl.h[slot].f;
  if (f == NULL) return;
  rf__blob_free(&f->u.done.result);
  rf_value_free(f->u.done.decoded);
  rf__free(f->error);
  rf__free(f->keytext);
  rf__free(f);
  cl.h[slot].f = NULL;
  cl.live--;
}

void rf__nest_task_done(uint64_t task_id) {
  if (cl.live == 0 && task_id != 0) return;
  for (uint32_t i = 0; i < cl.n; i++) {
    if (cl.h[i].f != NULL && (task_id == 0 || cl.h[i].owner == task_id)) {
      handle_free(i);
    }
  }
  if (task_id == 0) {
    rf__free(cl.h);
    memset(&cl, 0, sizeof cl);
  }
}

void rf__nest_client_release(rf_future *f) {
  if (!(f->flags & RF_FUT_HELD)) return;
  f->flags &= (uint8_t)~RF_FUT_HELD;
  /* Ended: gone now; else when its end arrives or its task returns. */
  if (rf__state_final((rf_state)f->state)) handle_free(f->slot);
}

static rf_status submit_remote(rf_ctx *ctx, rf_runtime *rt,
                               const rf_task *task, rf_value *arg,
                               rf_future **out) {
  rf_buf b = {0};
  msgpack_packer pk;
  uint32_t slot = 0;
  while (slot < cl.n && cl.h[slot].f != NULL) slot++;
  if (slot == cl.n && cl.n == cl.cap) {
    uint32_t cap = cl.cap ? cl.cap * 2 : 64;
    handle *h = rf__realloc(cl.h, cap * sizeof *h);
    if (h == NULL) {
      rf_value_free(arg);
      return rf__error(RF_ENOMEM, "a subtask's handle");
    }
    cl.h = h;
    cl.cap = cap;
  }
  rf_future *f = rf__calloc(1, sizeof *f);
  if (f == NULL) {
    rf_value_free(arg);
    return rf__error(RF_ENOMEM, "a subtask's handle");
  }
  f->task = task->index;
  f->rank = -1;
  f->refs = 1;
  f->flags = RF_FUT_HELD;
  f->state = RF_STATE_PENDING;
  f->t_submit = rf__now();
  f->slot = slot;
  f->gen = ++cl.gen;
  rf__buf_packer(&b, &pk);
  (void)msgpack_pack_array(&pk, 4);
  (void)msgpack_pack_uint64(&pk, rf__ctx_id(ctx));
  (void)msgpack_pack_uint64(&pk, (uint64_t)f->gen << 32 | slot);
  (void)msgpack_pack_uint32(&pk, task->index);
  rf_status st = rf__value_pack(&pk, arg, RF_PACK_PLAIN, NULL);
  rf_value_free(arg);
  if (st != RF_OK || b.oom) {
    rf__buf_free(&b);
    rf__free(f);
    return st != RF_OK ? rf__error(st, "a subtask's argument: %s (futures "
                                   "cannot be arguments of subtasks)",
                                   rf_last_error())
                       : rf__error(RF_ENOMEM, "a subtask's argument");
  }
  if (b.len > RF_MAX_VALUE) {
    rf__buf_free(&b);
    rf__free(f);
    return rf__error(RF_EINVAL, "argument of %s: %zu bytes is over the "
                     "limit", task->name, b.len);
  }
  st = rf__worker_send(RF_TAG_SUBMIT, &b);
  if (st != RF_OK) {
    rf__free(f);
    return st;
  }
  cl.rt = rt;
  cl.h[slot] = (handle){f, rf__ctx_id(ctx)};
  if (slot == cl.n) cl.n++;
  cl.live++;
  *out = f;
  return RF_OK;
}

static rf_status no_future(rf_future *f, void *user) {
  (void)f, (void)user;
  return RF_EINVAL;
}

rf_status rf__nest_submit(rf_flow *flow, const rf_task *task, rf_value *arg,
                          rf_future **out) {
  rf_ctx *ctx = flow->ctx;
  rf_runtime *rt = flow->rt;
  *out = NULL;
  if (!rf__ctx_may_nest(ctx)) {
    rf_value_free(arg);
    return rf__error(RF_ESTATE, "I/O tasks and parallel tasks cannot submit "
                     "subtasks");
  }
  if (task == NULL || rf__registry_at(&rt->reg, task->index) != task) {
    rf_value_free(arg);
    return rf__error(RF_EINVAL, "rf_submit: not a task of this runtime");
  }
  if (rt->rank != 0) return submit_remote(ctx, rt, task, arg, out);
  /* One rank: the subtask is rank 0's own, run inline when waited on.
   * Futures in its argument are refused here too, as on workers. */
  if (rf__value_visit_futures(arg, no_future, NULL) != RF_OK) {
    rf_value_free(arg);
    return rf__error(RF_EINVAL, "futures cannot be arguments of subtasks");
  }
  rf_coord *co = rt->co;
  rf_future *parent = rf__future_lookup(co, rf__ctx_id(ctx));
  if (parent == NULL || co->nlocal >= RF_NEST_MAX) {
    rf_value_free(arg);
    return rf__error(RF_ESTATE, parent == NULL
                                    ? "submitting from a task that is not running"
                                    : "tasks nest more than %d deep",
                     RF_NEST_MAX);
  }
  /* The task's handles are rank 0's futures: remembered, so they can be
   * dropped when it returns, as on workers. */
  rf_nest *pn = parent->nest;
  if (pn == NULL && (pn = parent->nest = rf__calloc(1, sizeof *pn)) == NULL) {
    rf_value_free(arg);
    return rf__error(RF_ENOMEM, "a subtask's handle");
  }
  if (rf__registry_reserve(&pn->handles, pn->nhandles, &pn->caphandles,
                           "a subtask's handle") != RF_OK) {
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
  uint32_t count = n->nhandles;
  n->handles = NULL;
  n->nhandles = n->caphandles = 0;
  for (uint32_t i = 0; i < count; i++) {
    rf_future_release(h[i]); /* the task's, if it kept it */
    rf__future_unref(h[i]);  /* the list's */
  }
  rf__free(h);
}

static int remote_final(void *user) {
  return rf__state_final((rf_state)((rf_future *)user)->state);
}

rf_status rf__nest_wait(rf_future *f, uint64_t deadline) {
  if (rf__state_final((rf_state)f->state)) return RF_OK;
  return rf__worker_wait(cl.rt, cl.h[f->slot].owner, remote_final, f,
                         deadline);
}

rf_status rf__nest_client_cancel(rf_future *f) {
  if (rf__state_final((rf_state)f->state)) return RF_OK;
  rf_buf b = {0};
  msgpack_packer pk;
  rf__buf_packer(&b, &pk);
  (void)msgpack_pack_array(&pk, 2);
  (void)msgpack_pack_uint64(&pk, cl.h[f->slot].owner);
  (void)msgpack_pack_uint64(&pk, (uint64_t)f->gen << 32 | f->slot);
  return rf__worker_send(RF_TAG_SUBCANCEL, &b);
}

rf_status rf__nest_on_done(rf_runtime *rt, rf_reader *r) {
  uint32_t n;
  uint64_t token, state, attempts, key;
  const uint8_t *payload;
  size_t len;
  (void)rt;
  RF_CHECK(rf__read_array(r, &n));
  RF_ENSURE(n == 5, RF_ECODEC, "malformed message: subtask end");
  RF_CHECK(rf__read_uint(r, &token));
  RF_CHECK(rf__read_uint(r, &state));
  RF_CHECK(rf__read_uint(r, &attempts));
  RF_CHECK(rf__read_uint(r, &key));
  RF_CHECK(rf__read_raw(r, &payload, &len));
  RF_ENSURE(r->p == r->end && state < RF_STATE_COUNT &&
                rf__state_final((rf_state)state) && attempts <= UINT16_MAX,
            RF_ECODEC, "malformed message: subtask end");
  uint32_t slot = (uint32_t)token;
  rf_future *f = slot < cl.n ? cl.h[slot].f : NULL;
  if (f == NULL || f->gen != (uint32_t)(token >> 32)) return RF_OK; /* dropped */
  f->attempts = (uint16_t)attempts;
  f->key = key;
  f->t_end = rf__now();
  if (state == RF_STATE_COMPLETED) {
    RF_CHECK(rf__blob_set(&f->u.done.result, payload, len));
  } else {
    char msg[1100];
    RF_CHECK(rf__read_message(payload, len, msg, sizeof msg));
    f->error = rf__strdup(msg);
  }
  f->state = (uint8_t)state;
  if (!(f->flags & RF_FUT_HELD)) handle_free(slot);
  return RF_OK;
}
