/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_timeout_inline.c -- Regression: at 1 rank rf_future_wait(f, 0.1) checks its deadline between
 * deferred tasks, as with many ranks. */
#include <time.h>
#include "rf_test.h"
static rf_task *nap;
static rf_status nap_fn(rf_ctx *ctx) {
  (void)ctx;
  struct timespec ts = {0, 300 * 1000000L}; nanosleep(&ts, NULL);
  return RF_OK;
}
static void reg(rf_runtime *rt) { CHECK_OK(rf_task_register(rt, "nap", nap_fn, NULL, &nap)); }
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
static rf_status flow(rf_flow *fl, void *user) {
  (void)user;
  rf_future *f[10];
  for (int i = 0; i < 10; i++) REQUIRE_OK(rf_submit(fl, nap, rf_value_int(i), &f[i]));
  double t0 = now();
  rf_status st = rf_future_wait(f[9], 0.1);
  double dt = now() - t0;
  fprintf(stderr, "wait(f, 0.1) gave %s after %.2f s\n", rf_status_name(st), dt);
  CHECK_INT(st, RF_ETIMEDOUT);
  CHECK(dt < 1.5); /* one 0.3 s task may finish first; not all ten (3 s) */
  for (int i = 0; i < 10; i++) rf_future_release(f[i]);
  return RF_OK;
}
int main(int argc, char **argv) { return rf_test_run(argc, argv, "test_regress_timeout_inline", reg, flow, NULL, 0); }
