/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ts_plan_errors.c -- bad timeseries parameters are usage errors that
 * name the bad text, and no plan leaks.
 *
 * Jobs pass --start/--end/--freq/--partition-freq straight to
 * rf_timeseries_plan and print rf_last_error() on one line before exiting
 * 2, so each bad input must give RF_EUSAGE, leave *out NULL, and say what
 * is wrong with which text, on one line. Also checks the defaults' numbers
 * (the 13 x 2,419,200 rows), the accessors' edges, and that a
 * failed allocation is RF_ENOMEM. Live blocks are counted before and
 * after: every path must free what it made.
 */
#include "base/base.h"
#include "timeseries.h"
#include "rf_test.h"

typedef struct {
  const char *start, *end, *freq, *pfreq;
  const char *needle; /* must appear in rf_last_error() */
} bad_case;

static const bad_case bad[] = {
    /* dates */
    {"2000-13", "2001", "1s", "4w",
     "--start: '2000-13' is not a date (month 13"},
    {"2000-00", "2001", "1s", "4w", "'2000-00' is not a date"},
    {"2000-02-30", "2001", "1s", "4w", "'2000-02-30' is not a date"},
    {"2001-02-29", "2002", "1s", "4w", "2001-02 has 28 days"},
    {"1900-02-29", "1901", "1s", "4w", "1900-02 has 28 days"},
    {"2000-04-31", "2001", "1s", "4w", "2000-04 has 30 days"},
    {"2000", "2000-01-01T24:00:00", "1s", "4w",
     "--end: '2000-01-01T24:00:00' is not a date"},
    {"2000", "2000-01-01T23:59:60", "1s", "4w", "'2000-01-01T23:59:60'"},
    {"2000", "2000-01-01T23:60:00", "1s", "4w", "'2000-01-01T23:60:00'"},
    {"2000-01-01T12:00", "2001", "1s", "4w",
     "--start: '2000-01-01T12:00' is not a date (YYYY, YYYY-MM, YYYY-MM-DD "
     "or YYYY-MM-DDTHH:MM:SS)"},
    {"2000-01-01 00:00:00", "2001", "1s", "4w", "'2000-01-01 00:00:00'"},
    {"2000-01T00:00:00", "2001", "1s", "4w", "'2000-01T00:00:00'"},
    {"2000-1-5", "2001", "1s", "4w", "'2000-1-5' is not a date"},
    {"20000", "2001", "1s", "4w", "'20000' is not a date"},
    {"200", "2001", "1s", "4w", "'200' is not a date"},
    {"", "2001", "1s", "4w", "--start: '' is not a date"},
    {" 2000", "2001", "1s", "4w", "' 2000' is not a date"},
    {"2000-", "2001", "1s", "4w", "'2000-' is not a date"},
    {"2000-01-01T", "2001", "1s", "4w", "'2000-01-01T' is not a date"},
    {"1677", "2001", "1s", "4w", "--start: '1677' is out of range"},
    {"2000", "2262", "1s", "4w", "--end: '2262' is out of range"},
    /* frequencies */
    {"2000", "2001", "5q", "4w",
     "--freq: unknown unit 'q' in '5q' (s, min, h, d or w)"},
    {"2000", "2001", "0s", "4w", "--freq: the count must be positive in '0s'"},
    {"2000", "2001", "1s", "0w",
     "--partition-freq: the count must be positive in '0w'"},
    {"2000", "2001", "000min", "4w", "must be positive in '000min'"},
    {"2000", "2001", "+5s", "4w", "--freq: '+5s' must not have a sign"},
    {"2000", "2001", "-5s", "4w", "'-5s' must not have a sign"},
    {"2000", "2001", "5", "4w", "--freq: '5' has no unit"},
    {"2000", "2001", "", "4w", "--freq: '' has no unit"},
    {"2000", "2001", "1.5h", "4w", "unknown unit '.5h' in '1.5h'"},
    {"2000", "2001", "5S", "4w", "unknown unit 'S' in '5S'"},
    {"2000", "2001", "1s", "4W", "unknown unit 'W' in '4W'"},
    {"2000", "2001", "1s", "4 w", "unknown unit ' w' in '4 w'"},
    {"2000", "2001", "1s", "4w ", "unknown unit 'w ' in '4w '"},
    {"2000", "2001", "1m", "4w", "unknown unit 'm' in '1m'"},
    {"2000", "2001", "1s", "99999999999999999999w",
     "the count in '99999999999999999999w' is too large"},
    {"2000", "2001", "1s", "15251w", "'15251w' is too long"},
    /* the range */
    {"2000", "2000", "1s", "4w", "--end 2000 is not after --start 2000"},
    {"2001", "2000-06", "1s", "4w",
     "--end 2000-06 is not after --start 2001"},
    {"2000", "2001", "7min", "1h",
     "--partition-freq 1h is not a multiple of --freq 7min"},
    {"2000", "2001", "2d", "1d", "--partition-freq 1d is not a multiple"},
    {"2000", "2000-01-03", "1s", "4w",
     "the range 2000-01-01 to 2000-01-03 holds no whole 4w partition "
     "(pandas gives 1 boundary)"},
    {"2000-01-03", "2000-01-08T12:00:00", "1s", "w",
     "the range 2000-01-03 to 2000-01-08T12:00:00 holds no whole w "
     "partition (pandas gives 0 boundaries)"},
    {"1678", "2261", "1s", "1s", "partitions (at most 2147483647)"},
    /* missing */
    {NULL, "2001", "1s", "4w", "--start is missing"},
    {"2000", NULL, "1s", "4w", "--end is missing"},
    {"2000", "2001", NULL, "4w", "--freq is missing"},
    {"2000", "2001", "1s", NULL, "--partition-freq is missing"},
};

static void check_bad(const bad_case *c) {
  rf_timeseries *ts = (rf_timeseries *)&ts; /* must be overwritten */
  rf_status st = rf_timeseries_plan(c->start, c->end, c->freq, c->pfreq, 1,
                                    &ts);
  if (st != RF_EUSAGE || ts != NULL) {
    fprintf(stderr, "plan(%s, %s, %s, %s) gave %s (%s)\n",
            c->start ? c->start : "NULL", c->end ? c->end : "NULL",
            c->freq ? c->freq : "NULL", c->pfreq ? c->pfreq : "NULL",
            rf_status_name(st), rf_last_error());
    rf_test_failures++;
  }
  CHECK_CONTAINS(rf_last_error(), c->needle);
  CHECK(strchr(rf_last_error(), '\n') == NULL);
  if (st == RF_OK) rf_timeseries_free(ts);
}

/* The defaults: 14 Sundays 2000-01-02 ... 2000-12-31, 13 partitions. */
static void check_defaults(void) {
  rf_timeseries *ts;
  const int64_t jan2 = INT64_C(946771200) * 1000000000; /* 2000-01-02 */
  const int64_t four_weeks = INT64_C(28) * 86400 * 1000000000;
  if (rf_timeseries_plan("2000", "2001", "1s", "4w", 42, &ts) != RF_OK) {
    fprintf(stderr, "defaults: %s\n", rf_last_error());
    rf_test_failures++;
    return;
  }
  CHECK_INT(rf_timeseries_partitions(ts), 13);
  CHECK_INT(rf_timeseries_rows(ts), 31449600);
  CHECK_INT(rf_timeseries_freq_ns(ts), 1000000000);
  CHECK_INT(rf_timeseries_seed(ts), 42);
  CHECK_INT(rf_timeseries_partition_start(ts, 0), jan2);
  CHECK_INT(rf_timeseries_partition_start(ts, 12), jan2 + 12 * four_weeks);
  for (size_t i = 0; i < 13; i++) {
    CHECK_INT(rf_timeseries_partition_rows(ts, i), 2419200);
  }
  CHECK_INT(rf_timeseries_partition_start(ts, 13), INT64_MIN);
  CHECK_INT(rf_timeseries_partition_rows(ts, 13), -1);
  CHECK(strcmp(rf_timeseries_param(ts, "start"), "2000") == 0);
  CHECK(strcmp(rf_timeseries_param(ts, "end"), "2001") == 0);
  CHECK(strcmp(rf_timeseries_param(ts, "freq"), "1s") == 0);
  CHECK(strcmp(rf_timeseries_param(ts, "partition_freq"), "4w") == 0);
  CHECK(rf_timeseries_param(ts, "seed") == NULL);
  CHECK(rf_timeseries_param(ts, "partition-freq") == NULL);
  CHECK(rf_timeseries_param(ts, NULL) == NULL);
  rf_timeseries_free(ts);
}

/* The parameters are copies: the caller's buffers may change. */
static void check_copies(void) {
  char start[] = "2000-02-27", end[] = "2000-03-02";
  rf_timeseries *ts;
  if (rf_timeseries_plan(start, end, "s", "d", 7, &ts) != RF_OK) {
    fprintf(stderr, "copies: %s\n", rf_last_error());
    rf_test_failures++;
    return;
  }
  start[0] = end[0] = 'X';
  CHECK(strcmp(rf_timeseries_param(ts, "start"), "2000-02-27") == 0);
  CHECK(strcmp(rf_timeseries_param(ts, "end"), "2000-03-02") == 0);
  CHECK(strcmp(rf_timeseries_param(ts, "freq"), "s") == 0);
  CHECK_INT(rf_timeseries_partitions(ts), 4); /* leap day included */
  CHECK_INT(rf_timeseries_rows(ts), 4 * 86400);
  rf_timeseries_free(ts);
}

int main(void) {
  long live = rf__alloc_live();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) check_bad(&bad[i]);
  check_defaults();
  check_copies();
  rf_timeseries *ts = (rf_timeseries *)&ts;
  CHECK_STATUS(rf_timeseries_plan("2000", "2001", "1s", "4w", 0, NULL),
               RF_EINVAL);
  rf__alloc_fail_after(0, 0);
  CHECK_STATUS(rf_timeseries_plan("2000", "2001", "1s", "4w", 0, &ts),
               RF_ENOMEM);
  rf__alloc_fail_after(-1, 0);
  CHECK(ts == NULL);
  rf_timeseries_free(NULL);
  CHECK_INT(rf__alloc_live(), live);
  printf("test_ts_plan_errors: %s (%zu bad inputs, %d failed checks)\n",
         rf_test_failures ? "FAIL" : "PASS", sizeof bad / sizeof bad[0],
         rf_test_failures);
  return rf_test_failures ? 1 : 0;
}
