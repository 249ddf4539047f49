/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_memory.c -- released futures free rank 0's state: 30 rounds of
 * a 20,000-task map, each read and released, leave as many of the
 * library's blocks allocated on rank 0 as the first round did (600,000
 * tasks in all; kept state would add 20,000 blocks a round). Counting
 * blocks, not RSS, keeps the test exact under ASan and valgrind. */
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
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
  long live_first = 0;
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
    if (round == 0) {
      after_first = rss_mb();
      live_first = rf__alloc_live();
    }
  }
  long live_all = rf__alloc_live();
  fprintf(stderr,
          "rank 0: %ld live blocks after round 1, %ld after %d; RSS %.1f MB "
          "then %.1f MB\n",
          live_first, live_all, ROUNDS, after_first, rss_mb());
  CHECK(live_all - live_first < 1000);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_memory", reg, flow, NULL, 0);
}
