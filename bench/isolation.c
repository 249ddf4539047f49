/* SPDX-License-Identifier: BSD-3-Clause */
/* isolation.c -- what isolating a task costs: empty tasks per second, the
 * efficiency of 1 ms tasks, and a task host's restart after a crash, each
 * measured from inside the flow. Run with and without --isolate (the
 * library flag) by bench/isolation.sh, which sets the figures side by
 * side.
 *
 * Modes (--mode), one per run:
 *   rate   a warm-up map, then --reps timed maps of --n empty tasks; the
 *          median rate (tasks/s) of the repetitions.
 *   work   --n tasks that each compute for 1 ms of CPU time (their own
 *          thread's clock, so a task host's start-up is not hidden in
 *          it); the wall time of the map.
 *   crash  --n tasks that each raise SIGSEGV (run with --isolate: each
 *          kills its task host, which the worker starts again); the wall
 *          time per task, the restart and the crash's detection in it.
 *   spawn  no flow work: rank 0 starts /bin/true --n times with
 *          posix_spawn and waits for each, the cost of a process per task
 *          (as runners that start one per task pay), per task.
 * Rank 0 prints one line "RESULT key=value ...".
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "bench_sort.h"
#include "rankflow.h"

extern char **environ;

typedef struct {
  const char *mode;
  int64_t n, reps;
  rf_task *empty, *work, *crash;
} config;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static rf_status empty_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx)));
  return RF_OK;
}

static rf_status work_fn(rf_ctx *ctx) {
  volatile double x = 0;
  double until = cpu_s() + 0.001;
  while (cpu_s() < until) {
    for (int i = 0; i < 1000; i++) x += i * 0.5;
  }
  rf_ctx_return(ctx, rf_value_int(1));
  return RF_OK;
}

static rf_status crash_fn(rf_ctx *ctx) {
  (void)ctx;
  raise(SIGSEGV);
  return RF_OK;
}

/* Map task over 0..n-1 and wait for all: the wall time, or -1. */
static double map_once(rf_flow *flow, rf_task *task, int64_t n) {
  rf_value *in = rf_value_list();
  for (int64_t i = 0; i < n; i++) rf_value_list_append(in, rf_value_int(i));
  rf_future **fs;
  size_t got;
  double t0 = now_s();
  if (rf_map(flow, task, in, &fs, &got) != RF_OK) return -1;
  rf_status st = rf_futures_wait(fs, got);
  double t = now_s() - t0;
  rf_futures_release(fs, got);
  return st == RF_OK || st == RF_ETASK ? t : -1;
}

static double spawn_per_task_s(int64_t n) {
  char *argv[] = {"/bin/true", NULL};
  double t0 = now_s();
  for (int64_t i = 0; i < n; i++) {
    pid_t pid;
    int status;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid) {
      return -1;
    }
  }
  return (now_s() - t0) / (double)n;
}

static rf_status flow(rf_flow *flow, void *user) {
  config *c = user;
  if (strcmp(c->mode, "rate") == 0) {
    double rates[64];
    int reps = (int)(c->reps < 64 ? c->reps : 64);
    if (map_once(flow, c->empty, c->n / 10 + 1) < 0) return RF_EINVAL;
    for (int r = 0; r < reps; r++) {
      double t = map_once(flow, c->empty, c->n);
      if (t <= 0) return RF_EINVAL;
      rates[r] = (double)c->n / t;
    }
    bench_sort(rates, (size_t)reps);
    printf("RESULT mode=rate tasks_per_s=%.0f\n", rates[reps / 2]);
  } else if (strcmp(c->mode, "work") == 0) {
    if (map_once(flow, c->work, 20) < 0) return RF_EINVAL; /* warm-up */
    double t = map_once(flow, c->work, c->n);
    if (t <= 0) return RF_EINVAL;
    printf("RESULT mode=work tasks=%lld wall_s=%.4f\n", (long long)c->n, t);
  } else if (strcmp(c->mode, "crash") == 0) {
    double t = map_once(flow, c->crash, c->n);
    if (t <= 0) return RF_EINVAL;
    printf("RESULT mode=crash tasks=%lld per_task_ms=%.3f\n", (long long)c->n,
           t * 1e3 / (double)c->n);
  } else if (strcmp(c->mode, "spawn") == 0) {
    double t = spawn_per_task_s(c->n);
    if (t <= 0) return RF_EINVAL;
    printf("RESULT mode=spawn per_task_ms=%.3f\n", t * 1e3);
  } else {
    return rf_error_set(RF_EUSAGE, "--mode: '%s' is not rate, work, crash "
                        "or spawn", c->mode);
  }
  fflush(stdout);
  return RF_OK;
}

int main(int argc, char **argv) {
  static config cfg = {"rate", 100000, 3, NULL, NULL, NULL};
  static const rf_option options[] = {
      {"mode", RF_OPT_STRING, &cfg.mode, "MODE", "rate|work|crash|spawn",
       NULL, 0, 0},
      {"n", RF_OPT_INT, &cfg.n, "N", "tasks per map", NULL, 1, 100000000},
      {"reps", RF_OPT_INT, &cfg.reps, "N", "timed maps (rate)", NULL, 1, 64},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  const rf_cli cli = {"isolation", "What isolating a task costs.", options,
                      NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  if (rf_task_register(rt, "empty", empty_fn, NULL, &cfg.empty) != RF_OK ||
      rf_task_register(rt, "work", work_fn, NULL, &cfg.work) != RF_OK ||
      rf_task_register(rt, "crash", crash_fn, NULL, &cfg.crash) != RF_OK) {
    fprintf(stderr, "isolation: %s\n", rf_last_error());
    return rf_finalize(rt, RF_EXIT_INTERNAL);
  }
  return rf_finalize(rt, rf_run(rt, flow, &cfg));
}
