/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_chain.c -- a 1,000-long dependency chain: each task receives
 * the previous task's future as its argument and adds one. Every link waits
 * for its upstream, so the last result is exactly 1,000. */
#include "rf_test.h"

static rf_task *inc;

static rf_status inc_fn(rf_ctx *ctx) {
  int64_t x = 0;
  if (rf_value_get_int(rf_ctx_arg(ctx), &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "not an int");
  }
  rf_ctx_return(ctx, rf_value_int(x + 1));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "inc", inc_fn, NULL, &inc));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  enum { N = 1000 };
  rf_future *prev;
  REQUIRE_OK(rf_submit(flow, inc, rf_value_int(0), &prev));
  for (int i = 1; i < N; i++) {
    rf_future *next;
    REQUIRE_OK(rf_submit(flow, inc, rf_value_future(prev), &next));
    /* The chain keeps each link alive through its dependent. */
    rf_future_release(prev);
    prev = next;
  }
  CHECK_INT(rf_test_int_result(prev), N);
  rf_future_release(prev);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_chain", reg, flow, NULL, 0);
}
