/* SPDX-License-Identifier: BSD-3-Clause */
/* myflow.c -- a flow of your own, built against an installed rankflow.
 *
 * Squares 1..n on the workers, then one task that sums the squares (it
 * receives the results, not the futures), and the sum printed by rank 0:
 *   mpiexec -n 3 ./myflow --n 100      -> sum of squares 1..100 = 338350
 * See CMakeLists.txt (find_package) and Makefile (pkg-config) for the two
 * ways to build it; rankflow.h documents every call.
 */
#include <stdio.h>

#include <rankflow.h>

static rf_task *square_task, *sum_task;

/* A task that cannot use its input fails (permanently: a retry would not
 * help) with a message the flow and the totals show. */
static rf_status square(rf_ctx *ctx) {
  int64_t x;
  if (rf_value_get_int(rf_ctx_arg(ctx), &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "the argument is not an integer");
  }
  rf_ctx_return(ctx, rf_value_int(x * x));
  return RF_OK;
}

static rf_status sum(rf_ctx *ctx) {
  const rf_value *items = rf_ctx_arg(ctx);
  int64_t total = 0, x;
  for (size_t i = 0; i < rf_value_count(items); i++) {
    if (rf_value_get_int(rf_value_item(items, i), &x) != RF_OK) {
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "item %zu is not an integer", i);
    }
    total += x;
  }
  rf_ctx_return(ctx, rf_value_int(total));
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  int64_t n = *(int64_t *)user, total;
  rf_value *squares = rf_value_list();
  for (int64_t i = 1; i <= n; i++) {
    rf_future *f;
    rf_status st = rf_submit(flow, square_task, rf_value_int(i), &f);
    if (st == RF_OK) {
      st = rf_value_list_append(squares, rf_value_future(f));
      rf_future_release(f); /* the list holds it */
    }
    if (st != RF_OK) {
      rf_value_free(squares);
      return st;
    }
  }
  rf_future *f;
  const rf_value *v;
  RF_CHECK(rf_submit(flow, sum_task, squares, &f));
  rf_status st = rf_future_result(f, &v);
  if (st == RF_OK) st = rf_value_get_int(v, &total);
  if (st == RF_OK) {
    printf("sum of squares 1..%lld = %lld\n", (long long)n, (long long)total);
  }
  rf_future_release(f);
  return st;
}

int main(int argc, char **argv) {
  int64_t n = 100;
  const rf_option options[] = {
      {"n", RF_OPT_INT, &n, "N", "square 1..N", NULL, 1, 1e7},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  const rf_cli cli = {"myflow", "the sum of squares, as a flow", options,
                      NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  /* Every rank registers the same tasks, so a failure here is the same on
   * every rank and all leave together. */
  if (rf_task_register(rt, "square", square, NULL, &square_task) != RF_OK ||
      rf_task_register(rt, "sum", sum, NULL, &sum_task) != RF_OK) {
    fprintf(stderr, "myflow: %s\n", rf_last_error());
    return rf_finalize(rt, RF_EXIT_INTERNAL);
  }
  return rf_finalize(rt, rf_run(rt, flow, &n));
}
