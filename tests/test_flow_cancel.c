/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_cancel.c -- cancelling: a pending task never runs; a running
 * task sees rf_ctx_cancelled() and its result is dropped; waiting with a
 * timeout returns RF_ETIMEDOUT without ending the task. Cancelled tasks do
 * not make the job fail (exit 0). */
#include <time.h>

#include "rf_test.h"

static rf_task *nap, *until_cancelled;
static int nap_runs; /* counts inline runs (1 rank) */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Sleeps arg milliseconds in steps, leaving early when cancelled. */
static rf_status nap_fn(rf_ctx *ctx) {
  int64_t ms = 0;
  nap_runs++;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &ms);
  for (int64_t t = 0; t < ms && !rf_ctx_cancelled(ctx); t += 5) sleep_ms(5);
  rf_ctx_return(ctx, rf_value_int(ms));
  return RF_OK;
}

/* Runs until cancelled, at most 20 s. */
static rf_status until_fn(rf_ctx *ctx) {
  for (int i = 0; i < 20000; i++) {
    if (rf_ctx_cancelled(ctx)) {
      rf_ctx_return(ctx, rf_value_string("saw the cancel"));
      return RF_OK;
    }
    sleep_ms(1);
  }
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "never saw the cancel");
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "nap", nap_fn, NULL, &nap));
  CHECK_OK(rf_task_register(rt, "until_cancelled", until_fn, NULL,
                            &until_cancelled));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  int ranks = rf_runtime_size(rf_flow_runtime(flow));
  const rf_value *v;

  /* Pending: submitted and cancelled before anything could take it. */
  rf_future *pending;
  REQUIRE_OK(rf_submit(flow, nap, rf_value_int(1), &pending));
  CHECK_OK(rf_future_cancel(pending));
  CHECK_STATE(pending, RF_STATE_CANCELLED);
  CHECK_STATUS(rf_future_result(pending, &v), RF_ECANCELLED);
  CHECK_INT(rf_future_attempts(pending), 0);
  CHECK_OK(rf_future_cancel(pending)); /* twice is harmless */

  /* Wait with a timeout on a task that takes longer. */
  rf_future *slow;
  REQUIRE_OK(rf_submit(flow, nap, rf_value_int(300), &slow));
  if (ranks > 1) {
    CHECK_STATUS(rf_future_wait(slow, 0.05), RF_ETIMEDOUT);
    CHECK(!(rf_future_state(slow) >= RF_STATE_COMPLETED));
  }
  CHECK_OK(rf_future_wait(slow, 30));
  CHECK_STATE(slow, RF_STATE_COMPLETED);

  if (ranks > 1) {
    /* Running: wait until the worker reports the start, then cancel. */
    rf_future *running;
    REQUIRE_OK(rf_submit(flow, until_cancelled, NULL, &running));
    for (int i = 0; i < 2000 && rf_future_state(running) != RF_STATE_RUNNING;
         i++) {
      rf_status st = rf_future_wait(running, 0.005);
      if (st != RF_ETIMEDOUT) CHECK_OK(st);
    }
    CHECK_STATE(running, RF_STATE_RUNNING);
    CHECK_OK(rf_future_cancel(running));
    CHECK_OK(rf_future_wait(running, 30));
    CHECK_STATE(running, RF_STATE_CANCELLED);
    CHECK_STATUS(rf_future_result(running, &v), RF_ECANCELLED);
    CHECK(v == NULL); /* the task's result is discarded */
    rf_future_release(running);
  } else {
    CHECK_INT(nap_runs, 1); /* the cancelled pending task never ran */
  }
  rf_future_release(pending);
  rf_future_release(slow);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_cancel", reg, flow, NULL, 0);
}
