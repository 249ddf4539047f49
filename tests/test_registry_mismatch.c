/* SPDX-License-Identifier: BSD-3-Clause */
/* test_registry_mismatch.c -- ranks whose registries differ (two builds in
 * one job) are detected at start-up: every rank's rf_run returns 3 and rank
 * 0 names the difference; nothing is dispatched. */
#include "rf_test.h"

static int flow_ran;

static rf_status task_fn(rf_ctx *ctx) {
  (void)ctx;
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "common", task_fn, NULL, NULL));
  if (rf_runtime_rank(rt) == 1) {
    CHECK_OK(rf_task_register(rt, "only_on_rank_1", task_fn, NULL, NULL));
  }
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)flow;
  (void)user;
  flow_ran = 1;
  return RF_OK;
}

int main(int argc, char **argv) {
  int code = rf_test_run(argc, argv, "test_registry_mismatch", reg, flow, NULL,
                         3);
  CHECK_INT(flow_ran, 0);
  return code != 0 || rf_test_failures != 0;
}
