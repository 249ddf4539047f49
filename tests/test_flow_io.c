/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_io.c -- I/O tasks (registered with io) run side by side on a
 * rank's I/O slots: several at once, never more than --io-slots on one
 * rank, beside CPU tasks; they are retried, fail and are cancelled like
 * any task. Run with --io-slots 3 at 1, 2 and 4 ranks. */
#include "rf_test.h"

#include <stdlib.h>
#include <time.h>

#define NAPS 7

static rf_task *nap, *flaky, *broken, *forever, *square;
static int slots = 8; /* from --io-slots, read in main */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits 250 ms like a slow request; returns [rank, start, end]. */
static rf_status nap_fn(rf_ctx *ctx) {
  double t0 = now();
  for (int i = 0; i < 25 && !rf_ctx_cancelled(ctx); i++) sleep_ms(10);
  rf_value *r = rf_value_list();
  if (r == NULL || rf_value_list_append(r, rf_value_int(rf_ctx_rank(ctx))) ||
      rf_value_list_append(r, rf_value_double(t0)) ||
      rf_value_list_append(r, rf_value_double(now()))) {
    rf_value_free(r);
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "out of memory");
  }
  rf_ctx_return(ctx, r);
  return RF_OK;
}

static rf_status flaky_fn(rf_ctx *ctx) {
  if (rf_ctx_attempt(ctx) < 2) {
    return rf_ctx_fail(ctx, RF_FAIL_TRANSIENT, "503 on attempt %d",
                       rf_ctx_attempt(ctx));
  }
  rf_ctx_return(ctx, rf_value_int(rf_ctx_attempt(ctx)));
  return RF_OK;
}

static rf_status broken_fn(rf_ctx *ctx) {
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "HTTP 404 for /nowhere");
}

/* Waits until cancelled (a hung transfer that honours the flag). */
static rf_status forever_fn(rf_ctx *ctx) {
  for (int i = 0; i < 60000 && !rf_ctx_cancelled(ctx); i++) sleep_ms(1);
  return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "was never cancelled");
}

static rf_status square_fn(rf_ctx *ctx) {
  int64_t x = 0;
  (void)rf_value_get_int(rf_ctx_arg(ctx), &x);
  rf_ctx_return(ctx, rf_value_int(x * x));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  rf_task_options io = {.io = 1};
  rf_task_options io_retry = {.io = 1, .retries = 3, .retry_delay = 0.01};
  CHECK_OK(rf_task_register(rt, "nap", nap_fn, &io, &nap));
  CHECK_OK(rf_task_register(rt, "flaky", flaky_fn, &io_retry, &flaky));
  CHECK_OK(rf_task_register(rt, "broken", broken_fn, &io_retry, &broken));
  CHECK_OK(rf_task_register(rt, "forever", forever_fn, &io, &forever));
  CHECK_OK(rf_task_register(rt, "square", square_fn, NULL, &square));
  rf_task_options bad = {.io = 2};
  CHECK_STATUS(rf_task_register(rt, "bad_io", square_fn, &bad, NULL),
               RF_EINVAL);
}

/* The most naps that ran at once on one rank, over all ranks. */
static int max_overlap(double (*iv)[3], int n) {
  int best = 0;
  for (int i = 0; i < n; i++) {
    int at = 0;
    for (int j = 0; j < n; j++) {
      if (iv[j][0] == iv[i][0] && iv[j][1] <= iv[i][1] && iv[i][1] < iv[j][2]) {
        at++;
      }
    }
    if (at > best) best = at;
  }
  return best;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *naps[NAPS], *squares[20], *a, *b, *c;
  for (int i = 0; i < NAPS; i++) {
    REQUIRE_OK(rf_submit(flow, nap, rf_value_int(i), &naps[i]));
  }
  for (int i = 0; i < 20; i++) {
    REQUIRE_OK(rf_submit(flow, square, rf_value_int(i), &squares[i]));
  }
  REQUIRE_OK(rf_submit(flow, flaky, NULL, &a));
  REQUIRE_OK(rf_submit(flow, broken, NULL, &b));
  REQUIRE_OK(rf_futures_wait(naps, NAPS));
  for (int i = 0; i < 20; i++) {
    CHECK_INT(rf_test_int_result(squares[i]), i * i);
  }

  double iv[NAPS][3];
  for (int i = 0; i < NAPS; i++) {
    const rf_value *v = NULL;
    int64_t rank = -1;
    CHECK_OK(rf_future_result(naps[i], &v));
    CHECK_INT(rf_value_count(v), 3);
    CHECK_OK(rf_value_get_int(rf_value_item(v, 0), &rank));
    iv[i][0] = (double)rank;
    CHECK_OK(rf_value_get_double(rf_value_item(v, 1), &iv[i][1]));
    CHECK_OK(rf_value_get_double(rf_value_item(v, 2), &iv[i][2]));
    CHECK(iv[i][2] - iv[i][1] >= 0.2);
  }
  int most = max_overlap(iv, NAPS);
  fprintf(stderr, "most naps at once on one rank: %d (slots %d)\n", most,
          slots);
  CHECK(most >= 2);     /* they ran side by side */
  CHECK(most <= slots); /* never more than the slots */
  if (rf_runtime_size(rf_flow_runtime(flow)) <= 2) {
    CHECK_INT(most, slots < NAPS ? slots : NAPS); /* all it could */
  }

  CHECK_INT(rf_test_int_result(a), 2);
  CHECK_INT(rf_future_attempts(a), 2);
  const rf_value *v;
  CHECK_STATUS(rf_future_result(b, &v), RF_ETASK);
  CHECK_INT(rf_future_attempts(b), 1);
  CHECK_CONTAINS(rf_future_error(b), "HTTP 404");

  /* A running I/O task sees its cancelled flag and ends cancelled. */
  REQUIRE_OK(rf_submit(flow, forever, NULL, &c));
  CHECK_STATUS(rf_future_wait(c, 0.3), RF_ETIMEDOUT);
  CHECK_OK(rf_future_cancel(c));
  CHECK_OK(rf_future_wait(c, 30));
  CHECK_STATE(c, RF_STATE_CANCELLED);

  for (int i = 0; i < NAPS; i++) rf_future_release(naps[i]);
  for (int i = 0; i < 20; i++) rf_future_release(squares[i]);
  rf_future_release(a);
  rf_future_release(b);
  rf_future_release(c);
  return RF_OK;
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--io-slots") == 0) slots = atoi(argv[i + 1]);
  }
  return rf_test_run(argc, argv, "test_flow_io", reg, flow, NULL, 1);
}
