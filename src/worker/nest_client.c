/* SPDX-License-Identifier: BSD-3-Clause */
/* nest_client.c -- a task's subtasks on a worker: the handles it holds.
 *
 * A task running on a worker submits with the flow calls on rf_ctx_flow;
 * here a submission becomes a SUBMIT message to rank 0 and a handle: a
 * future with no coordinator, named by a token (generation << 32 |
 * index in this rank's handle table). Rank 0 schedules the subtask like
 * any other (rank0/nest.c) and sends its end back (SUBDONE), which fills
 * the handle. Waiting re-enters the worker's loop (worker.c), so the rank
 * runs the waiting task's own subtasks meanwhile. Handles a task leaves
 * behind are dropped when it returns; a released handle goes when its end
 * arrives. Subtasks' arguments may not hold futures.
 */
#include "worker.h"

#include <string.h>

/* Handles of subtasks on this rank, by token. */
typedef struct {
  rf_future *f;
  uint64_t owner; /* the task that submitted it */
} handle;

static struct {
  handle *h;
  size_t n, cap, live;
  uint32_t gen;
} cl;

static uint64_t token_of(const rf_future *f) {
  return (uint64_t)f->gen << 32 | f->index;
}

static void handle_free(uint32_t index) {
  rf_future *f = cl.h[index].f;
  if (f == NULL) return;
  rf__blob_free(&f->u.done.result);
  rf_value_free(f->u.done.decoded);
  rf__free(f->error);
  rf__free(f->keytext);
  rf__free(f);
  cl.h[index].f = NULL;
  cl.live--;
}

void rf__client_task_done(uint64_t task_id) {
  if (cl.live == 0 && task_id != 0) return;
  for (size_t i = 0; i < cl.n; i++) {
    if (cl.h[i].f != NULL && (task_id == 0 || cl.h[i].owner == task_id)) {
      handle_free((uint32_t)i);
    }
  }
  if (task_id == 0) {
    rf__free(cl.h);
    memset(&cl, 0, sizeof cl);
  }
}

static void client_release(rf_future *f) {
  if (!(f->flags & RF_FUT_HELD)) return;
  f->flags &= (uint8_t)~RF_FUT_HELD;
  /* Ended: gone now; else when its end arrives or its task returns. */
  if (rf__state_final((rf_state)f->state)) handle_free(f->index);
}

/* A value's reference: the handle's life is its task's, not the values'. */
static void client_unref(rf_future *f) { f->refs--; }

static rf_status client_submit(rf_flow *flow, const rf_task *task,
                               rf_value *arg, rf_future **out) {
  uint64_t parent = rf__ctx_id(flow->ctx);
  rf_buf b = {0};
  *out = NULL;
  size_t index = 0;
  while (index < cl.n && cl.h[index].f != NULL) index++;
  if (index == cl.n && rf__array_reserve(&cl.h, sizeof *cl.h, cl.n, &cl.cap,
                                         64, "a subtask's handle") != RF_OK) {
    rf_value_free(arg);
    return RF_ENOMEM;
  }
  rf_future *f = rf__calloc(1, sizeof *f);
  if (f == NULL) {
    rf_value_free(arg);
    return rf__error(RF_ENOMEM, "a subtask's handle");
  }
  f->task = flow->rt->reg.tasks[task->index];
  f->rank = -1;
  f->refs = 1;
  f->flags = RF_FUT_HELD;
  f->state = RF_STATE_PENDING;
  f->t_submit = rf__now();
  f->index = (uint32_t)index;
  f->gen = ++cl.gen;
  rf_status st = rf__msg_submit(&b, parent, token_of(f), task->index, arg);
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
  cl.h[index] = (handle){f, parent};
  if (index == cl.n) cl.n++;
  cl.live++;
  *out = f;
  return RF_OK;
}

static int ended(void *user) {
  return rf__state_final((rf_state)((rf_future *)user)->state);
}

static rf_status client_wait(rf_future *f, uint64_t deadline) {
  if (rf__state_final((rf_state)f->state)) return RF_OK;
  return rf__worker_wait(cl.h[f->index].owner, ended, f, deadline);
}

static rf_status client_cancel(rf_future *f) {
  if (rf__state_final((rf_state)f->state)) return RF_OK;
  rf_buf b = {0};
  rf__msg_subcancel(&b, cl.h[f->index].owner, token_of(f));
  return rf__worker_send(RF_TAG_SUBCANCEL, &b);
}

rf_status rf__client_on_done(rf_reader *r) {
  uint64_t token, state, attempts, key;
  const uint8_t *payload;
  size_t len;
  RF_CHECK(rf__msg_subdone_read(r, &token, &state, &attempts, &key, &payload,
                                &len));
  uint32_t index = (uint32_t)token;
  rf_future *f = index < cl.n ? cl.h[index].f : NULL;
  if (f == NULL || f->gen != (uint32_t)(token >> 32)) return RF_OK; /* dropped */
  f->attempts = (uint16_t)attempts;
  f->key = key;
  f->t_end = rf__now();
  if (state == RF_STATE_COMPLETED) {
    RF_CHECK(rf__blob_set(&f->u.done.result, payload, len));
  } else {
    char msg[1100];
    RF_CHECK(rf__text_decode(payload, len, msg, sizeof msg));
    f->error = rf__strdup(msg);
  }
  f->state = (uint8_t)state;
  if (!(f->flags & RF_FUT_HELD)) handle_free(index);
  return RF_OK;
}

const rf_flow_ops rf__worker_flow_ops = {
    .kind = "a task on a worker",
    .submit = client_submit,
    .wait = client_wait,
    .cancel = client_cancel,
    .release = client_release,
    .unref = client_unref,
};
