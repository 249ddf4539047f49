/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_future_args.c -- futures inside list and map arguments, at any
 * depth, are replaced by their results before the task runs. */
#include "rf_test.h"

static rf_task *make, *echo;

static rf_status make_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx)));
  return RF_OK;
}

static rf_status echo_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx)));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "make", make_fn, NULL, &make));
  CHECK_OK(rf_task_register(rt, "echo", echo_fn, NULL, &echo));
}

/* [7, {"a": X, "b": [Y, "s"]}, X] with X, Y futures or values. */
static rf_value *shape(rf_value *x1, rf_value *y, rf_value *x2) {
  rf_value *inner = rf_value_list();
  rf_value_list_append(inner, y);
  rf_value_list_append(inner, rf_value_string("s"));
  rf_value *m = rf_value_map();
  rf_value_map_set(m, "a", x1);
  rf_value_map_set(m, "b", inner);
  rf_value *top = rf_value_list();
  rf_value_list_append(top, rf_value_int(7));
  rf_value_list_append(top, m);
  rf_value_list_append(top, x2);
  return top;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *x, *y, *e;
  rf_value *ymap = rf_value_map();
  REQUIRE_OK(rf_value_map_set(ymap, "deep", rf_value_bytes("\0\1", 2)));
  REQUIRE_OK(rf_submit(flow, make, rf_value_double(2.5), &x));
  REQUIRE_OK(rf_submit(flow, make, ymap, &y));
  REQUIRE_OK(rf_submit(flow, echo,
                       shape(rf_value_future(x), rf_value_future(y),
                             rf_value_future(x)),
                       &e));
  rf_future_release(x); /* the argument keeps them alive */
  rf_future_release(y);
  const rf_value *got;
  REQUIRE_OK(rf_future_result(e, &got));
  rf_value *ywant = rf_value_map();
  rf_value_map_set(ywant, "deep", rf_value_bytes("\0\1", 2));
  rf_value *want = shape(rf_value_double(2.5), ywant, rf_value_double(2.5));
  CHECK(rf_value_equal(got, want));
  rf_value_free(want);
  rf_future_release(e);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_future_args", reg, flow, NULL, 0);
}
