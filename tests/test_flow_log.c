/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_log.c -- a task's log line carries its rank, level and key in
 * one line on stderr; lines below the level (--log-level, RANKFLOW_LOG)
 * are dropped. The expected lines are matched by CTest. */
#include "rf_test.h"

static rf_task *talk;

static rf_status talk_fn(rf_ctx *ctx) {
  rf_ctx_log(ctx, RF_LOG_WARN, "warned from attempt %d", rf_ctx_attempt(ctx));
  rf_ctx_log(ctx, RF_LOG_DEBUG, "a debug line");
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "talk", talk_fn, NULL, &talk));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *f;
  REQUIRE_OK(rf_submit(flow, talk, rf_value_int(7), &f));
  CHECK_OK(rf_future_wait(f, -1));
  rf_log(RF_LOG_WARN, "flow says %s", rf_future_key(f));
  rf_future_release(f);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_log", reg, flow, NULL, 0);
}
