/* SPDX-License-Identifier: BSD-3-Clause */
/* hello_flow.c -- the smallest real flow: map, then reduce over futures.
 *
 * The flow maps `square` over 1..N, then submits one `sum` task whose
 * argument is the list of those futures: rankflow waits for all of them and
 * hands `sum` their results. Run it on any number of ranks:
 *   mpirun -np 4 build/jobs/hello_flow --n 1000
 */
#include <inttypes.h>
#include <stdio.h>

#include "rankflow.h"

typedef struct {
  int64_t n;
  rf_task *square, *sum;
} config;

static rf_status square(rf_ctx *ctx) {
  int64_t x;
  if (rf_value_get_int(rf_ctx_arg(ctx), &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "square wants an integer");
  }
  rf_ctx_return(ctx, rf_value_int(x * x));
  return RF_OK;
}

static rf_status sum(rf_ctx *ctx) {
  const rf_value *list = rf_ctx_arg(ctx);
  int64_t total = 0;
  for (size_t i = 0; i < rf_value_count(list); i++) {
    int64_t x;
    if (rf_value_get_int(rf_value_item(list, i), &x) != RF_OK) {
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "item %zu is not an integer",
                         i);
    }
    total += x;
  }
  rf_ctx_return(ctx, rf_value_int(total));
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  config *cfg = user;
  rf_value *inputs = rf_value_list();
  for (int64_t i = 1; i <= cfg->n; i++) {
    rf_status st = rf_value_list_append(inputs, rf_value_int(i));
    if (st != RF_OK) {
      rf_value_free(inputs);
      return st;
    }
  }
  rf_future **squares;
  size_t n;
  rf_status st = rf_map(flow, cfg->square, inputs, &squares, &n);
  if (st != RF_OK) return st;

  /* A list of futures as an argument: sum receives their results. */
  rf_value *arg = rf_value_list();
  for (size_t i = 0; i < n; i++) {
    st = rf_value_list_append(arg, rf_value_future(squares[i]));
    if (st != RF_OK) break;
  }
  rf_futures_release(squares, n);
  if (st != RF_OK) {
    rf_value_free(arg);
    return st;
  }
  rf_future *total;
  st = rf_submit(flow, cfg->sum, arg, &total);
  if (st != RF_OK) return st;

  const rf_value *result;
  st = rf_future_result(total, &result);
  if (st == RF_OK) {
    int64_t value = 0;
    (void)rf_value_get_int(result, &value);
    int ranks = rf_runtime_size(rf_flow_runtime(flow));
    printf("sum of squares 1..%" PRId64 " = %" PRId64 " (%d rank%s)\n", cfg->n,
           value, ranks, ranks == 1 ? "" : "s");
  } else {
    fprintf(stderr, "sum failed: %s\n", rf_future_error(total));
  }
  rf_future_release(total);
  return st;
}

int main(int argc, char **argv) {
  config cfg = {.n = 100};
  const rf_option options[] = {
      {"n", RF_OPT_INT, &cfg.n, "N", "square and sum 1..N", NULL, 1, 1e7},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  static const char *const identity[] = {"n", NULL};
  const rf_cli cli = {"hello_flow", "Map square over 1..N, then sum the futures.",
                      options, NULL, NULL, identity};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  if (rf_task_register(rt, "square", square, NULL, &cfg.square) != RF_OK ||
      rf_task_register(rt, "sum", sum, NULL, &cfg.sum) != RF_OK) {
    fprintf(stderr, "hello_flow: %s\n", rf_last_error());
    return rf_finalize(rt, RF_EXIT_INTERNAL);
  }
  code = rf_run(rt, flow, &cfg);
  return rf_finalize(rt, code);
}
