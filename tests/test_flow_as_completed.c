/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_as_completed.c -- as-completed yields every future exactly once
 * (in the order they end), then NULL; futures already ended when the
 * iterator is made are included. */
#include <time.h>

#include "rf_test.h"

static rf_task *nap;

static rf_status nap_fn(rf_ctx *ctx) {
  int64_t ms = 0;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &ms);
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
  rf_ctx_return(ctx, rf_value_int(ms));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "nap", nap_fn, NULL, &nap));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  enum { N = 40 };
  rf_future *f[N];
  int seen[N] = {0};
  for (int i = 0; i < N; i++) {
    REQUIRE_OK(rf_submit(flow, nap, rf_value_int((N - i) % 7), &f[i]));
  }
  REQUIRE_OK(rf_future_wait(f[0], -1)); /* one ended before the iterator */
  rf_as_completed *it;
  REQUIRE_OK(rf_as_completed_create(flow, f, N, &it));
  int count = 0;
  for (;;) {
    rf_future *next;
    REQUIRE_OK(rf_as_completed_next(it, &next));
    if (next == NULL) break;
    CHECK(rf_future_state(next) == RF_STATE_COMPLETED);
    for (int i = 0; i < N; i++) {
      if (f[i] == next) seen[i]++;
    }
    count++;
  }
  CHECK_INT(count, N);
  for (int i = 0; i < N; i++) CHECK_INT(seen[i], 1);
  rf_future *after;
  CHECK_OK(rf_as_completed_next(it, &after));
  CHECK(after == NULL);
  rf_as_completed_free(it);
  for (int i = 0; i < N; i++) rf_future_release(f[i]);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_as_completed", reg, flow, NULL,
                     0);
}
