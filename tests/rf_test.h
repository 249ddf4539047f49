/* SPDX-License-Identifier: BSD-3-Clause */
/* rf_test.h -- tiny assertions and a main() for rankflow's tests.
 *
 * Checks print both operands with file:line and count failures instead of
 * stopping, so one run shows every broken expectation. Flow tests run
 * through rf_test_run(): the flow (rank 0) checks, and the verdict is rank
 * 0's; every rank compares the job's exit code with the one the test
 * expects (1 for a test whose tasks fail on purpose).
 */
#ifndef RF_TEST_H
#define RF_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rankflow.h"

static int rf_test_failures;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,      \
              #cond);                                                       \
      rf_test_failures++;                                                   \
    }                                                                       \
  } while (0)

#define CHECK_INT(a, b)                                                     \
  do {                                                                      \
    long long a_ = (long long)(a), b_ = (long long)(b);                     \
    if (a_ != b_) {                                                         \
      fprintf(stderr, "%s:%d: check failed: %s == %s (%lld vs %lld)\n",     \
              __FILE__, __LINE__, #a, #b, a_, b_);                          \
      rf_test_failures++;                                                   \
    }                                                                       \
  } while (0)

#define CHECK_STATUS(expr, want)                                            \
  do {                                                                      \
    rf_status s_ = (expr);                                                  \
    if (s_ != (want)) {                                                     \
      fprintf(stderr, "%s:%d: %s gave %s, expected %s (%s)\n", __FILE__,    \
              __LINE__, #expr, rf_status_name(s_), rf_status_name(want),    \
              rf_last_error());                                             \
      rf_test_failures++;                                                   \
    }                                                                       \
  } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, RF_OK)

#define CHECK_STATE(f, want)                                                \
  do {                                                                      \
    rf_state st_ = rf_future_state(f);                                      \
    if (st_ != (want)) {                                                    \
      fprintf(stderr, "%s:%d: state of %s is %s, expected %s\n", __FILE__,  \
              __LINE__, #f, rf_state_name(st_), rf_state_name(want));      \
      rf_test_failures++;                                                   \
    }                                                                       \
  } while (0)

#define CHECK_CONTAINS(haystack, needle)                                    \
  do {                                                                      \
    const char *h_ = (haystack);                                            \
    if (h_ == NULL || strstr(h_, (needle)) == NULL) {                       \
      fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__,      \
              __LINE__, h_ ? h_ : "(null)", (needle));                      \
      rf_test_failures++;                                                   \
    }                                                                       \
  } while (0)

/* Stop the flow at once on a failed precondition. */
#define REQUIRE_OK(expr)                                                    \
  do {                                                                      \
    rf_status s_ = (expr);                                                  \
    if (s_ != RF_OK) {                                                      \
      fprintf(stderr, "%s:%d: %s gave %s (%s)\n", __FILE__, __LINE__,       \
              #expr, rf_status_name(s_), rf_last_error());                  \
      rf_test_failures++;                                                   \
      return s_;                                                            \
    }                                                                       \
  } while (0)

/* An int result of a future, or a failed check and -1. */
static inline int64_t rf_test_int_result(rf_future *f) {
  const rf_value *v;
  int64_t x = -1;
  rf_status st = rf_future_result(f, &v);
  if (st != RF_OK || rf_value_get_int(v, &x) != RF_OK) {
    fprintf(stderr, "result of %s: %s (%s)\n", rf_future_key(f),
            rf_status_name(st), rf_future_error(f) ? rf_future_error(f) : "");
    rf_test_failures++;
    return -1;
  }
  return x;
}

typedef void (*rf_test_register_fn)(rf_runtime *rt);

/* Init, register, run the flow, and turn the outcome into a test verdict:
 * exit 0 when the job's code is `expected` and rank 0's checks passed. */
static inline int rf_test_run(int argc, char **argv, const char *name,
                              rf_test_register_fn reg, rf_flow_fn flow,
                              void *user, int expected) {
  rf_cli cli = {name, "rankflow test", NULL, NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code == 0 ? 1 : code;
  int rank = rf_runtime_rank(rt);
  if (reg) reg(rt);
  code = rf_run(rt, flow, user);
  int verdict = (code == expected) ? 0 : 1;
  if (rank == 0) {
    if (code != expected) {
      fprintf(stderr, "%s: job exit code %d, expected %d\n", name, code,
              expected);
    }
    if (rf_test_failures > 0) verdict = 1;
    printf("%s: %s (%d ranks, %d failed checks)\n", name,
           verdict == 0 ? "PASS" : "FAIL", rf_runtime_size(rt),
           rf_test_failures);
  }
  rf_finalize(rt, code);
  return verdict;
}

#endif /* RF_TEST_H */
