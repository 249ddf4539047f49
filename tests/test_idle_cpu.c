/* SPDX-License-Identifier: BSD-3-Clause */
/* test_idle_cpu.c -- no rank busy-waits. With 8 ranks on 2 cores, the flow
 * waits 2 s on one sleeping task while six workers have nothing to do;
 * every rank measures the CPU time it used inside rf_run and fails if it is
 * more than a generous 15% of the wall time (spinning would be ~25-100%). */
#include <sys/resource.h>
#include <time.h>

#include "rf_test.h"

static rf_task *nap;

static rf_status nap_fn(rf_ctx *ctx) {
  (void)ctx;
  struct timespec ts = {2, 0};
  nanosleep(&ts, NULL);
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "nap", nap_fn, NULL, &nap));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *f;
  REQUIRE_OK(rf_submit(flow, nap, NULL, &f));
  CHECK_OK(rf_future_wait(f, -1));
  CHECK_STATE(f, RF_STATE_COMPLETED);
  rf_future_release(f);
  return RF_OK;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static double wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  rf_cli cli = {"test_idle_cpu", "rankflow test", NULL, NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return 1;
  reg(rt);
  int rank = rf_runtime_rank(rt);
  double c0 = cpu_seconds(), w0 = wall_seconds();
  code = rf_run(rt, flow, NULL);
  double cpu = cpu_seconds() - c0, wall = wall_seconds() - w0;
  int ok = code == 0 && rf_test_failures == 0 && cpu <= 0.15 * wall;
  fprintf(stderr, "rank %d: %.3f s CPU in %.3f s wall (%.1f%%)%s\n", rank,
          cpu, wall, 100.0 * cpu / wall, ok ? "" : "  <-- too busy");
  rf_finalize(rt, code);
  return ok ? 0 : 1;
}
