/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_unregistered.c -- looking up a task name nobody registered is a
 * clear error naming it; a flow that returns it ends the job with exit 3. */
#include "rf_test.h"

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_task *t = (rf_task *)1;
  rf_status st = rf_task_find(rf_flow_runtime(flow), "no_such_task", &t);
  CHECK_INT(st, RF_ENOTASK);
  CHECK(t == NULL);
  CHECK_CONTAINS(rf_last_error(), "no_such_task");
  return st;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_unregistered", NULL, flow, NULL,
                     3);
}
