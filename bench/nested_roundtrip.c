/* SPDX-License-Identifier: BSD-3-Clause */
/* nested_roundtrip.c -- how long a task waits for a subtask it submits.
 *
 * The flow submits one parent task; the parent submits --tasks subtasks
 * one after another (submit, wait for the result, next) after --warmup of
 * them, timing each round trip inside the task, and returns the median
 * and the 90th percentile in microseconds. Last line nested_us=<median>.
 * Run at 3 ranks: bench/nested.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_sort.h"
#include "rankflow.h"

typedef struct {
  int64_t tasks, warmup;
  rf_task *parent, *child;
} config;

static config cfg = {.tasks = 1000, .warmup = 50};

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static rf_status child_fn(rf_ctx *ctx) {
  int64_t x = 0;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &x);
  rf_ctx_return(ctx, rf_value_int(x + 1));
  return RF_OK;
}

static rf_status parent_fn(rf_ctx *ctx) {
  size_t n = (size_t)cfg.tasks;
  double *us = calloc(n, sizeof *us);
  if (us == NULL) return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "out of memory");
  for (int64_t i = -cfg.warmup; i < cfg.tasks; i++) {
    rf_future *f;
    const rf_value *v;
    int64_t got = -1;
    double t0 = now_us();
    if (rf_submit(rf_ctx_flow(ctx), cfg.child, rf_value_int(i), &f) != RF_OK ||
        rf_future_result(f, &v) != RF_OK || rf_value_get_int(v, &got) != RF_OK ||
        got != i + 1) {
      free(us);
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "subtask %lld: %s",
                         (long long)i, rf_last_error());
    }
    double t1 = now_us();
    rf_future_release(f);
    if (i >= 0) us[i] = t1 - t0;
  }
  bench_sort(us, n);
  rf_value *r = rf_value_list();
  rf_value_list_append(r, rf_value_double(us[n / 2]));
  rf_value_list_append(r, rf_value_double(us[n * 9 / 10]));
  free(us);
  rf_ctx_return(ctx, r);
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *f;
  const rf_value *v;
  double med = 0, p90 = 0;
  rf_status st = rf_submit(flow, cfg.parent, NULL, &f);
  if (st == RF_OK) st = rf_future_result(f, &v);
  if (st != RF_OK) return st;
  (void)rf_value_get_double(rf_value_item(v, 0), &med);
  (void)rf_value_get_double(rf_value_item(v, 1), &p90);
  rf_future_release(f);
  printf("%lld subtasks one after another: round trip median %.1f us, "
         "p90 %.1f us\n", (long long)cfg.tasks, med, p90);
  printf("nested_us=%.1f\n", med);
  return RF_OK;
}

int main(int argc, char **argv) {
  const rf_option options[] = {
      {"tasks", RF_OPT_INT, &cfg.tasks, "N", "measured subtasks", NULL, 1, 1e7},
      {"warmup", RF_OPT_INT, &cfg.warmup, "N", "subtasks before measuring",
       NULL, 0, 1e6},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  const rf_cli cli = {"nested_roundtrip", "Round trip of a subtask.", options,
                      NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  if (rf_task_register(rt, "parent", parent_fn, NULL, &cfg.parent) != RF_OK ||
      rf_task_register(rt, "child", child_fn, NULL, &cfg.child) != RF_OK) {
    fprintf(stderr, "nested_roundtrip: %s\n", rf_last_error());
  }
  code = rf_run(rt, flow, NULL);
  return rf_finalize(rt, code);
}
