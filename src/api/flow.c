/* SPDX-License-Identifier: BSD-3-Clause */
/* flow.c -- the public flow calls: submit, map, wait, result, cancel,
 * release, as-completed, steps.
 *
 * Three flows answer them: rank 0's (its futures are the coordinator's),
 * a task's own flow at one rank (its subtasks are rank 0's futures too,
 * run inline) and a task's own flow on a worker (its subtasks are handles
 * rank 0 runs). Each flow carries its table of operations (exec.h's
 * rf_flow_ops); a future's table follows from its kind, told apart in one
 * place here (ops_of). Everything the calls share (checking a task,
 * deadlines, reading a future's state, result and error) is written once,
 * above the tables. The futures' states and edges are rank0/future.c's;
 * the handles are worker/nest_client.c's.
 */
#include "api.h"

#include <stdio.h>

/* The operations of future f: rank 0's own (it has a coordinator), or a
 * worker task's handle. */
static const rf_flow_ops *ops_of(const rf_future *f) {
  return f->co != NULL ? &rf__rank0_flow_ops : &rf__worker_flow_ops;
}

/* ---- what values ask of futures ------------------------------------------ */

static void hook_ref(rf_future *f) { f->refs++; }
static void hook_unref(rf_future *f) { ops_of(f)->unref(f); }

const rf_future_hooks rf__flow_future_hooks = {
    .ref = hook_ref,
    .unref = hook_unref,
    .key = rf__future_key,
    .result = rf__future_result_bytes,
};

/* ---- submitting ------------------------------------------------------------ */

rf_status rf_submit(rf_flow *flow, const rf_task *task, rf_value *arg,
                    rf_future **out) {
  *out = NULL;
  if (task == NULL || rf__registry_at(&flow->rt->reg, task->index) != task) {
    rf_value_free(arg);
    return rf__error(RF_EINVAL, "rf_submit: not a task of this runtime");
  }
  return flow->ops->submit(flow, task, arg, out);
}

rf_status rf_map(rf_flow *flow, const rf_task *task, rf_value *inputs,
                 rf_future ***out, size_t *n) {
  rf_status st = RF_OK;
  *out = NULL;
  *n = 0;
  if (rf_value_type_of(inputs) != RF_VALUE_LIST) {
    rf_value_free(inputs);
    return rf__error(RF_EINVAL, "rf_map: inputs must be a list");
  }
  size_t count = inputs->count;
  rf_future **futs = rf__calloc(count ? count : 1, sizeof *futs);
  if (futs == NULL) {
    rf_value_free(inputs);
    return rf__error(RF_ENOMEM, "rf_map of %zu inputs", count);
  }
  size_t i;
  for (i = 0; i < count; i++) {
    /* Steal each input so memory is given back as the map goes. */
    rf_value *item = inputs->u.c.items[i];
    inputs->u.c.items[i] = NULL;
    st = rf_submit(flow, task, item, &futs[i]);
    if (st != RF_OK) break;
  }
  rf_value_free(inputs);
  if (st != RF_OK) {
    /* Nothing stays submitted: pending tasks never run, any already sent
     * are cancelled (their results dropped). */
    for (size_t k = 0; k < i; k++) (void)rf_future_cancel(futs[k]);
    rf_futures_release(futs, i);
    return st;
  }
  *out = futs;
  *n = count;
  return RF_OK;
}

void rf_futures_release(rf_future **futures, size_t n) {
  if (futures == NULL) return;
  for (size_t i = 0; i < n; i++) rf_future_release(futures[i]);
  rf__free(futures);
}

void rf_future_release(rf_future *f) {
  if (f != NULL) ops_of(f)->release(f);
}

rf_status rf_future_cancel(rf_future *f) { return ops_of(f)->cancel(f); }

/* ---- waiting and reading ----------------------------------------------------- */

rf_status rf_future_wait(rf_future *f, double timeout) {
  if (rf__state_final((rf_state)f->state)) return RF_OK;
  uint64_t deadline = 0;
  /* Beyond ten years is no limit (and keeps the conversion defined). */
  if (timeout >= 0 && timeout < 3.2e8) {
    deadline = rf__mono_ns() + (uint64_t)(timeout * 1e9) + 1;
  }
  return ops_of(f)->wait(f, deadline);
}

rf_status rf_futures_wait(rf_future **futures, size_t n) {
  for (size_t i = 0; i < n; i++) RF_CHECK(rf_future_wait(futures[i], -1));
  return RF_OK;
}

rf_state rf_future_state(const rf_future *f) { return (rf_state)f->state; }

rf_status rf_future_result(rf_future *f, const rf_value **out) {
  *out = NULL;
  RF_CHECK(rf_future_wait(f, -1));
  switch ((rf_state)f->state) {
    case RF_STATE_COMPLETED:
      if (f->u.done.decoded == NULL) {
        RF_CHECK(rf__value_decode(rf__blob_data(&f->u.done.result),
                                  f->u.done.result.len, &f->u.done.decoded));
      }
      *out = f->u.done.decoded;
      return RF_OK;
    case RF_STATE_CANCELLED:
      return rf__error(RF_ECANCELLED, "%s was cancelled", rf_future_key(f));
    case RF_STATE_UPSTREAM_FAILED:
      return rf__error(RF_EUPSTREAM, "%s: %s", rf_future_key(f), f->error);
    case RF_STATE_FAILED:
    case RF_STATE_CRASHED:
    case RF_STATE_TIMED_OUT:
      return rf__error(RF_ETASK, "%s %s: %s", rf_future_key(f),
                       rf_state_name((rf_state)f->state),
                       f->error ? f->error : "no message");
    case RF_STATE_PENDING:
    case RF_STATE_SCHEDULED:
    case RF_STATE_RUNNING:
      break;
  }
  return rf__error(RF_ESTATE, "%s has not ended", rf_future_key(f));
}

const char *rf_future_error(const rf_future *f) {
  return f->state == RF_STATE_COMPLETED ? NULL : f->error;
}

const char *rf_future_key(const rf_future *f) {
  return rf__future_keytext((rf_future *)f); /* the text is a cache */
}

int rf_future_attempts(const rf_future *f) { return f->attempts; }
int rf_future_rank(const rf_future *f) { return f->rank; }

void rf_future_times(const rf_future *f, double *submitted, double *started,
                     double *ended) {
  if (submitted) *submitted = f->t_submit;
  if (started) *started = f->t_start;
  if (ended) *ended = rf__state_final((rf_state)f->state) ? f->t_end : 0;
}

/* ---- what only some flows do ------------------------------------------------- */

rf_status rf_as_completed_create(rf_flow *flow, rf_future **futures, size_t n,
                                 rf_as_completed **out) {
  *out = NULL;
  if (flow->ops->as_completed == NULL) {
    return rf__error(RF_ESTATE, "rf_as_completed in %s: wait on the futures "
                     "instead", flow->ops->kind);
  }
  return flow->ops->as_completed(flow, futures, n, out);
}

rf_status rf_flow_step(rf_flow *flow, const rf_step *step,
                       const rf_value *arg) {
  RF_ENSURE(flow->ops->step != NULL, RF_ESTATE,
            "rf_flow_step: only the flow runs steps, not a task's flow");
  RF_ENSURE(step != NULL &&
                rf__registry_step_at(&flow->rt->reg, step->index) == step,
            RF_EINVAL, "rf_flow_step: not a step of this runtime");
  return flow->ops->step(flow, step, arg);
}

rf_runtime *rf_flow_runtime(rf_flow *flow) { return flow->rt; }
