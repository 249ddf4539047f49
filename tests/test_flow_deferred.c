/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_deferred.c -- at one rank, tasks are deferred: nothing runs at
 * submit; blocking on a future runs the queue in submission order up to
 * that future; the rest runs when the flow ends. */
#include "rf_test.h"

enum { N = 10 };
static rf_task *note;
static int order[N], ran;

static rf_status note_fn(rf_ctx *ctx) {
  int64_t i = -1;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &i);
  if (ran < N) order[ran] = (int)i;
  ran++;
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "note", note_fn, NULL, &note));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *f[N];
  for (int i = 0; i < N; i++) {
    REQUIRE_OK(rf_submit(flow, note, rf_value_int(i), &f[i]));
  }
  CHECK_INT(ran, 0);
  CHECK_STATE(f[0], RF_STATE_PENDING);
  CHECK_OK(rf_future_wait(f[3], -1));
  CHECK_INT(ran, 4);
  for (int i = 0; i < 4; i++) CHECK_INT(order[i], i);
  CHECK_STATE(f[3], RF_STATE_COMPLETED);
  CHECK_STATE(f[4], RF_STATE_PENDING);
  /* A zero timeout on a done future is fine, on a pending one it runs the
   * queue up to it (tasks are short) or times out; either is allowed. */
  CHECK_OK(rf_future_wait(f[2], 0));
  for (int i = 0; i < N; i++) rf_future_release(f[i]);
  return RF_OK; /* f[4..9] run at the end of the flow */
}

int main(int argc, char **argv) {
  int code = rf_test_run(argc, argv, "test_flow_deferred", reg, flow, NULL, 0);
  CHECK_INT(ran, N);
  for (int i = 0; i < N && i < ran; i++) CHECK_INT(order[i], i);
  return code != 0 || rf_test_failures != 0;
}
