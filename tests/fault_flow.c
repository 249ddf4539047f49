/* SPDX-License-Identifier: BSD-3-Clause */
/* fault_flow.c -- a flow with one misbehaving task, for tests/faults.sh.
 *
 * --tasks N tasks "work" each sleep --sleep seconds and return i*i; the
 * one with index --bad-index (default 3) instead does what --bad says:
 * segv, abort, exit (exit(9)), hang (sleeps forever, ignoring cancel),
 * coop (sleeps until rf_ctx_cancelled() says stop), or none. --bad-once
 * misbehaves on the first attempt only. The flow prints one line per
 * state count and "sum=S" over the completed ones, so a script can see
 * what finished. All the library's flags apply (--isolate, --journal,
 * --task-timeout, --drain-grace). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rankflow.h"

typedef struct {
  int64_t tasks, bad_index, retries;
  double sleep;
  const char *bad;
  int bad_once;
  rf_task *work;
} config;

static config cfg = {20, 3, 0, 0.05, "none", 0, NULL};

static void nap(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static rf_status work_fn(rf_ctx *ctx) {
  int64_t i = 0;
  rf_value_get_int(rf_ctx_arg(ctx), &i);
  int misbehave = i == cfg.bad_index &&
                  !(cfg.bad_once && rf_ctx_attempt(ctx) > 1);
  if (misbehave && strcmp(cfg.bad, "segv") == 0) raise(SIGSEGV);
  if (misbehave && strcmp(cfg.bad, "abort") == 0) abort();
  if (misbehave && strcmp(cfg.bad, "exit") == 0) exit(9);
  if (misbehave && strcmp(cfg.bad, "hang") == 0) {
    for (;;) nap(0.1); /* never looks at rf_ctx_cancelled */
  }
  if (misbehave && strcmp(cfg.bad, "coop") == 0) {
    while (!rf_ctx_cancelled(ctx)) nap(0.01);
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "gave up when cancelled");
  }
  nap(cfg.sleep);
  rf_ctx_return(ctx, rf_value_int(i * i));
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_value *in = rf_value_list();
  for (int64_t i = 0; i < cfg.tasks; i++) {
    rf_value_list_append(in, rf_value_int(i));
  }
  rf_future **fs;
  size_t n;
  RF_CHECK(rf_map(flow, cfg.work, in, &fs, &n));
  rf_status st = rf_futures_wait(fs, n);
  int64_t sum = 0;
  size_t count[RF_STATE_COUNT] = {0};
  for (size_t i = 0; i < n; i++) {
    const rf_value *v;
    int64_t x = 0;
    rf_state s = rf_future_state(fs[i]);
    count[s]++;
    if (s == RF_STATE_COMPLETED && rf_future_result(fs[i], &v) == RF_OK &&
        rf_value_get_int(v, &x) == RF_OK) {
      sum += x;
    }
    if (s != RF_STATE_COMPLETED) {
      printf("task %zu: %s after %d attempt%s: %s\n", i, rf_state_name(s),
             rf_future_attempts(fs[i]),
             rf_future_attempts(fs[i]) == 1 ? "" : "s",
             rf_future_error(fs[i]) ? rf_future_error(fs[i]) : "");
    }
  }
  for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) {
    if (count[s] > 0) printf("%s=%zu\n", rf_state_name((rf_state)s), count[s]);
  }
  printf("sum=%lld\n", (long long)sum);
  fflush(stdout);
  rf_futures_release(fs, n);
  return st == RF_ESTOPPED ? st : RF_OK;
}

int main(int argc, char **argv) {
  static const rf_option options[] = {
      {"tasks", RF_OPT_INT, &cfg.tasks, "N", "tasks to run", NULL, 1, 100000},
      {"sleep", RF_OPT_DOUBLE, &cfg.sleep, "SECONDS", "each task's work",
       NULL, 0, 3600},
      {"bad", RF_OPT_STRING, &cfg.bad, "KIND",
       "none|segv|abort|exit|hang|coop", NULL, 0, 0},
      {"bad-index", RF_OPT_INT, &cfg.bad_index, "I", "the misbehaving task",
       NULL, 0, 100000},
      {"bad-once", RF_OPT_FLAG, &cfg.bad_once, NULL,
       "misbehave on the first attempt only", NULL, 0, 0},
      {"retries", RF_OPT_INT, &cfg.retries, "N", "retries of every task",
       NULL, 0, 100},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  static const char *const identity[] = {"tasks", NULL};
  const rf_cli cli = {"fault_flow", "A flow with one misbehaving task.",
                      options, NULL, NULL, identity};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  rf_task_options opts = {.retries = (int)cfg.retries, .retry_delay = 0.01};
  if (rf_task_register(rt, "work", work_fn, &opts, &cfg.work) != RF_OK) {
    fprintf(stderr, "fault_flow: %s\n", rf_last_error());
    return rf_finalize(rt, RF_EXIT_INTERNAL);
  }
  return rf_finalize(rt, rf_run(rt, flow, NULL));
}
