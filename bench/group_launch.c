/* SPDX-License-Identifier: BSD-3-Clause */
/* group_launch.c -- how fast rankflow starts a parallel task.
 *
 * Submits --tasks empty 2-rank tasks one after another (submit, wait,
 * next) after --warmup of them, and measures each launch: from rf_submit
 * to the moment the later of the two members entered the function (wall
 * clock, one machine). Prints the median and the 90th percentile in
 * microseconds, and a last line launch_us=<median>. Run at 3 ranks (two
 * workers): bench/parallel_tasks.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_sort.h"
#include "rankflow.h"

typedef struct {
  int64_t tasks, warmup;
  rf_task *pair;
} config;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Both members note when they began; member 0 returns the later. */
static rf_status pair_fn(rf_ctx *ctx) {
  double t = now(), latest = 0;
  if (MPI_Reduce(&t, &latest, 1, MPI_DOUBLE, MPI_MAX, 0, rf_ctx_comm(ctx)) !=
      MPI_SUCCESS) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "MPI_Reduce failed");
  }
  if (rf_ctx_comm_rank(ctx) == 0) rf_ctx_return(ctx, rf_value_double(latest));
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  config *cfg = user;
  size_t n = (size_t)cfg->tasks;
  double *us = calloc(n, sizeof *us);
  if (us == NULL) return RF_ENOMEM;
  for (int64_t i = -cfg->warmup; i < cfg->tasks; i++) {
    rf_future *f;
    const rf_value *v;
    double submitted, started;
    rf_status st = rf_submit(flow, cfg->pair, rf_value_int(i), &f);
    if (st == RF_OK) st = rf_future_result(f, &v);
    if (st == RF_OK) st = rf_value_get_double(v, &started);
    rf_future_times(f, &submitted, NULL, NULL);
    rf_future_release(f);
    if (st != RF_OK) {
      free(us);
      return st;
    }
    if (i >= 0) us[i] = (started - submitted) * 1e6;
  }
  bench_sort(us, n);
  printf("%zu 2-rank tasks: launch median %.1f us, p90 %.1f us\n", n,
         us[n / 2], us[n * 9 / 10]);
  printf("launch_us=%.1f\n", us[n / 2]);
  free(us);
  return RF_OK;
}

int main(int argc, char **argv) {
  config cfg = {.tasks = 1000, .warmup = 50};
  const rf_option options[] = {
      {"tasks", RF_OPT_INT, &cfg.tasks, "N", "measured tasks", NULL, 1, 1e7},
      {"warmup", RF_OPT_INT, &cfg.warmup, "N", "tasks before measuring",
       NULL, 0, 1e6},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  const rf_cli cli = {"group_launch", "Launch time of 2-rank tasks.", options,
                      NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  rf_task_options two = {.ranks = 2};
  if (rf_task_register(rt, "pair", pair_fn, &two, &cfg.pair) != RF_OK) {
    fprintf(stderr, "group_launch: %s\n", rf_last_error());
  }
  code = rf_run(rt, flow, &cfg);
  return rf_finalize(rt, code);
}
