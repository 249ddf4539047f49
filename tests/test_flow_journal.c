/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_journal.c -- a flow for the journal tests (journal_resume.sh):
 * --tasks N tasks that each nap --seconds S, append one line "<index>\n"
 * to --markers FILE (one write, O_APPEND: a side effect the test counts)
 * and return index squared; a last task sums them through their futures.
 * The flow prints "sum <s> from-journal <k>" and, with --check, reads the
 * marker file and fails (exit 1) when a task resolved from the journal was
 * run again in this process's run, or any task ran more than --max-runs
 * times in all. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rf_test.h"

typedef struct {
  int64_t tasks, max_runs;
  double seconds;
  const char *markers;
  int check;
  rf_task *nap, *sum;
} config;

static config cfg = {.tasks = 20, .max_runs = 1, .seconds = 0.05};

static rf_status nap_fn(rf_ctx *ctx) {
  int64_t i = 0;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &i);
  for (double t = 0; t < cfg.seconds && !rf_ctx_cancelled(ctx); t += 0.01) {
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  if (rf_ctx_cancelled(ctx)) return RF_OK; /* discarded: no side effect */
  char line[32];
  int n = snprintf(line, sizeof line, "%lld\n", (long long)i);
  int fd = open(cfg.markers, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, line, (size_t)n) != n) {
    if (fd >= 0) close(fd);
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "marker: %s", strerror(errno));
  }
  close(fd);
  rf_ctx_return(ctx, rf_value_int(i * i));
  return RF_OK;
}

static rf_status sum_fn(rf_ctx *ctx) {
  const rf_value *list = rf_ctx_arg(ctx);
  int64_t total = 0, x;
  for (size_t i = 0; i < rf_value_count(list); i++) {
    if (rf_value_get_int(rf_value_item(list, i), &x) == RF_OK) total += x;
  }
  rf_ctx_return(ctx, rf_value_int(total));
  return RF_OK;
}

/* Runs per task index, counted from the marker file. */
static int64_t *count_markers(void) {
  int64_t *runs = calloc((size_t)cfg.tasks, sizeof *runs);
  FILE *f = fopen(cfg.markers, "r");
  long long i;
  if (runs == NULL || f == NULL) {
    if (f) fclose(f);
    free(runs);
    return NULL;
  }
  while (fscanf(f, "%lld", &i) == 1) {
    if (i >= 0 && i < cfg.tasks) runs[i]++;
  }
  fclose(f);
  return runs;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future **futs = calloc((size_t)cfg.tasks, sizeof *futs);
  rf_value *list = rf_value_list();
  rf_future *total;
  if (futs == NULL || list == NULL) return RF_ENOMEM;
  /* Before the run: runs already on disk per task (an earlier run's). */
  int64_t *before = cfg.check ? count_markers() : NULL;
  for (int64_t i = 0; i < cfg.tasks; i++) {
    REQUIRE_OK(rf_submit(flow, cfg.nap, rf_value_int(i), &futs[i]));
    REQUIRE_OK(rf_value_list_append(list, rf_value_future(futs[i])));
  }
  REQUIRE_OK(rf_submit(flow, cfg.sum, list, &total));
  int64_t sum = rf_test_int_result(total);
  int from_journal = 0;
  for (int64_t i = 0; i < cfg.tasks; i++) {
    if (rf_future_attempts(futs[i]) == 0) from_journal++;
  }
  printf("sum %lld from-journal %d\n", (long long)sum, from_journal);
  fflush(stdout);
  if (cfg.check) {
    int64_t *after = count_markers();
    CHECK(after != NULL);
    for (int64_t i = 0; after != NULL && i < cfg.tasks; i++) {
      int journaled = rf_future_attempts(futs[i]) == 0;
      int64_t was = before ? before[i] : 0;
      if (journaled && after[i] != was) {
        fprintf(stderr, "task %lld came from the journal but ran again\n",
                (long long)i);
        rf_test_failures++;
      }
      if (after[i] < 1 || after[i] > cfg.max_runs) {
        fprintf(stderr, "task %lld ran %lld times (allowed 1..%lld)\n",
                (long long)i, (long long)after[i], (long long)cfg.max_runs);
        rf_test_failures++;
      }
    }
    free(after);
  }
  free(before);
  for (int64_t i = 0; i < cfg.tasks; i++) rf_future_release(futs[i]);
  rf_future_release(total);
  free(futs);
  return rf_test_failures ? RF_ETASK : RF_OK;
}

static rf_status check(void *user, char *err, size_t errlen) {
  (void)user;
  if (cfg.markers != NULL) return RF_OK;
  snprintf(err, errlen, "--markers is required");
  return RF_EUSAGE;
}

int main(int argc, char **argv) {
  const rf_option options[] = {
      {"tasks", RF_OPT_INT, &cfg.tasks, "N", "number of tasks", NULL, 1, 1e6},
      {"seconds", RF_OPT_DOUBLE, &cfg.seconds, "S", "length of each task",
       NULL, 0, 3600},
      {"markers", RF_OPT_STRING, &cfg.markers, "FILE",
       "append each task run's index here", NULL, 0, 0},
      {"check", RF_OPT_FLAG, &cfg.check, NULL,
       "check the marker file against the journal", NULL, 0, 0},
      {"max-runs", RF_OPT_INT, &cfg.max_runs, "N",
       "runs allowed per task in all (a kill -9 may lose one in flight)",
       NULL, 1, 100},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  static const char *const identity[] = {"tasks", NULL};
  const rf_cli cli = {"test_flow_journal", "Tasks with side effects, for "
                      "the journal tests.", options, check, NULL, identity};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  if (rf_task_register(rt, "nap", nap_fn, NULL, &cfg.nap) != RF_OK ||
      rf_task_register(rt, "sum", sum_fn, NULL, &cfg.sum) != RF_OK) {
    return rf_finalize(rt, RF_EXIT_INTERNAL);
  }
  code = rf_run(rt, flow, NULL);
  return rf_finalize(rt, code);
}
