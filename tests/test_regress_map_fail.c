/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_map_fail.c -- Regression: when rf_map fails part-way, the tasks it had submitted are
 * cancelled and never run. */
#include "rf_test.h"
static rf_task *echo;
static rf_status echo_fn(rf_ctx *ctx) {
  rf_ctx_log(ctx, RF_LOG_WARN, "ran although rf_map failed");
  return RF_OK;
}
static void reg(rf_runtime *rt) { CHECK_OK(rf_task_register(rt, "echo", echo_fn, NULL, &echo)); }
static rf_status flow(rf_flow *fl, void *user) {
  (void)user;
  rf_value *in = rf_value_list();
  rf_value_list_append(in, rf_value_int(1));
  rf_value_list_append(in, rf_value_int(2));
  rf_value *deep = rf_value_int(0);
  for (int i = 0; i < 100; i++) { rf_value *l = rf_value_list(); rf_value_list_append(l, deep); deep = l; }
  rf_value_list_append(in, deep);
  rf_future **f; size_t n;
  rf_status st = rf_map(fl, echo, in, &f, &n);
  fprintf(stderr, "rf_map: %s (%s)\n", rf_status_name(st), rf_last_error());
  return RF_OK;
}
int main(int argc, char **argv) { return rf_test_run(argc, argv, "test_regress_map_fail", reg, flow, NULL, 0); }
