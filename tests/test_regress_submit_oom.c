/* SPDX-License-Identifier: BSD-3-Clause */
/* test_regress_submit_oom.c -- Regression: rf_submit failing (out of memory) after wiring one of two
 * upstream edges unwires it; the future goes as if never submitted and the
 * tear-down frees nothing twice. */
#include "base/base.h"
#include "rf_test.h"
static rf_task *id;
static rf_status id_fn(rf_ctx *ctx) { rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx))); return RF_OK; }
static void reg(rf_runtime *rt) { CHECK_OK(rf_task_register(rt, "id", id_fn, NULL, &id)); }
static rf_value *pair(rf_future *a, rf_future *b) {
  rf_value *l = rf_value_list();
  rf_value_list_append(l, rf_value_future(a));
  rf_value_list_append(l, rf_value_future(b));
  return l;
}
static rf_status flow(rf_flow *fl, void *user) {
  (void)user;
  rf_future *u[6], *d;
  for (int i = 0; i < 6; i++) REQUIRE_OK(rf_submit(fl, id, rf_value_int(i), &u[i]));
  /* warm-up to learn how many allocations a 2-upstream submit makes */
  REQUIRE_OK(rf_submit(fl, id, pair(u[0], u[1]), &d));
  rf_future_release(d);
  rf_value *arg = pair(u[2], u[3]);
  long c0 = rf__alloc_count();
  REQUIRE_OK(rf_submit(fl, id, arg, &d));
  long k = rf__alloc_count() - c0;
  rf_future_release(d);
  fprintf(stderr, "a 2-upstream submit makes %ld allocations\n", k);
  arg = pair(u[4], u[5]);
  rf__alloc_fail_after(k - 1, 0); /* the last one (second edge) fails */
  rf_status st = rf_submit(fl, id, arg, &d);
  rf__alloc_fail_after(-1, 0);
  fprintf(stderr, "submit: %s (%s)\n", rf_status_name(st), rf_last_error());
  for (int i = 0; i < 6; i++) rf_future_release(u[i]);
  return st; /* exit 3, tasks never waited for: tear-down with u[4] pending */
}
int main(int argc, char **argv) { return rf_test_run(argc, argv, "test_regress_submit_oom", reg, flow, NULL, 3); }
