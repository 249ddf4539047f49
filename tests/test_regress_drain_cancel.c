/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_drain_cancel.c -- Regression: tasks a draining worker hands back stay pending with their
 * live reference; cancelling and releasing them afterwards frees each once. */
#include <signal.h>
#include <time.h>
#include <unistd.h>
int usleep(unsigned);
#include "rf_test.h"
static rf_task *work;
static rf_status work_fn(rf_ctx *ctx) {
  struct timespec ts = {0, 3 * 1000000L};
  nanosleep(&ts, NULL);
  rf_ctx_return(ctx, rf_value_int(1));
  return RF_OK;
}
static void reg(rf_runtime *rt) { CHECK_OK(rf_task_register(rt, "work", work_fn, NULL, &work)); }
#define N 200
static rf_status flow(rf_flow *fl, void *user) {
  (void)user;
  rf_future *f[N];
  for (int i = 0; i < N; i++) REQUIRE_OK(rf_submit(fl, work, rf_value_int(i), &f[i]));
  REQUIRE_OK(rf_future_wait(f[10], -1));
  (void)rf_future_wait(f[N - 1], 0.0); /* dispatch a prefetch batch */
  raise(SIGUSR1);
  for (int k = 0; k < 50; k++) {
    (void)rf_future_wait(f[N - 1], 0.001);
    usleep(2000);
  }
  int pend = 0;
  for (int i = 0; i < N; i++) {
    if (rf_future_state(f[i]) == RF_STATE_PENDING) {
      if (rf_future_attempts(f[i]) == 0 && rf_future_rank(f[i]) == -1) pend++;
      rf_future_cancel(f[i]);
    }
  }
  fprintf(stderr, "cancelled %d pending\n", pend);
  for (int i = 0; i < N; i++) rf_future_release(f[i]);
  return RF_ESTOPPED;
}
int main(int argc, char **argv) { return rf_test_run(argc, argv, "test_regress_drain_cancel", reg, flow, NULL, 75); }
