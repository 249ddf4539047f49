/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_map.c -- rf_map of 10,000 tasks: every result correct, in input
 * order, at any rank count. */
#include "rf_test.h"

static rf_task *square;

static rf_status square_fn(rf_ctx *ctx) {
  int64_t x = 0;
  if (rf_value_get_int(rf_ctx_arg(ctx), &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "not an int");
  }
  rf_ctx_return(ctx, rf_value_int(x * x + 1));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "square", square_fn, NULL, &square));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  enum { N = 10000 };
  rf_value *inputs = rf_value_list();
  for (int64_t i = 0; i < N; i++) {
    REQUIRE_OK(rf_value_list_append(inputs, rf_value_int(i)));
  }
  rf_future **futs;
  size_t n;
  REQUIRE_OK(rf_map(flow, square, inputs, &futs, &n));
  CHECK_INT(n, N);
  for (size_t i = 0; i < n; i++) {
    int64_t want = (int64_t)i * (int64_t)i + 1;
    int64_t got = rf_test_int_result(futs[i]);
    if (got != want) {
      CHECK_INT(got, want);
      break;
    }
    CHECK_INT(rf_future_attempts(futs[i]), 1);
  }
  rf_futures_release(futs, n);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_map", reg, flow, NULL, 0);
}
