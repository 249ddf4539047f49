/* SPDX-License-Identifier: BSD-3-Clause */
/* plan.c -- the partitions of a synthetic timeseries, as pandas bounds them.
 *
 * dask.datasets.timeseries(start, end, freq, partition_freq) cuts its data
 * at pd.date_range(start, end, freq=partition_freq): partition i holds the
 * rows at freq in [bound i, bound i+1). A job that claims "the same data
 * model as dask" must reproduce those bounds exactly, including pandas'
 * weekly anchoring, so this file does the calendar arithmetic itself
 * (proleptic Gregorian, UTC, int64 nanoseconds since the Unix epoch; no
 * timegm, no locale) and parses only the forms the flags document.
 *
 * pandas 1.5 rules reproduced here (each checked against pandas 1.5.3 by
 * tests/unit/ts_plan_vs_pandas.sh):
 *   - s, min, h and d are fixed-length Ticks: the bounds are start + k*pf
 *     for every value <= end.
 *   - Nw is W-SUN: a date is "on offset" when it is a Sunday at any time of
 *     day. A start that is not a Sunday rolls forward to the next Sunday,
 *     keeping its time of day. Only when the start is already a Sunday, an
 *     end that is not a Sunday rolls back to the previous Sunday, keeping
 *     the end's time of day (pandas' generate_range has `elif` there). The
 *     bounds are then start + k*N weeks for every value <= end.
 * Every partition therefore has the same length, so the plan is a formula
 * (first bound, length, count), not an array of bounds.
 */
#include "timeseries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_SEC INT64_C(1000000000)
#define NS_PER_DAY (86400 * NS_PER_SEC)
#define YEAR_MIN 1678 /* whole years whose nanoseconds fit int64 */
#define YEAR_MAX 2261
#define MAX_PARTITIONS INT32_MAX

enum { PARAM_START, PARAM_END, PARAM_FREQ, PARAM_PFREQ, PARAM_COUNT_ };
const char *const ts_params[TS_PARAMS] = {
    "start", "end", "freq", "partition_freq"};

struct rf_timeseries {
  int64_t first;     /* bound 0, ns since the epoch */
  int64_t span;      /* length of every partition, ns */
  int64_t freq;      /* row spacing, ns */
  int64_t part_rows; /* span / freq */
  size_t nparts;
  uint64_t seed;
  const char *params[PARAM_COUNT_]; /* point into text */
  char text[];                      /* the four parameters, NUL-separated */
};

/* ---- calendar ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30,
                               31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil, with eras of 400 years). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;                                /* [0, 399] */
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;        /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

/* The inverse: y-m-d of a day count from 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Monday ... 6 = Sunday, as Python's weekday(). 1970-01-01: Thursday. */
static int weekday(int64_t ns) {
  int64_t days = floor_div(ns, NS_PER_DAY);
  return (int)(((days + 3) % 7 + 7) % 7);
}

/* "YYYY-MM-DD", with "THH:MM:SS" unless at midnight, into buf. */
static const char *format_ns(int64_t ns, char *buf, size_t len) {
  int64_t days = floor_div(ns, NS_PER_DAY);
  int64_t sec = (ns - days * NS_PER_DAY) / NS_PER_SEC;
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  if (sec == 0) {
    snprintf(buf, len, "%04lld-%02d-%02d", (long long)y, m, d);
  } else {
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
  }
  return buf;
}

/* ---- parsing ------------------------------------------------------------- */

/* Exactly n decimal digits at *p (advanced past them); -1 if not. */
static int64_t take_digits(const char **p, int n) {
  int64_t v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  return v;
}

/* One separator, then exactly two digits; -1 if the text differs. */
static int take_field(const char **p, char sep) {
  if (**p != sep) return -1;
  (*p)++;
  return (int)take_digits(p, 2);
}

#define DATE_FORMS "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"

/* A date in one of DATE_FORMS (fields left out are the first month, day,
 * midnight), validated, as ns since the epoch. */
static rf_status parse_date(const char *flag, const char *text,
                            int64_t *out) {
  const char *p = text;
  int64_t y = take_digits(&p, 4);
  int mo = 1, d = 1, h = 0, mi = 0, s = 0;
  if (y >= 0 && *p == '-') mo = take_field(&p, '-');
  if (y >= 0 && mo >= 0 && *p == '-') d = take_field(&p, '-');
  if (y >= 0 && mo >= 0 && d >= 0 && p - text == 10 && *p == 'T') {
    h = take_field(&p, 'T');
    if (h >= 0) mi = take_field(&p, ':');
    if (h >= 0 && mi >= 0) s = take_field(&p, ':');
  }
  RF_ENSURE(y >= 0 && mo >= 0 && d >= 0 && h >= 0 && mi >= 0 && s >= 0 &&
                *p == '\0',
            RF_EUSAGE, "%s: '%s' is not a date (" DATE_FORMS ")", flag, text);
  RF_ENSURE(y >= YEAR_MIN && y <= YEAR_MAX, RF_EUSAGE,
            "%s: '%s' is out of range (years %d to %d, as pandas' "
            "nanosecond timestamps)",
            flag, text, YEAR_MIN, YEAR_MAX);
  RF_ENSURE(mo >= 1 && mo <= 12, RF_EUSAGE,
            "%s: '%s' is not a date (month %d is not 1 to 12)", flag, text,
            mo);
  RF_ENSURE(d >= 1 && d <= days_in_month(y, mo), RF_EUSAGE,
            "%s: '%s' is not a date (%04d-%02d has %d days)", flag, text,
            (int)y, mo, days_in_month(y, mo));
  RF_ENSURE(h < 24 && mi < 60 && s < 60, RF_EUSAGE,
            "%s: '%s' is not a date (time of day past 23:59:59)", flag, text);
  int64_t days = days_from_civil(y, mo, d);
  *out = days * NS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + s) * NS_PER_SEC;
  return RF_OK;
}

typedef struct {
  int64_t ns;  /* length of one step */
  int weekly;  /* anchored on Sunday (pandas' W-SUN) */
} rf_freq;

static const struct {
  const char *name;
  int64_t ns;
} units[] = {{"s", NS_PER_SEC},
             {"min", 60 * NS_PER_SEC},
             {"h", 3600 * NS_PER_SEC},
             {"d", NS_PER_DAY},
             {"w", 7 * NS_PER_DAY}};

/* "[count]unit": count a positive decimal (1 when left out), unit one of
 * units[] (case-sensitive, pandas' aliases). */
static rf_status parse_freq(const char *flag, const char *text,
                            rf_freq *out) {
  const char *p = text;
  int64_t count = 0;
  RF_ENSURE(*p != '+' && *p != '-', RF_EUSAGE,
            "%s: '%s' must not have a sign (a positive count with s, min, "
            "h, d or w)",
            flag, text);
  while (*p >= '0' && *p <= '9') {
    RF_ENSURE(count <= (INT64_MAX - 9) / 10, RF_EUSAGE,
              "%s: the count in '%s' is too large", flag, text);
    count = count * 10 + (*p++ - '0');
  }
  if (p == text) count = 1; /* "s" means "1s", as in pandas */
  RF_ENSURE(count > 0, RF_EUSAGE, "%s: the count must be positive in '%s'",
            flag, text);
  RF_ENSURE(*p != '\0', RF_EUSAGE,
            "%s: '%s' has no unit (s, min, h, d or w)", flag, text);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(p, units[i].name) != 0) continue;
    RF_ENSURE(count <= INT64_MAX / units[i].ns, RF_EUSAGE,
              "%s: '%s' is too long (more than 2^63 nanoseconds)", flag,
              text);
    out->ns = count * units[i].ns;
    out->weekly = units[i].ns == 7 * NS_PER_DAY;
    return RF_OK;
  }
  return rf_error_set(RF_EUSAGE, "%s: unknown unit '%s' in '%s' (s, min, h, d "
                   "or w)", flag, p, text);
}

/* ---- bounds -------------------------------------------------------------- */

/* pd.date_range(start, end, freq=pf) as its first value and its length
 * (every step is pf->ns long). Differences go through uint64: the whole
 * range may be longer than INT64_MAX nanoseconds. */
static uint64_t date_range(int64_t start, int64_t end, const rf_freq *pf,
                           int64_t *first) {
  if (pf->weekly) {
    int ws = weekday(start), we = weekday(end);
    if (ws != 6) {
      start += (6 - ws) * NS_PER_DAY;          /* roll forward */
    } else if (we != 6) {
      end -= (int64_t)(we + 1) * NS_PER_DAY;   /* roll back */
    }
  }
  *first = start;
  if (end < start) return 0;
  return ((uint64_t)end - (uint64_t)start) / (uint64_t)pf->ns + 1;
}

/* ---- the plan ------------------------------------------------------------ */

/* Check the parameters and fill ts's numbers. */
static rf_status plan(rf_timeseries *ts, const char *const text[]) {
  int64_t start, end;
  rf_freq freq, pf;
  char a[64], b[64];
  RF_CHECK(parse_date("--start", text[PARAM_START], &start));
  RF_CHECK(parse_date("--end", text[PARAM_END], &end));
  RF_CHECK(parse_freq("--freq", text[PARAM_FREQ], &freq));
  RF_CHECK(parse_freq("--partition-freq", text[PARAM_PFREQ], &pf));
  RF_ENSURE(end > start, RF_EUSAGE, "--end %s is not after --start %s",
            text[PARAM_END], text[PARAM_START]);
  RF_ENSURE(pf.ns % freq.ns == 0, RF_EUSAGE,
            "--partition-freq %s is not a multiple of --freq %s",
            text[PARAM_PFREQ], text[PARAM_FREQ]);
  uint64_t nbounds = date_range(start, end, &pf, &ts->first);
  RF_ENSURE(nbounds >= 2, RF_EUSAGE,
            "the range %s to %s holds no whole %s partition (pandas gives "
            "%d boundar%s)",
            format_ns(start, a, sizeof a), format_ns(end, b, sizeof b),
            text[PARAM_PFREQ], (int)nbounds, nbounds == 1 ? "y" : "ies");
  RF_ENSURE(nbounds - 1 <= MAX_PARTITIONS, RF_EUSAGE,
            "--partition-freq %s cuts %s to %s into %llu partitions (at "
            "most %d)",
            text[PARAM_PFREQ], text[PARAM_START], text[PARAM_END],
            (unsigned long long)(nbounds - 1), MAX_PARTITIONS);
  ts->nparts = (size_t)(nbounds - 1);
  ts->span = pf.ns;
  ts->freq = freq.ns;
  ts->part_rows = pf.ns / freq.ns;
  /* Cannot trip while freq >= 1 s and the range is under 600 years, but
   * the plan's promise (rows fit int64) should not rest on that. */
  RF_ENSURE(ts->part_rows <= INT64_MAX / (int64_t)ts->nparts, RF_EUSAGE,
            "%s to %s at --freq %s has more than 2^63 rows", text[PARAM_START],
            text[PARAM_END], text[PARAM_FREQ]);
  return RF_OK;
}

rf_status rf_timeseries_plan(const char *start, const char *end,
                             const char *freq, const char *partition_freq,
                             uint64_t seed, rf_timeseries **out) {
  static const char *const flags[PARAM_COUNT_] = {
      "--start", "--end", "--freq", "--partition-freq"};
  const char *text[PARAM_COUNT_] = {start, end, freq, partition_freq};
  size_t len[PARAM_COUNT_], total = 0;
  RF_ENSURE(out != NULL, RF_EINVAL, "rf_timeseries_plan: out is NULL");
  *out = NULL;
  for (int i = 0; i < PARAM_COUNT_; i++) {
    RF_ENSURE(text[i] != NULL, RF_EUSAGE, "%s is missing", flags[i]);
    len[i] = strlen(text[i]) + 1;
    total += len[i];
  }
  rf_timeseries *ts = rf_calloc(1, sizeof *ts + total);
  if (ts == NULL) return rf_error_set(RF_ENOMEM, "planning a timeseries");
  char *p = ts->text;
  for (int i = 0; i < PARAM_COUNT_; i++) {
    memcpy(p, text[i], len[i]);
    ts->params[i] = p;
    p += len[i];
  }
  ts->seed = seed;
  rf_status st = plan(ts, ts->params);
  if (st != RF_OK) {
    rf_free(ts);
    return st;
  }
  *out = ts;
  return RF_OK;
}

void rf_timeseries_free(rf_timeseries *ts) { rf_free(ts); }

size_t rf_timeseries_partitions(const rf_timeseries *ts) {
  return ts->nparts;
}

int64_t rf_timeseries_rows(const rf_timeseries *ts) {
  return ts->part_rows * (int64_t)ts->nparts;
}

/* INT64_MIN (pandas' NaT) for a partition past the end. */
int64_t rf_timeseries_partition_start(const rf_timeseries *ts,
                                      size_t partition) {
  if (partition >= ts->nparts) return INT64_MIN;
  /* first + i*span <= end fits int64, but i*span alone may not. */
  return (int64_t)((uint64_t)ts->first +
                   (uint64_t)partition * (uint64_t)ts->span);
}

/* -1 for a partition past the end. */
int64_t rf_timeseries_partition_rows(const rf_timeseries *ts,
                                     size_t partition) {
  return partition < ts->nparts ? ts->part_rows : -1;
}

int64_t rf_timeseries_freq_ns(const rf_timeseries *ts) { return ts->freq; }

uint64_t rf_timeseries_seed(const rf_timeseries *ts) { return ts->seed; }

const char *rf_timeseries_param(const rf_timeseries *ts, const char *name) {
  for (int i = 0; name != NULL && i < PARAM_COUNT_; i++) {
    if (strcmp(name, ts_params[i]) == 0) return ts->params[i];
  }
  return NULL;
}
