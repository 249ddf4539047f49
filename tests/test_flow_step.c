/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_step.c -- collective steps: every rank runs the step together
 * on the step's communicator (an allreduce there sees every rank), with
 * rank 0's argument; a failure on one rank comes back to rank 0 as that
 * rank's status, naming the rank; tasks submitted before and after a step run
 * and complete normally, even while a step happens mid-flow. */
#include <time.h>

#include "rf_test.h"

static rf_task *nap;
static rf_step *sum_ranks, *fail_last;

static rf_status nap_fn(rf_ctx *ctx) {
  struct timespec ts = {0, 2000000L};
  nanosleep(&ts, NULL);
  rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx)));
  return RF_OK;
}

/* Every rank adds its rank plus the argument; all must see the total. */
static rf_status sum_fn(rf_step_ctx *s) {
  int64_t k = 0;
  if (rf_value_get_int(rf_step_arg(s), &k) != RF_OK) return RF_EINVAL;
  long long mine = rf_step_rank(s) + k, total = 0;
  if (MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM,
                    rf_step_comm(s)) != MPI_SUCCESS) {
    return RF_EMPI;
  }
  long long n = rf_step_size(s);
  return total == n * (n - 1) / 2 + n * k ? RF_OK : RF_EINVAL;
}

static rf_status fail_fn(rf_step_ctx *s) {
  return rf_step_rank(s) == rf_step_size(s) - 1 ? RF_EIO : RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "nap", nap_fn, NULL, &nap));
  CHECK_OK(rf_step_register(rt, "sum_ranks", sum_fn, &sum_ranks));
  CHECK_OK(rf_step_register(rt, "fail_last", fail_fn, &fail_last));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  int n = rf_runtime_size(rf_flow_runtime(flow));
  rf_future *before[20], *after[20];
  for (int i = 0; i < 20; i++) {
    REQUIRE_OK(rf_submit(flow, nap, rf_value_int(i), &before[i]));
  }
  rf_value *k = rf_value_int(5);
  CHECK_OK(rf_flow_step(flow, sum_ranks, k));   /* while tasks are out */
  rf_value_free(k);
  /* No argument: every rank's function fails with RF_EINVAL. */
  CHECK_STATUS(rf_flow_step(flow, sum_ranks, NULL), RF_EINVAL);
  char want[64];
  snprintf(want, sizeof want, "failed on rank %d", n - 1);
  CHECK_STATUS(rf_flow_step(flow, fail_last, NULL), RF_EIO); /* its status */
  CHECK_CONTAINS(rf_last_error(), want);
  for (int i = 0; i < 20; i++) {
    REQUIRE_OK(rf_submit(flow, nap, rf_value_int(100 + i), &after[i]));
  }
  for (int i = 0; i < 20; i++) {
    CHECK_INT(rf_test_int_result(before[i]), i);
    CHECK_INT(rf_test_int_result(after[i]), 100 + i);
    rf_future_release(before[i]);
    rf_future_release(after[i]);
  }
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_step", reg, flow, NULL, 0);
}
