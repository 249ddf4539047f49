/* SPDX-License-Identifier: BSD-3-Clause */
/* ts_plan_print.c -- print a timeseries plan so a script can compare it
 * with pandas.
 *
 * Usage: ts_plan_print START END FREQ PARTITION_FREQ
 * On success prints a header line
 *   partitions <n> rows <total> freq_ns <ns>
 * then one line per bound (partitions + 1 of them):
 *   <YYYY-MM-DDTHH:MM:SS> <ns since the epoch> <rows from here, or ->
 * and exits 0. On a bad plan prints "error: <status name>: <reason>" and
 * exits 2. The timestamps are formatted with gmtime_r, not with the
 * library's calendar code, so the two check each other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "timeseries.h"

/* ns since the epoch as ISO text; the bounds are whole seconds. */
static const char *iso(int64_t ns, char *buf, size_t len) {
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  if (ns % 1000000000 != 0 || gmtime_r(&t, &tm) == NULL ||
      strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    snprintf(buf, len, "?");
  }
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s START END FREQ PARTITION_FREQ\n", argv[0]);
    return 2;
  }
  rf_timeseries *ts;
  rf_status st = rf_timeseries_plan(argv[1], argv[2], argv[3], argv[4], 0,
                                    &ts);
  if (st != RF_OK) {
    printf("error: %s: %s\n", rf_status_name(st), rf_last_error());
    return 2;
  }
  size_t n = rf_timeseries_partitions(ts);
  char buf[64];
  printf("partitions %zu rows %" PRId64 " freq_ns %" PRId64 "\n", n,
         rf_timeseries_rows(ts), rf_timeseries_freq_ns(ts));
  for (size_t i = 0; i < n; i++) {
    int64_t b = rf_timeseries_partition_start(ts, i);
    printf("%s %" PRId64 " %" PRId64 "\n", iso(b, buf, sizeof buf), b,
           rf_timeseries_partition_rows(ts, i));
  }
  /* The end bound: the last partition's start plus its rows. */
  int64_t last = rf_timeseries_partition_start(ts, n - 1) +
                 rf_timeseries_partition_rows(ts, n - 1) *
                     rf_timeseries_freq_ns(ts);
  printf("%s %" PRId64 " -\n", iso(last, buf, sizeof buf), last);
  rf_timeseries_free(ts);
  return 0;
}
