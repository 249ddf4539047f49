/* SPDX-License-Identifier: BSD-3-Clause */
/* report.c -- the JSON run report (--report FILE), written as the run goes.
 * Its spools also feed the HTML timeline (--timeline, timeline.c).
 *
 * One document: the run's facts (version, command line, ranks, times, exit
 * code, totals per state, tasks/s), then every attempt (rank, state,
 * submitted/started/ended, error) and every task (key, name, final state,
 * attempts, error). Attempts and tasks are streamed by yajl (Debian's JSON
 * generator) into two spool files as they end, so a million attempts never
 * sit in rank 0's memory; at the end the document is assembled under a
 * temporary name beside the target, fsynced and renamed, on a normal end,
 * a drain and a stop alike. Strings are made valid UTF-8 first (a task's
 * message may hold any bytes).
 */
#include "out.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

struct rf_report {
  char *path;       /* JSON report, or NULL */
  char *timeline;   /* HTML timeline, or NULL */
  FILE *spool[2];   /* attempts, tasks: JSON arrays */
  yajl_gen gen[2];
  double t0;
  int failed;       /* a write failed: the report is given up, said once */
};

static void to_file(void *ctx, const char *s, size_t len) {
  FILE *f = ctx;
  if (len > 0 && fwrite(s, 1, len, f) != len) {
    /* ferror() is checked when the report is finished. */
  }
}

static yajl_gen gen_for(FILE *f) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (g != NULL) yajl_gen_config(g, yajl_gen_print_callback, to_file, f);
  return g;
}

/* Valid UTF-8 of s into buf: anything that is not a well-formed sequence
 * (stray or truncated bytes, overlong forms, surrogates, past U+10FFFF)
 * becomes '?', byte by byte. */
static size_t utf8_clean(const char *s, char *buf, size_t len) {
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p && o + 4 < len) {
    int n = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2
            : (*p & 0xf0) == 0xe0 ? 3 : *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
    int ok = n > 0;
    uint32_t cp = n == 1 ? *p : n == 2 ? (*p & 0x1fu) : n == 3 ? (*p & 0x0fu)
                                                                : (*p & 0x07u);
    for (int k = 1; ok && k < n; k++) {
      ok = (p[k] & 0xc0) == 0x80;
      cp = (cp << 6) | (p[k] & 0x3fu);
    }
    if (ok && n == 3) ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
    if (ok && n == 4) ok = cp >= 0x10000 && cp <= 0x10ffff;
    if (!ok) {
      buf[o++] = '?';
      p++;
      continue;
    }
    memcpy(buf + o, p, (size_t)n);
    o += (size_t)n;
    p += n;
  }
  buf[o] = '\0';
  return o;
}

static void put_str(yajl_gen g, const char *s) {
  char clean[2048];
  size_t n = utf8_clean(s ? s : "", clean, sizeof clean);
  yajl_gen_string(g, (const unsigned char *)clean, n);
}

static void put_key(yajl_gen g, const char *k) {
  yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static void put_num(yajl_gen g, const char *k, double v) {
  put_key(g, k);
  if (v == 0) yajl_gen_null(g);
  else yajl_gen_double(g, v);
}

rf_status rf__report_open(const char *path, const char *timeline,
                          rf_report **out) {
  *out = NULL;
  rf_report *r = rf__calloc(1, sizeof *r);
  if (r == NULL) return rf__error(RF_ENOMEM, "report");
  r->path = path ? rf__strdup(path) : NULL;
  r->timeline = timeline ? rf__strdup(timeline) : NULL;
  r->t0 = rf__now();
  for (int i = 0; i < 2; i++) {
    r->spool[i] = tmpfile();
    r->gen[i] = r->spool[i] ? gen_for(r->spool[i]) : NULL;
    if (r->gen[i] != NULL) yajl_gen_array_open(r->gen[i]);
  }
  if ((path != NULL && r->path == NULL) ||
      (timeline != NULL && r->timeline == NULL) || r->gen[0] == NULL ||
      r->gen[1] == NULL) {
    rf__report_free(r);
    return rf__error(RF_EIO, "--report: cannot make its spool files: %s",
                     strerror(errno));
  }
  *out = r;
  return RF_OK;
}

void rf__report_free(rf_report *r) {
  if (r == NULL) return;
  for (int i = 0; i < 2; i++) {
    if (r->gen[i]) yajl_gen_free(r->gen[i]);
    if (r->spool[i]) fclose(r->spool[i]);
  }
  rf__free(r->path);
  rf__free(r->timeline);
  rf__free(r);
}

void rf__report_attempt(rf_report *r, const char *key, int attempt, int rank,
                        const char *state, int retry, double submitted,
                        double started, double ended, const char *error) {
  if (r == NULL) return;
  yajl_gen g = r->gen[0];
  yajl_gen_map_open(g);
  put_key(g, "task");
  put_str(g, key);
  put_key(g, "attempt");
  yajl_gen_integer(g, attempt);
  put_key(g, "rank");
  yajl_gen_integer(g, rank);
  put_key(g, "state");
  put_str(g, state);
  put_key(g, "retried");
  yajl_gen_bool(g, retry);
  put_num(g, "submitted", submitted);
  put_num(g, "started", started);
  put_num(g, "ended", ended);
  put_key(g, "error");
  if (error != NULL && error[0] != '\0') put_str(g, error);
  else yajl_gen_null(g);
  yajl_gen_map_close(g);
}

void rf__report_task(rf_report *r, const char *key, const char *name,
                     const char *state, int attempts, int from_journal,
                     const char *error) {
  if (r == NULL) return;
  yajl_gen g = r->gen[1];
  yajl_gen_map_open(g);
  put_key(g, "key");
  put_str(g, key);
  put_key(g, "name");
  put_str(g, name);
  put_key(g, "state");
  put_str(g, state);
  put_key(g, "attempts");
  yajl_gen_integer(g, attempts);
  put_key(g, "from_journal");
  yajl_gen_bool(g, from_journal);
  put_key(g, "error");
  if (error != NULL && error[0] != '\0') put_str(g, error);
  else yajl_gen_null(g);
  yajl_gen_map_close(g);
}

/* Copy a finished spool into out after the generator's ':' separator. */
static int splice(FILE *spool, FILE *out) {
  char buf[65536];
  size_t n;
  if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0) return -1;
  while ((n = fread(buf, 1, sizeof buf, spool)) > 0) {
    if (fwrite(buf, 1, n, out) != n) return -1;
  }
  return ferror(spool) ? -1 : 0;
}

static rf_status write_json(rf_report *r, int argc, char **argv, int ranks,
                            const uint64_t totals[RF_STATE_COUNT],
                            uint64_t submitted, uint64_t not_ended,
                            int exit_code, double end) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", r->path, (long)getpid());
  FILE *out = fopen(tmp, "w");
  if (out == NULL) {
    return rf__error(RF_EIO, "--report: cannot create %s: %s", tmp,
                     strerror(errno));
  }
  double elapsed = end - r->t0;
  uint64_t done = 0;
  for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) done += totals[s];
  yajl_gen g = gen_for(out);
  int bad = g == NULL;
  if (!bad) {
    yajl_gen_map_open(g);
    put_key(g, "rankflow_version");
    put_str(g, RF_VERSION_STRING);
    put_key(g, "command_line");
    yajl_gen_array_open(g);
    for (int i = 0; i < argc; i++) put_str(g, argv[i]);
    yajl_gen_array_close(g);
    put_key(g, "ranks");
    yajl_gen_integer(g, ranks);
    put_num(g, "start", r->t0);
    put_num(g, "end", end);
    put_key(g, "exit_code");
    yajl_gen_integer(g, exit_code);
    put_key(g, "submitted");
    yajl_gen_integer(g, (long long)submitted);
    put_key(g, "totals");
    yajl_gen_map_open(g);
    for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) {
      put_key(g, rf_state_name((rf_state)s));
      yajl_gen_integer(g, (long long)totals[s]);
    }
    put_key(g, "not_ended");
    yajl_gen_integer(g, (long long)not_ended);
    yajl_gen_map_close(g);
    put_key(g, "tasks_per_s");
    yajl_gen_double(g, elapsed > 0 ? (double)done / elapsed : 0);
    /* The spooled arrays go in verbatim: an empty number makes yajl write
     * the key's separator and expect the next key. */
    put_key(g, "attempts");
    yajl_gen_number(g, "", 0);
    bad |= splice(r->spool[0], out);
    put_key(g, "tasks");
    yajl_gen_number(g, "", 0);
    bad |= splice(r->spool[1], out);
    yajl_gen_map_close(g);
    yajl_gen_free(g);
  }
  bad |= fputc('\n', out) == EOF;
  bad |= fflush(out) != 0 || fsync(fileno(out)) != 0;
  bad |= fclose(out) != 0;
  if (bad || rename(tmp, r->path) != 0) {
    int e = errno;
    (void)remove(tmp);
    return rf__error(RF_EIO, "--report: writing %s: %s", r->path, strerror(e));
  }
  return RF_OK;
}

rf_status rf__report_finish(rf_report *r, int argc, char **argv, int ranks,
                            const uint64_t totals[RF_STATE_COUNT],
                            uint64_t submitted, uint64_t not_ended,
                            int exit_code) {
  double end = rf__now();
  for (int i = 0; i < 2; i++) {
    yajl_gen_array_close(r->gen[i]);
    if (fflush(r->spool[i]) != 0) {
      return rf__error(RF_EIO, "--report: spool: %s", strerror(errno));
    }
  }
  rf_status st = RF_OK;
  if (r->path != NULL) {
    st = write_json(r, argc, argv, ranks, totals, submitted, not_ended,
                    exit_code, end);
  }
  if (r->timeline != NULL) {
    rf_status ts = rf__timeline_write(r->timeline, r->spool[0], r->spool[1],
                                      ranks, r->t0, end, totals, submitted,
                                      exit_code);
    if (st == RF_OK) st = ts;
  }
  return st;
}
