/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_encode_errors.c -- values that cannot travel: an argument
 * nested deeper than the codec allows is refused at submit (RF_EINVAL, no
 * future made); a result that cannot be encoded fails its task permanently
 * with a message saying why; a task returning an error status without
 * rf_ctx_fail ends crashed, not retried. The job exits 1. */
#include "rf_test.h"

static rf_task *echo, *deep, *oops;

static rf_value *nested(int depth) {
  rf_value *v = rf_value_int(1);
  for (int i = 0; i < depth; i++) {
    rf_value *l = rf_value_list();
    rf_value_list_append(l, v);
    v = l;
  }
  return v;
}

static rf_status echo_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx)));
  return RF_OK;
}

static rf_status deep_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, nested(200));
  return RF_OK;
}

static rf_status oops_fn(rf_ctx *ctx) {
  (void)ctx;
  return RF_EIO; /* an error status, without rf_ctx_fail */
}

static void reg(rf_runtime *rt) {
  rf_task_options retry = {.retries = 3, .retry_delay = 0.001};
  CHECK_OK(rf_task_register(rt, "echo", echo_fn, NULL, &echo));
  CHECK_OK(rf_task_register(rt, "deep", deep_fn, &retry, &deep));
  CHECK_OK(rf_task_register(rt, "oops", oops_fn, &retry, &oops));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *f = (rf_future *)1, *g, *h, *ok;
  CHECK_STATUS(rf_submit(flow, echo, nested(200), &f), RF_EINVAL);
  CHECK(f == NULL);
  CHECK_CONTAINS(rf_last_error(), "nested deeper");
  REQUIRE_OK(rf_submit(flow, echo, nested(40), &ok));
  REQUIRE_OK(rf_submit(flow, deep, NULL, &g));
  REQUIRE_OK(rf_submit(flow, oops, NULL, &h));
  const rf_value *v;
  CHECK_OK(rf_future_result(ok, &v));
  CHECK_STATUS(rf_future_result(g, &v), RF_ETASK);
  CHECK_STATE(g, RF_STATE_FAILED);
  CHECK_INT(rf_future_attempts(g), 1);
  CHECK_CONTAINS(rf_future_error(g), "result cannot be encoded");
  CHECK_STATUS(rf_future_result(h, &v), RF_ETASK);
  CHECK_STATE(h, RF_STATE_CRASHED);
  CHECK_INT(rf_future_attempts(h), 1);
  CHECK_CONTAINS(rf_future_error(h), "EIO");
  rf_future_release(ok);
  rf_future_release(g);
  rf_future_release(h);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_encode_errors", reg, flow, NULL, 1);
}
