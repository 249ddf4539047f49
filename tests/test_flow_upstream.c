/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_upstream.c -- when an upstream task fails, its dependents do not
 * run and end upstream-failed, transitively, with the cause reachable from
 * the farthest dependent; an independent sibling still completes. */
#include "rf_test.h"

static rf_task *fail, *echo;
static int echo_runs_on_rank0; /* only meaningful at 1 rank (inline) */

static rf_status fail_fn(rf_ctx *ctx) {
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "root cause 42");
}

static rf_status echo_fn(rf_ctx *ctx) {
  echo_runs_on_rank0++;
  rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx)));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "fail", fail_fn, NULL, &fail));
  CHECK_OK(rf_task_register(rt, "echo", echo_fn, NULL, &echo));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *root, *mid, *leaf, *ok;
  REQUIRE_OK(rf_submit(flow, fail, NULL, &root));
  rf_value *arg = rf_value_list();
  REQUIRE_OK(rf_value_list_append(arg, rf_value_int(1)));
  REQUIRE_OK(rf_value_list_append(arg, rf_value_future(root)));
  REQUIRE_OK(rf_submit(flow, echo, arg, &mid));
  rf_value *m = rf_value_map();
  REQUIRE_OK(rf_value_map_set(m, "in", rf_value_future(mid)));
  REQUIRE_OK(rf_submit(flow, echo, m, &leaf));
  REQUIRE_OK(rf_submit(flow, echo, rf_value_string("fine"), &ok));

  const rf_value *v;
  CHECK_STATUS(rf_future_result(leaf, &v), RF_EUPSTREAM);
  CHECK_STATE(root, RF_STATE_FAILED);
  CHECK_STATE(mid, RF_STATE_UPSTREAM_FAILED);
  CHECK_STATE(leaf, RF_STATE_UPSTREAM_FAILED);
  CHECK_INT(rf_future_attempts(mid), 0);
  CHECK_INT(rf_future_attempts(leaf), 0);
  /* The cause travels down the chain: leaf names mid, mid names root. */
  CHECK_CONTAINS(rf_future_error(leaf), rf_future_key(mid));
  CHECK_CONTAINS(rf_future_error(leaf), rf_future_key(root));
  CHECK_CONTAINS(rf_future_error(leaf), "root cause 42");
  CHECK_OK(rf_future_result(ok, &v));
  const char *s = NULL;
  CHECK_OK(rf_value_get_string(v, &s, NULL));
  CHECK(s && strcmp(s, "fine") == 0);

  /* A dependent submitted after its upstream already failed. */
  rf_future *late;
  REQUIRE_OK(rf_submit(flow, echo, rf_value_future(root), &late));
  CHECK_STATE(late, RF_STATE_UPSTREAM_FAILED);
  if (rf_runtime_size(rf_flow_runtime(flow)) == 1) {
    CHECK_INT(echo_runs_on_rank0, 1); /* only "fine" ran */
  }
  rf_future_release(root);
  rf_future_release(mid);
  rf_future_release(leaf);
  rf_future_release(ok);
  rf_future_release(late);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_upstream", reg, flow, NULL, 1);
}
