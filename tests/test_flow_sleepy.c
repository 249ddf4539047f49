/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_sleepy.c -- a flow of long tasks, for the signal and exit-code
 * tests driven by scripts: --tasks N tasks of --seconds S each, which check
 * rf_ctx_cancelled() every 10 ms; --fail K makes K of them fail; --io
 * registers them as I/O tasks (run on the ranks' I/O slots). */
#include <time.h>

#include "rf_test.h"

typedef struct {
  int64_t tasks, fail;
  double seconds;
  int io;
  rf_task *nap;
} config;

static rf_status nap_fn(rf_ctx *ctx) {
  double s = 0;
  int64_t fail = 0;
  (void)rf_value_get_double(rf_value_item(rf_ctx_arg(ctx), 0), &s);
  (void)rf_value_get_int(rf_value_item(rf_ctx_arg(ctx), 1), &fail);
  for (double t = 0; t < s && !rf_ctx_cancelled(ctx); t += 0.01) {
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  if (fail) return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "asked to fail");
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  config *cfg = user;
  rf_value *inputs = rf_value_list();
  for (int64_t i = 0; i < cfg->tasks; i++) {
    rf_value *arg = rf_value_list();
    rf_value_list_append(arg, rf_value_double(cfg->seconds));
    rf_value_list_append(arg, rf_value_int(i < cfg->fail));
    REQUIRE_OK(rf_value_list_append(inputs, arg));
  }
  rf_future **futs;
  size_t n;
  REQUIRE_OK(rf_map(flow, cfg->nap, inputs, &futs, &n));
  rf_status st = rf_futures_wait(futs, n);
  rf_futures_release(futs, n);
  return st;
}

int main(int argc, char **argv) {
  config cfg = {.tasks = 4, .fail = 0, .seconds = 1};
  const rf_option options[] = {
      {"tasks", RF_OPT_INT, &cfg.tasks, "N", "number of tasks", NULL, 0, 1e6},
      {"seconds", RF_OPT_DOUBLE, &cfg.seconds, "S", "length of each task",
       NULL, 0, 3600},
      {"fail", RF_OPT_INT, &cfg.fail, "K", "how many tasks fail", NULL, 0,
       1e6},
      {"io", RF_OPT_FLAG, &cfg.io, NULL, "register the tasks as I/O tasks",
       NULL, 0, 0},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  const rf_cli cli = {"test_flow_sleepy", "Long tasks for signal tests.",
                      options, NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  rf_task_options opts = {.io = cfg.io};
  if (rf_task_register(rt, "nap", nap_fn, &opts, &cfg.nap) != RF_OK) {
    return rf_finalize(rt, RF_EXIT_INTERNAL);
  }
  code = rf_run(rt, flow, &cfg);
  return rf_finalize(rt, code);
}
