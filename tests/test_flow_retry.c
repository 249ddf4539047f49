/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_retry.c -- transient failures are retried per the task's
 * policy (possibly on another worker) and permanent ones are not; a task
 * out of retries ends failed, and the job exits 1. */
#include "rf_test.h"

static rf_task *flaky, *broken, *hopeless;

/* Fails transiently until attempt 3. */
static rf_status flaky_fn(rf_ctx *ctx) {
  if (rf_ctx_attempt(ctx) < 3) {
    return rf_ctx_fail(ctx, RF_FAIL_TRANSIENT, "flaky attempt %d",
                       rf_ctx_attempt(ctx));
  }
  rf_ctx_return(ctx, rf_value_int(rf_ctx_attempt(ctx)));
  return RF_OK;
}

static rf_status broken_fn(rf_ctx *ctx) {
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "broken for good");
}

static rf_status hopeless_fn(rf_ctx *ctx) {
  return rf_ctx_fail(ctx, RF_FAIL_TRANSIENT, "still down (attempt %d)",
                     rf_ctx_attempt(ctx));
}

static void reg(rf_runtime *rt) {
  rf_task_options retry = {.retries = 4, .retry_delay = 0.01,
                           .retry_backoff = 2, .retry_max_delay = 0.05,
                           .retry_jitter = 0.5};
  CHECK_OK(rf_task_register(rt, "flaky", flaky_fn, &retry, &flaky));
  CHECK_OK(rf_task_register(rt, "broken", broken_fn, &retry, &broken));
  rf_task_options two = {.retries = 2, .retry_delay = 0.001};
  CHECK_OK(rf_task_register(rt, "hopeless", hopeless_fn, &two, &hopeless));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *a, *b, *c;
  REQUIRE_OK(rf_submit(flow, flaky, NULL, &a));
  REQUIRE_OK(rf_submit(flow, broken, NULL, &b));
  REQUIRE_OK(rf_submit(flow, hopeless, NULL, &c));

  CHECK_INT(rf_test_int_result(a), 3);
  CHECK_STATE(a, RF_STATE_COMPLETED);
  CHECK_INT(rf_future_attempts(a), 3);
  CHECK(rf_future_error(a) == NULL);

  const rf_value *v;
  CHECK_STATUS(rf_future_result(b, &v), RF_ETASK);
  CHECK(v == NULL);
  CHECK_STATE(b, RF_STATE_FAILED);
  CHECK_INT(rf_future_attempts(b), 1);
  CHECK_CONTAINS(rf_future_error(b), "broken for good");

  CHECK_STATUS(rf_future_result(c, &v), RF_ETASK);
  CHECK_STATE(c, RF_STATE_FAILED);
  CHECK_INT(rf_future_attempts(c), 3);
  CHECK_CONTAINS(rf_future_error(c), "attempt 3");

  rf_future_release(a);
  rf_future_release(b);
  rf_future_release(c);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_retry", reg, flow, NULL, 1);
}
