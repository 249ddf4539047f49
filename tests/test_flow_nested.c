/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_nested.c -- tasks that submit tasks (rf_ctx_flow): a fan-out
 * three levels deep with every worker holding a waiting parent, subtasks
 * retried, a failing subtask failing its parent with the cause reachable
 * (and the parent's dependents upstream-failed), a cancelled parent whose
 * endless subtask is cancelled with it. Run at 1, 2 and 4 ranks. */
#include <time.h>

#include "rf_test.h"

/* Internal, exported for tests (src/alloc.c). */
long rf__alloc_live(void);

static rf_task *tree, *boom, *parent_fail, *flaky, *uses_flaky, *forever,
    *waiter, *sum, *poller;

/* tree(d): d == 0 is a leaf (1); else 3 subtrees, waited on; returns the
 * number of nodes. */
static rf_status tree_fn(rf_ctx *ctx) {
  int64_t d = 0, total = 1;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &d);
  if (d > 0) {
    rf_value *in = rf_value_list();
    for (int i = 0; i < 3; i++) rf_value_list_append(in, rf_value_int(d - 1));
    rf_future **kids;
    size_t n;
    rf_status st = rf_map(rf_ctx_flow(ctx), tree, in, &kids, &n);
    if (st != RF_OK) {
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "map: %s", rf_last_error());
    }
    st = rf_futures_wait(kids, n);
    for (size_t i = 0; st == RF_OK && i < n; i++) {
      const rf_value *v;
      int64_t x = 0;
      st = rf_future_result(kids[i], &v);
      if (st == RF_OK) st = rf_value_get_int(v, &x);
      total += x;
    }
    rf_futures_release(kids, n);
    if (st != RF_OK) {
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "subtree: %s",
                         rf_last_error());
    }
  }
  rf_ctx_return(ctx, rf_value_int(total));
  return RF_OK;
}

static rf_status boom_fn(rf_ctx *ctx) {
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "boom 42");
}

static rf_status parent_fail_fn(rf_ctx *ctx) {
  rf_future *kid;
  const rf_value *v;
  if (rf_submit(rf_ctx_flow(ctx), boom, NULL, &kid) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "submit: %s", rf_last_error());
  }
  rf_status st = rf_future_result(kid, &v);
  rf_status out = st == RF_ETASK
                      ? rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "subtask %s: %s",
                                    rf_future_key(kid), rf_future_error(kid))
                      : rf_ctx_fail(ctx, RF_FAIL_PERMANENT,
                                    "the subtask did not fail (%s)",
                                    rf_status_name(st));
  rf_future_release(kid);
  return out;
}

static rf_status flaky_fn(rf_ctx *ctx) {
  if (rf_ctx_attempt(ctx) < 2) {
    return rf_ctx_fail(ctx, RF_FAIL_TRANSIENT, "not yet");
  }
  rf_ctx_return(ctx, rf_value_int(7));
  return RF_OK;
}

/* Returns [result, attempts] of a flaky subtask. */
static rf_status uses_flaky_fn(rf_ctx *ctx) {
  rf_future *kid;
  const rf_value *v;
  int64_t x = -1;
  if (rf_submit(rf_ctx_flow(ctx), flaky, NULL, &kid) != RF_OK ||
      rf_future_result(kid, &v) != RF_OK || rf_value_get_int(v, &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "flaky: %s", rf_last_error());
  }
  rf_value *r = rf_value_list();
  rf_value_list_append(r, rf_value_int(x));
  rf_value_list_append(r, rf_value_int(rf_future_attempts(kid)));
  rf_ctx_return(ctx, r);
  /* kid is not released: handles go when the task returns */
  return RF_OK;
}

static rf_status forever_fn(rf_ctx *ctx) {
  for (int i = 0; i < 60000 && !rf_ctx_cancelled(ctx); i++) {
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "was never cancelled");
}

/* Waits on an endless subtask until cancelled. */
static rf_status waiter_fn(rf_ctx *ctx) {
  rf_future *kid;
  if (rf_submit(rf_ctx_flow(ctx), forever, NULL, &kid) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "submit: %s", rf_last_error());
  }
  rf_status st = rf_future_wait(kid, 60);
  rf_future_release(kid);
  if (rf_ctx_cancelled(ctx)) return RF_OK; /* discarded */
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "wait ended with %s but not "
                     "cancelled", rf_status_name(st));
}

/* Polls its subtask with a zero timeout until it ends: each poll must
 * let the subtask make progress. */
static rf_status poller_fn(rf_ctx *ctx) {
  rf_future *kid;
  const rf_value *v;
  int64_t x = 0;
  long polls = 0;
  if (rf_submit(rf_ctx_flow(ctx), flaky, NULL, &kid) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "submit: %s", rf_last_error());
  }
  while (rf_future_wait(kid, 0) == RF_ETIMEDOUT && polls < 10000000) polls++;
  if (rf_future_result(kid, &v) != RF_OK || rf_value_get_int(v, &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "after %ld polls: %s", polls,
                       rf_last_error());
  }
  rf_ctx_return(ctx, rf_value_int(x));
  return RF_OK;
}

static rf_status sum_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, rf_value_int((int64_t)rf_value_count(rf_ctx_arg(ctx))));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  rf_task_options retry = {.retries = 2, .retry_delay = 0.01};
  CHECK_OK(rf_task_register(rt, "tree", tree_fn, NULL, &tree));
  CHECK_OK(rf_task_register(rt, "boom", boom_fn, NULL, &boom));
  CHECK_OK(rf_task_register(rt, "parent_fail", parent_fail_fn, NULL,
                            &parent_fail));
  CHECK_OK(rf_task_register(rt, "flaky", flaky_fn, &retry, &flaky));
  CHECK_OK(rf_task_register(rt, "uses_flaky", uses_flaky_fn, NULL,
                            &uses_flaky));
  CHECK_OK(rf_task_register(rt, "forever", forever_fn, NULL, &forever));
  CHECK_OK(rf_task_register(rt, "waiter", waiter_fn, NULL, &waiter));
  CHECK_OK(rf_task_register(rt, "sum", sum_fn, NULL, &sum));
  CHECK_OK(rf_task_register(rt, "poller", poller_fn, NULL, &poller));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  int workers = rf_runtime_size(rf_flow_runtime(flow)) - 1;
  int roots = workers > 1 ? workers : 2;
  /* Depth 3, fan-out 3: 40 nodes per tree; one root per worker, so every
   * worker holds a waiting parent (with one worker, one after the other). */
  rf_future *t[8];
  for (int i = 0; i < roots; i++) {
    REQUIRE_OK(rf_submit(flow, tree, rf_value_int(3), &t[i]));
  }
  for (int i = 0; i < roots; i++) {
    CHECK_INT(rf_test_int_result(t[i]), 40);
    rf_future_release(t[i]);
  }

  /* Retried subtask: the parent sees the result and the true attempts. */
  rf_future *u;
  REQUIRE_OK(rf_submit(flow, uses_flaky, NULL, &u));
  const rf_value *v;
  CHECK_OK(rf_future_result(u, &v));
  int64_t x = 0, attempts = 0;
  (void)rf_value_get_int(rf_value_item(v, 0), &x);
  (void)rf_value_get_int(rf_value_item(v, 1), &attempts);
  CHECK_INT(x, 7);
  CHECK_INT(attempts, 2);
  rf_future_release(u);

  /* Handles a task keeps are dropped when it returns: 50 parents that
   * keep theirs leave no memory behind. */
  long live0 = rf__alloc_live();
  for (int i = 0; i < 50; i++) {
    REQUIRE_OK(rf_submit(flow, uses_flaky, rf_value_int(i), &u));
    CHECK_OK(rf_future_wait(u, 60));
    rf_future_release(u);
  }
  long grown = rf__alloc_live() - live0;
  fprintf(stderr, "50 parents keeping their handles: %ld blocks more\n", grown);
  CHECK(grown < 50);

  /* A parent polling its subtask with zero timeouts still gets it run. */
  REQUIRE_OK(rf_submit(flow, poller, NULL, &u));
  CHECK_INT(rf_test_int_result(u), 7);
  rf_future_release(u);

  /* A failing subtask fails its parent; the cause is in its message, and
   * the parent's dependents are upstream-failed with the chain. */
  rf_future *p, *d;
  REQUIRE_OK(rf_submit(flow, parent_fail, NULL, &p));
  rf_value *arg = rf_value_list();
  rf_value_list_append(arg, rf_value_future(p));
  REQUIRE_OK(rf_submit(flow, sum, arg, &d));
  CHECK_STATUS(rf_future_result(p, &v), RF_ETASK);
  CHECK_CONTAINS(rf_future_error(p), "boom 42");
  CHECK_CONTAINS(rf_future_error(p), "subtask boom-");
  CHECK_STATUS(rf_future_result(d, &v), RF_EUPSTREAM);
  CHECK_CONTAINS(rf_future_error(d), "boom 42");
  rf_future_release(p);
  rf_future_release(d);

  /* Cancelling a parent cancels its running subtask; nothing hangs. (At
   * one rank tasks run inline: a running one cannot be cancelled.) */
  if (workers == 0) return RF_OK;
  rf_future *w;
  REQUIRE_OK(rf_submit(flow, waiter, NULL, &w));
  CHECK_STATUS(rf_future_wait(w, 0.5), RF_ETIMEDOUT);
  CHECK_OK(rf_future_cancel(w));
  CHECK_OK(rf_future_wait(w, 60));
  CHECK_STATE(w, RF_STATE_CANCELLED);
  rf_future_release(w);
  return RF_OK;
}

int main(int argc, char **argv) {
  /* parent_fail and its dependent fail on purpose: exit 1. */
  return rf_test_run(argc, argv, "test_flow_nested", reg, flow, NULL, 1);
}
