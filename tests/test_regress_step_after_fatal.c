/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_step_after_fatal.c -- Regression: a step called after a
 * worker reported an error returns that error at once (the job ends with
 * exit 3) instead of waiting forever for the broken worker. */
#include "exec/exec.h"
#include "rf_test.h"

static rf_task *task;
static rf_step *step;
static rf_runtime *runtime;
/* An array that claims 4 billion tasks in a few bytes: the worker refuses
 * it and reports the error to rank 0. */
static const uint8_t garbage[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc1, 0x00};

static rf_status task_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, rf_value_int(1));
  return RF_OK;
}

static rf_status step_fn(rf_step_ctx *s) {
  (void)s;
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  runtime = rt;
  CHECK_OK(rf_task_register(rt, "t", task_fn, NULL, &task));
  CHECK_OK(rf_step_register(rt, "s", step_fn, &step));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *f;
  const rf_value *v;
  if (MPI_Send(garbage, sizeof garbage, MPI_BYTE, 1, RF_TAG_WORK,
               runtime->comm) != MPI_SUCCESS) {
    return RF_EMPI;
  }
  REQUIRE_OK(rf_submit(flow, task, rf_value_int(0), &f));
  CHECK_STATUS(rf_future_result(f, &v), RF_EPEER);
  rf_status st = rf_flow_step(flow, step, NULL);
  CHECK_STATUS(st, RF_EPEER);
  rf_future_release(f);
  return st;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_regress_step_after_fatal", reg, flow,
                     NULL, 3);
}
