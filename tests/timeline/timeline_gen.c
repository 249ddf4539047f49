/* SPDX-License-Identifier: BSD-3-Clause */
/* timeline_gen.c -- builds report spools and writes a timeline from them.
 *
 * The coordinator's call site is not needed to test the page: this program
 * writes the two spool files the way report.c does (yajl, null for unknown
 * times) and calls rf__timeline_write. timeline_check.py then opens the
 * pages in headless Chromium. Usage: timeline_gen MODE OUT.html, MODE:
 *   small   4 ranks: every attempt state, a retried task, overlapping
 *           attempts on one rank, an upstream-failed and a cancelled task
 *           without attempts, an error holding "</script><b>x" and UTF-8
 *   inline  1 rank: attempts on rank 0
 *   empty   no attempts, no tasks
 *   large   17 ranks, 100,000 attempts
 *   errors  the failures: bad spools, an unwritable path (no page, no
 *           temporary file, a previous page left whole)
 * Beside OUT.html it writes OUT.html.attempts.json and .tasks.json (the
 * spools) for the checker to compare with what the page embeds.
 */
#include "rank0/out/out.h"
#include "rf_test.h"

#include <dirent.h>
#include <stdlib.h>
#include <yajl/yajl_gen.h>

#define T0 1714557600.0 /* 2024-05-01 10:00:00 UTC */
static double run_end = T0 + 12.5;

/* The error text the page must carry unharmed. */
static const char *const NASTY =
    "boom </script><b>x</b> <!-- <script> \"quoted\" \\ na\xc3\xafve "
    "\xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xe2\x80\xa8 end";

typedef struct {
  FILE *f[2];
  yajl_gen g[2];
} spools;

static void to_file(void *ctx, const char *s, size_t len) {
  if (len > 0 && fwrite(s, 1, len, (FILE *)ctx) != len) {
    fprintf(stderr, "timeline_gen: writing a spool failed\n");
    exit(1);
  }
}

static void spools_open(spools *sp) {
  for (int i = 0; i < 2; i++) {
    sp->f[i] = tmpfile();
    if (sp->f[i] == NULL) {
      perror("tmpfile");
      exit(1);
    }
    sp->g[i] = yajl_gen_alloc(NULL);
    yajl_gen_config(sp->g[i], yajl_gen_print_callback, to_file, sp->f[i]);
    yajl_gen_array_open(sp->g[i]);
  }
}

static void spools_close(spools *sp) {
  for (int i = 0; i < 2; i++) {
    yajl_gen_array_close(sp->g[i]);
    yajl_gen_free(sp->g[i]);
  }
}

static void str(yajl_gen g, const char *s) {
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void num(yajl_gen g, const char *k, double v) {
  str(g, k);
  if (v == 0) yajl_gen_null(g);
  else yajl_gen_double(g, v);
}

static void attempt(spools *sp, const char *key, int n, int rank,
                    const char *state, int retried, double submitted,
                    double started, double ended, const char *error) {
  yajl_gen g = sp->g[0];
  yajl_gen_map_open(g);
  str(g, "task");
  str(g, key);
  str(g, "attempt");
  yajl_gen_integer(g, n);
  str(g, "rank");
  yajl_gen_integer(g, rank);
  str(g, "state");
  str(g, state);
  str(g, "retried");
  yajl_gen_bool(g, retried);
  num(g, "submitted", submitted);
  num(g, "started", started);
  num(g, "ended", ended);
  str(g, "error");
  if (error) str(g, error);
  else yajl_gen_null(g);
  yajl_gen_map_close(g);
}

static void task(spools *sp, const char *key, const char *name,
                 const char *state, int attempts, const char *error) {
  yajl_gen g = sp->g[1];
  yajl_gen_map_open(g);
  str(g, "key");
  str(g, key);
  str(g, "name");
  str(g, name);
  str(g, "state");
  str(g, state);
  str(g, "attempts");
  yajl_gen_integer(g, attempts);
  str(g, "from_journal");
  yajl_gen_bool(g, 0);
  str(g, "error");
  if (error) str(g, error);
  else yajl_gen_null(g);
  yajl_gen_map_close(g);
}

/* Copy a spool to path (for the checker). */
static void save(FILE *spool, const char *path) {
  char buf[65536];
  size_t n;
  FILE *out = fopen(path, "w");
  CHECK(out != NULL && fflush(spool) == 0 && fseek(spool, 0, SEEK_SET) == 0);
  if (out == NULL) return;
  while ((n = fread(buf, 1, sizeof buf, spool)) > 0) {
    CHECK(fwrite(buf, 1, n, out) == n);
  }
  CHECK(fclose(out) == 0);
}

/* Bytes of path, or NULL (caller frees). */
static char *slurp(const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  *len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)*len + 1);
  if (b && fread(b, 1, (size_t)*len, f) != (size_t)*len) {
    free(b);
    b = NULL;
  }
  if (b) b[*len] = '\0';
  fclose(f);
  return b;
}

/* No "<name>.tmp.*" is left in dir. */
static int no_temp_left(const char *dir, const char *name) {
  char prefix[512];
  snprintf(prefix, sizeof prefix, "%s.tmp.", name);
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  int clean = 1;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) clean = 0;
  }
  closedir(d);
  return clean;
}

static rf_status write_page(const char *out, spools *sp, int ranks,
                            uint64_t *totals, uint64_t submitted, int code) {
  char path[4200];
  spools_close(sp);
  snprintf(path, sizeof path, "%s.attempts.json", out);
  save(sp->f[0], path);
  snprintf(path, sizeof path, "%s.tasks.json", out);
  save(sp->f[1], path);
  rf_status st = rf__timeline_write(out, sp->f[0], sp->f[1], ranks, T0,
                                    run_end, totals, submitted, code);
  fclose(sp->f[0]);
  fclose(sp->f[1]);
  return st;
}

static void small(spools *sp, uint64_t *totals) {
  static const char *const states[] = {"completed", "failed", "crashed",
                                       "cancelled"};
  char key[80];
  /* Six plain tasks, two per worker. */
  for (int i = 0; i < 6; i++) {
    snprintf(key, sizeof key, "square-%016x", 0xa0 + i);
    double s = T0 + 0.2 + 1.5 * (i / 3);
    attempt(sp, key, 1, 1 + i % 3, "completed", 0, s - 0.1, s, s + 1.2, NULL);
    task(sp, key, "square", "completed", 1, NULL);
  }
  /* A task that failed once and then completed on another rank. */
  attempt(sp, "flaky-00000000000000f1", 1, 2, "failed", 1, T0 + 3.1, T0 + 3.2,
          T0 + 3.9, "transient: disk busy");
  attempt(sp, "flaky-00000000000000f1", 2, 3, "completed", 0, T0 + 4.0,
          T0 + 4.4, T0 + 6.0, NULL);
  task(sp, "flaky-00000000000000f1", "flaky", "completed", 2, NULL);
  /* A task that failed twice, the last time with the hostile message. */
  attempt(sp, "broken-00000000000000b0", 1, 1, "failed", 1, T0 + 3.0,
          T0 + 3.3, T0 + 4.1, "first try failed");
  attempt(sp, "broken-00000000000000b0", 2, 1, "failed", 0, T0 + 4.2,
          T0 + 4.5, T0 + 5.6, NASTY);
  task(sp, "broken-00000000000000b0", "broken", "failed", 2, NASTY);
  /* Two attempts overlapping on rank 2 (two I/O slots). */
  attempt(sp, "fetch-0000000000000c01", 1, 2, "completed", 0, T0 + 4.0,
          T0 + 4.1, T0 + 8.0, NULL);
  attempt(sp, "fetch-0000000000000c02", 1, 2, "completed", 0, T0 + 4.0,
          T0 + 4.6, T0 + 7.5, NULL);
  task(sp, "fetch-0000000000000c01", "fetch", "completed", 1, NULL);
  task(sp, "fetch-0000000000000c02", "fetch", "completed", 1, NULL);
  attempt(sp, "segv-00000000000000d1", 1, 3, "crashed", 0, T0 + 6.5, T0 + 6.6,
          T0 + 7.0, "rank 3 died (signal 11)");
  task(sp, "segv-00000000000000d1", "segv", "crashed", 1,
       "rank 3 died (signal 11)");
  attempt(sp, "slow-00000000000000e1", 1, 1, "cancelled", 0, T0 + 6.0,
          T0 + 6.2, T0 + 9.5, "cancelled while running");
  task(sp, "slow-00000000000000e1", "slow", "cancelled", 1,
       "cancelled while running");
  /* One short attempt of each state on rank 3, late in the run. */
  for (int i = 0; i < 4; i++) {
    snprintf(key, sizeof key, "tail-%016x", 0x10 + i);
    attempt(sp, key, 1, 3, states[i], 0, T0 + 9.0, T0 + 9.2 + 0.7 * i,
            T0 + 9.8 + 0.7 * i, i ? "tail error" : NULL);
    task(sp, key, "tail", states[i], 1, i ? "tail error" : NULL);
  }
  /* Tasks that never ran. */
  task(sp, "after-00000000000000a0", "after", "upstream-failed", 0,
       "upstream task broken-00000000000000b0 failed");
  task(sp, "dropped-00000000000000a1", "dropped", "cancelled", 0,
       "cancelled before running");
  totals[RF_STATE_COMPLETED] = 6 + 1 + 2 + 1;
  totals[RF_STATE_FAILED] = 1 + 1;
  totals[RF_STATE_CRASHED] = 1 + 1;
  totals[RF_STATE_CANCELLED] = 1 + 1 + 1;
  totals[RF_STATE_UPSTREAM_FAILED] = 1;
}

static void inline_run(spools *sp, uint64_t *totals) {
  attempt(sp, "one-0000000000000001", 1, 0, "completed", 0, T0 + 0.1, T0 + 0.2,
          T0 + 3.0, NULL);
  attempt(sp, "two-0000000000000002", 1, 0, "failed", 0, T0 + 0.1, T0 + 3.1,
          T0 + 5.0, "no luck");
  attempt(sp, "three-000000000000003", 1, 0, "completed", 0, T0 + 0.1,
          T0 + 5.1, T0 + 9.0, NULL);
  task(sp, "one-0000000000000001", "one", "completed", 1, NULL);
  task(sp, "two-0000000000000002", "two", "failed", 1, "no luck");
  task(sp, "three-000000000000003", "three", "completed", 1, NULL);
  totals[RF_STATE_COMPLETED] = 2;
  totals[RF_STATE_FAILED] = 1;
}

/* 100,000 attempts on 16 workers, back to back with small gaps; about 1%
 * fail (half of them retried), 0.2% crash, 0.3% are cancelled. */
static void large(spools *sp, uint64_t *totals) {
  const int workers = 16, n = 100000;
  double next[16];
  uint64_t rng = 42;
  char key[80], err[64];
  for (int w = 0; w < workers; w++) next[w] = T0 + 0.01 * w;
  int made = 0;
  for (int i = 0; made < n; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned r = (unsigned)(rng >> 33);
    int w = i % workers;
    double dur = 0.0005 + (r % 1000) * 0.0000038;
    const char *state = r % 1000 < 10 ? "failed" : r % 1000 < 12 ? "crashed"
                        : r % 1000 < 15 ? "cancelled" : "completed";
    snprintf(key, sizeof key, "work-%016x", i);
    snprintf(err, sizeof err, "%s in attempt of task %d", state, i);
    int retry = strcmp(state, "failed") == 0 && (r >> 12) % 2 && made + 1 < n;
    attempt(sp, key, 1, w + 1, state, retry, next[w] - 0.001, next[w],
            next[w] + dur, strcmp(state, "completed") ? err : NULL);
    next[w] += dur + 0.0001;
    made++;
    if (retry) {
      attempt(sp, key, 2, w + 1, "completed", 0, next[w] - 0.001, next[w],
              next[w] + dur, NULL);
      next[w] += dur + 0.0001;
      made++;
      state = "completed";
    }
    task(sp, key, "work", state, retry ? 2 : 1,
         strcmp(state, "completed") ? err : NULL);
    totals[strcmp(state, "completed") == 0 ? RF_STATE_COMPLETED
           : strcmp(state, "failed") == 0  ? RF_STATE_FAILED
           : strcmp(state, "crashed") == 0 ? RF_STATE_CRASHED
                                           : RF_STATE_CANCELLED]++;
  }
  for (int i = 0; i < 300; i++) {
    snprintf(key, sizeof key, "later-%016x", i);
    task(sp, key, "later", "upstream-failed", 0, "upstream task failed");
    totals[RF_STATE_UPSTREAM_FAILED]++;
  }
  for (int w = 0; w < workers; w++) {
    if (next[w] + 0.1 > run_end) run_end = next[w] + 0.1;
  }
}

/* A spool holding text. */
static FILE *spool_of(const char *text) {
  FILE *f = tmpfile();
  if (f == NULL || fputs(text, f) == EOF) {
    perror("tmpfile");
    exit(1);
  }
  return f;
}

static void errors(const char *out) {
  uint64_t totals[RF_STATE_COUNT] = {0};
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", out);
  char *slash = strrchr(dir, '/');
  const char *name = slash ? slash + 1 : out;
  if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  /* A good page first: the failures below must leave it whole. */
  FILE *a = spool_of("[]"), *t = spool_of("[]");
  CHECK_STATUS(rf__timeline_write(out, a, t, 2, T0, T0 + 1, totals, 0, 0),
               RF_OK);
  long len0 = 0;
  char *page0 = slurp(out, &len0);
  CHECK(page0 != NULL && len0 > 1000);
  fclose(a);
  fclose(t);
  static const char *const bad[] = {
      "",            /* nothing */
      "[{\"task\":", /* cut short */
      "{\"task\":1}", /* not an array */
      "[1,2]",       /* not objects */
      "[[{}]]",      /* nested arrays */
      "[{}] [{}]",   /* two documents */
      "[{\"e\":\"\xff\"}]", /* not UTF-8 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    for (int which = 0; which < 2; which++) {
      a = spool_of(which ? "[]" : bad[i]);
      t = spool_of(which ? bad[i] : "[]");
      rf_status st = rf__timeline_write(out, a, t, 2, T0, T0 + 1, totals, 0,
                                        0);
      if (st != RF_EINVAL) {
        fprintf(stderr, "bad spool %zu (%s): %s\n", i,
                which ? "tasks" : "attempts", rf_status_name(st));
      }
      CHECK_STATUS(st, RF_EINVAL);
      CHECK(strstr(rf_last_error(), which ? "tasks spool" : "attempts spool")
            != NULL);
      fclose(a);
      fclose(t);
    }
  }
  long len1 = 0;
  char *page1 = slurp(out, &len1);
  CHECK(page1 != NULL && len1 == len0 && memcmp(page0, page1, len0) == 0);
  CHECK(no_temp_left(dir, name));
  free(page0);
  free(page1);
  /* A directory that does not exist. */
  a = spool_of("[]");
  t = spool_of("[]");
  CHECK_STATUS(rf__timeline_write("/nonexistent-dir/t.html", a, t, 2, T0,
                                  T0 + 1, totals, 0, 0),
               RF_EIO);
  CHECK(strstr(rf_last_error(), "/nonexistent-dir/t.html.tmp.") != NULL);
  /* A target that is a directory: the rename fails, the temp goes. */
  CHECK_STATUS(rf__timeline_write(dir, a, t, 2, T0, T0 + 1, totals, 0, 0),
               RF_EIO);
  char parent[4210];
  snprintf(parent, sizeof parent, "%s/..", dir);
  const char *base = strrchr(dir, '/');
  CHECK(no_temp_left(parent, base ? base + 1 : dir));
  fclose(a);
  fclose(t);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: timeline_gen small|inline|empty|large|errors "
                    "OUT.html\n");
    return 2;
  }
  const char *mode = argv[1], *out = argv[2];
  if (strcmp(mode, "errors") == 0) {
    errors(out);
    printf("%s\n", rf_test_failures ? "FAIL" : "ok");
    return rf_test_failures ? 1 : 0;
  }
  spools sp;
  uint64_t totals[RF_STATE_COUNT] = {0};
  int ranks = 4;
  spools_open(&sp);
  if (strcmp(mode, "small") == 0) {
    small(&sp, totals);
  } else if (strcmp(mode, "inline") == 0) {
    inline_run(&sp, totals);
    ranks = 1;
  } else if (strcmp(mode, "large") == 0) {
    large(&sp, totals);
    ranks = 17;
  } else if (strcmp(mode, "empty") != 0) {
    fprintf(stderr, "timeline_gen: unknown mode '%s'\n", mode);
    return 2;
  }
  uint64_t submitted = 0;
  for (int s = 0; s < RF_STATE_COUNT; s++) submitted += totals[s];
  rf_status st = write_page(out, &sp, ranks, totals, submitted,
                            totals[RF_STATE_COMPLETED] == submitted ? 0 : 1);
  if (st != RF_OK) fprintf(stderr, "timeline_gen: %s\n", rf_last_error());
  CHECK_STATUS(st, RF_OK);
  long len = 0;
  char *html = slurp(out, &len);
  CHECK(html != NULL);
  if (html != NULL) {
    /* The hostile message must not appear raw: '<' is escaped. */
    CHECK(strstr(html, "<b>x") == NULL);
    CHECK(strstr(html, "</script><b>") == NULL);
    free(html);
  }
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", out);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  CHECK(no_temp_left(slash ? dir : ".", slash ? slash + 1 : out));
  printf("%s %ld bytes\n", rf_test_failures ? "FAIL" : "ok", len);
  return rf_test_failures ? 1 : 0;
}
