/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_cancel_overtake.c -- Regression: a cancel for a prefetched task, sent while the worker runs an
 * earlier task that polls rf_ctx_cancelled(), never overtakes the batch
 * holding the task: the cancelled task does not run in full. */
#include <time.h>
#include "rf_test.h"
static rf_task *t;
static void sleep_ms(int ms) { struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L}; nanosleep(&ts, NULL); }
static rf_status t_fn(rf_ctx *ctx) {
  int64_t ms = 0;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &ms);
  int c0 = rf_ctx_cancelled(ctx);
  for (int64_t i = 0; i < ms && !rf_ctx_cancelled(ctx); i++) sleep_ms(1);
  if (ms == 2) rf_ctx_log(ctx, RF_LOG_WARN, "B ran to the end (cancelled flag at start: %d, at end: %d)", c0, rf_ctx_cancelled(ctx));
  return RF_OK;
}
static void reg(rf_runtime *rt) { CHECK_OK(rf_task_register(rt, "t", t_fn, NULL, &t)); }
static rf_status flow(rf_flow *fl, void *user) {
  (void)user;
  rf_future *w[5], *a, *b;
  for (int i = 0; i < 5; i++) REQUIRE_OK(rf_submit(fl, t, rf_value_int(1), &w[i]));
  REQUIRE_OK(rf_futures_wait(w, 5));                      /* avg ~1 ms: prefetch on */
  REQUIRE_OK(rf_submit(fl, t, rf_value_int(300), &a));
  (void)rf_future_wait(a, 0.05);                           /* worker is inside A */
  REQUIRE_OK(rf_submit(fl, t, rf_value_int(2), &b));
  (void)rf_future_wait(b, 0.0);                            /* B goes out as a prefetch */
  fprintf(stderr, "B state before cancel: %s\n", rf_state_name(rf_future_state(b)));
  CHECK_OK(rf_future_cancel(b));
  CHECK_OK(rf_future_wait(b, -1));
  CHECK_STATE(b, RF_STATE_CANCELLED);
  return RF_OK;
}
int main(int argc, char **argv) { return rf_test_run(argc, argv, "test_regress_cancel_overtake", reg, flow, NULL, 0); }
