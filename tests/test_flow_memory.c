/* test_flow_memory.c -- released futures free rank 0's state: 30 rounds of
 * a 20,000-task map, each read and released, leave rank 0's resident
 * memory where the first round left it (600,000 tasks in all; kept state
 * would add ~100 MB). */
#include <stdio.h>
#include <stdlib.h>

#include "rf_test.h"

static rf_task *echo;

static rf_status echo_fn(rf_ctx *ctx) {
  rf_ctx_return(ctx, rf_value_copy(rf_ctx_arg(ctx)));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  CHECK_OK(rf_task_register(rt, "echo", echo_fn, NULL, &echo));
}

/* Resident set of this process in MB, from /proc. */
static double rss_mb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb = -1;
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "VmRSS: %lf kB", &kb) == 1) break;
  }
  if (f != NULL) fclose(f);
  return kb / 1024.0;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  enum { ROUNDS = 30, N = 20000 };
  double after_first = 0;
  for (int round = 0; round < ROUNDS; round++) {
    rf_value *inputs = rf_value_list();
    for (int64_t i = 0; i < N; i++) {
      REQUIRE_OK(rf_value_list_append(inputs, rf_value_int(i)));
    }
    rf_future **futs;
    size_t n;
    REQUIRE_OK(rf_map(flow, echo, inputs, &futs, &n));
    for (size_t i = 0; i < n; i += 997) {
      CHECK_INT(rf_test_int_result(futs[i]), (int64_t)i);
    }
    REQUIRE_OK(rf_futures_wait(futs, n));
    rf_futures_release(futs, n);
    if (round == 0) after_first = rss_mb();
  }
  double after_all = rss_mb();
  fprintf(stderr, "rank 0 RSS: %.1f MB after round 1, %.1f MB after %d\n",
          after_first, after_all, ROUNDS);
  CHECK(after_all - after_first < 24.0);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_memory", reg, flow, NULL, 0);
}
