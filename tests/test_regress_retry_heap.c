/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_retry_heap.c -- Regression: cancelling a task that waits for a retry leaves the retry heap
 * in order; a later short retry still comes out on time (1 rank). */
#include <time.h>
#include "rf_test.h"
static rf_task *p, *e, *q, *fast;
static rf_status flaky(rf_ctx *ctx) {
  if (rf_ctx_attempt(ctx) == 1) return rf_ctx_fail(ctx, RF_FAIL_TRANSIENT, "first try");
  rf_ctx_return(ctx, rf_value_int(rf_ctx_attempt(ctx)));
  return RF_OK;
}
static void reg(rf_runtime *rt) {
  rf_task_options o = {0};
  o.retries = 1;
  o.retry_delay = 5; CHECK_OK(rf_task_register(rt, "p", flaky, &o, &p));
  o.retry_delay = 6; CHECK_OK(rf_task_register(rt, "e", flaky, &o, &e));
  o.retry_delay = 7; CHECK_OK(rf_task_register(rt, "q", flaky, &o, &q));
  o.retry_delay = 0.2; CHECK_OK(rf_task_register(rt, "fast", flaky, &o, &fast));
}
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
static rf_status flow(rf_flow *fl, void *user) {
  (void)user;
  rf_future *fp, *fe, *fq, *ff;
  REQUIRE_OK(rf_submit(fl, p, NULL, &fp));
  REQUIRE_OK(rf_submit(fl, e, NULL, &fe));
  REQUIRE_OK(rf_submit(fl, q, NULL, &fq));
  /* run first attempts: all three now wait in the retry heap [p, e, q] */
  while (rf_future_attempts(fq) == 0) (void)rf_future_wait(fq, 0.0);
  CHECK_OK(rf_future_cancel(fe));           /* e's key drops to "now" */
  REQUIRE_OK(rf_submit(fl, fast, NULL, &ff));
  double t0 = now();
  CHECK_OK(rf_future_wait(ff, -1));         /* fast's retry is due in 0.2 s */
  double dt = now() - t0;
  fprintf(stderr, "fast: %s after %.2f s (retry delay 0.2 s)\n",
          rf_state_name(rf_future_state(ff)), dt);
  CHECK(dt < 1.0);
  rf_future_cancel(fp); rf_future_cancel(fq);
  return RF_OK;
}
int main(int argc, char **argv) { return rf_test_run(argc, argv, "test_regress_retry_heap", reg, flow, NULL, 0); }
