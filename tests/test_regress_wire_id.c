/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_wire_id.c -- Regression: wire ids stay valid past 2^31 submissions (the generation
 * counter is sent unsigned). */
#include <time.h>
#include "rank0/coord.h"
#include "rf_test.h"
static rf_task *t;
static rf_status t_fn(rf_ctx *ctx) { (void)ctx; return RF_OK; }
static void reg(rf_runtime *rt) { CHECK_OK(rf_task_register(rt, "t", t_fn, NULL, &t)); }
static rf_status flow(rf_flow *fl, void *user) {
  (void)user;
  fl->rt->co->gen = 0x7fffffffu; /* as after 2^31 - 1 submissions */
  rf_future *f;
  REQUIRE_OK(rf_submit(fl, t, NULL, &f));
  rf_status st = rf_future_wait(f, -1);
  CHECK_OK(st);
  CHECK_STATE(f, RF_STATE_COMPLETED);
  CHECK((uint64_t)rf_future_attempts(f) == 1);
  rf_future_release(f);
  return st;
}
int main(int argc, char **argv) { return rf_test_run(argc, argv, "test_regress_wire_id", reg, flow, NULL, 0); }
