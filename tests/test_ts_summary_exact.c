/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ts_summary_exact.c -- the timeseries summary equals a reference the
 * test computes itself: two days at 1 s in 1-day partitions (172,800 rows)
 * generated whole, sorted, and described as pandas would (count, min, max
 * exact; quartiles by numpy's linear interpolation within 1e-12 relative;
 * mean and std within 1e-12 relative or 1e-15 absolute). Also: rows and
 * partitions as planned. Runs at 1, 2 and 4 ranks; the frame's bits are
 * printed (%a) so the scripts can compare rank counts. */
#include <math.h>
#include <stdlib.h>

#include "rf_test.h"
#include "timeseries.h"

static rf_timeseries *plan;

static void reg(rf_runtime *rt) { CHECK_OK(rf_timeseries_register(rt)); }

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double lerp(double a, double b, double t) {
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/* describe() of v[0..n) the slow, obvious way: long double sums, a sort. */
static void reference(double *v, size_t n, double out[8]) {
  long double sum = 0, ss = 0;
  for (size_t i = 0; i < n; i++) sum += v[i];
  long double mean = sum / n;
  for (size_t i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
  qsort(v, n, sizeof *v, cmp);
  out[0] = (double)n;
  out[1] = (double)mean;
  out[2] = (double)sqrtl(ss / (n - 1));
  out[3] = v[0];
  static const double q[3] = {0.25, 0.5, 0.75};
  for (int k = 0; k < 3; k++) {
    double h = (double)(n - 1) * q[k];
    size_t a = (size_t)floor(h);
    out[4 + k] = lerp(v[a], v[a + 1 < n ? a + 1 : a], h - floor(h));
  }
  out[7] = v[n - 1];
}

static int close_enough(double got, double want, double rel, double abs_tol) {
  return fabs(got - want) <= rel * fabs(want) || fabs(got - want) <= abs_tol;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  CHECK_INT(rf_timeseries_partitions(plan), 2);
  CHECK_INT(rf_timeseries_rows(plan), 172800);
  rf_frame *f;
  REQUIRE_OK(rf_timeseries_summary(flow, plan, NULL, &f));
  CHECK_INT(rf_frame_rows(f), 8);
  CHECK_INT(rf_frame_columns(f), 3);
  static const char *const labels[8] = {"count", "mean", "std", "min",
                                        "25%",   "50%",  "75%", "max"};
  for (int i = 0; i < 8; i++) CHECK(strcmp(rf_frame_label(f, (size_t)i), labels[i]) == 0);

  size_t n = (size_t)rf_timeseries_rows(plan), per = n / 2;
  int64_t *ids = malloc(n * sizeof *ids);
  double *cols[3] = {malloc(n * sizeof(double)), malloc(n * sizeof(double)),
                     malloc(n * sizeof(double))};
  for (size_t p = 0; p < 2; p++) {
    REQUIRE_OK(rf_timeseries_generate(plan, p, 0, per, NULL, ids + p * per,
                                      NULL, cols[1] + p * per,
                                      cols[2] + p * per));
  }
  for (size_t i = 0; i < n; i++) cols[0][i] = (double)ids[i];
  static const char *const names[3] = {"id", "x", "y"};
  for (int c = 0; c < 3; c++) {
    double want[8];
    reference(cols[c], n, want);
    CHECK(strcmp(rf_frame_column_name(f, (size_t)c), names[c]) == 0);
    const double *got = rf_frame_f64(f, (size_t)c);
    for (int i = 0; i < 8; i++) {
      int exact = i == 0 || i == 3 || i == 7;
      int ok = exact ? got[i] == want[i]
                     : close_enough(got[i], want[i], 1e-12, i <= 2 ? 1e-15 : 0);
      if (!ok) {
        fprintf(stderr, "%s %s: got %.17g, reference %.17g\n", names[c],
                labels[i], got[i], want[i]);
        rf_test_failures++;
      }
    }
    for (int i = 0; i < 8; i++) printf("%s %s %a\n", names[c], labels[i], got[i]);
  }
  free(ids);
  for (int c = 0; c < 3; c++) free(cols[c]);
  rf_frame_free(f);
  return RF_OK;
}

int main(int argc, char **argv) {
  if (rf_timeseries_plan("2000-01-01", "2000-01-03", "1s", "1d", 7, &plan) !=
      RF_OK) {
    fprintf(stderr, "plan: %s\n", rf_last_error());
    return 1;
  }
  int code = rf_test_run(argc, argv, "test_ts_summary_exact", reg, flow, NULL, 0);
  rf_timeseries_free(plan);
  return code;
}
