/* SPDX-License-Identifier: BSD-3-Clause */
/* nino34_plumes.c -- a year of NOAA NMME Niño 3.4 plume images, fetched
 * by a flow of I/O tasks.
 *
 * The origin story's first example: twelve monthly PNGs, 15.2 s one after
 * another in Python. Here each month is an I/O task (libcurl), so a rank
 * runs up to --io-slots of them at once and the year arrives in about one
 * round trip. Retries are the library's (transient: 5xx, 429, connection
 * errors, timeouts, truncated bodies; permanent: other 4xx, not a PNG),
 * so the attempts in the table and the report are true. A file appears
 * only whole and valid: the body goes to a temporary file in the target
 * directory, is checked (PNG signature first, IEND chunk last), synced,
 * and renamed. A month whose valid file exists is skipped unless --force.
 *   mpirun -np 3 build/jobs/nino34_plumes --year 2022 --dir data
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "rankflow.h"

#define MAX_BYTES (64L << 20) /* a plume image is ~30 KB; refuse a flood */
#define MAX_REDIRECTS 5L

typedef struct {
  int64_t year;
  const char *months_text, *dir, *base_url;
  int64_t retries;
  double http_timeout, connect_timeout;
  int force;
  int months[12], nmonths; /* parsed from months_text, ascending */
} config;

static double now(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + tv.tv_usec * 1e-6;
}

/* ---- the command line --------------------------------------------------- */

/* "1-12", "3", "1,4-6,12": months 1..12, each at most once. */
static int parse_months(const char *text, int out[12], int *n, char *err,
                        size_t errlen) {
  int seen[13] = {0};
  const char *p = text;
  *n = 0;
  for (;;) {
    char *end;
    long a = strtol(p, &end, 10), b;
    if (end == p) goto bad;
    b = a;
    if (*end == '-') {
      const char *q = end + 1;
      b = strtol(q, &end, 10);
      if (end == q) goto bad;
    }
    if (a < 1 || b > 12 || a > b) {
      snprintf(err, errlen, "--months: '%s': months are 1..12, ranges "
               "ascending", text);
      return -1;
    }
    for (long m = a; m <= b; m++) seen[m] = 1;
    if (*end == '\0') break;
    if (*end != ',') goto bad;
    p = end + 1;
  }
  for (int m = 1; m <= 12; m++) {
    if (seen[m]) out[(*n)++] = m;
  }
  return 0;
bad:
  snprintf(err, errlen, "--months: '%s' is not a list like 1-12 or 1,3,5-7",
           text);
  return -1;
}

/* The directory exists and is writable, or its nearest existing parent
 * is (it is created in the flow). */
static int dir_usable(const char *dir, char *err, size_t errlen) {
  char path[4096];
  struct stat sb;
  snprintf(path, sizeof path, "%s", dir);
  for (;;) {
    if (stat(path, &sb) == 0) {
      if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "--dir: '%s' is not a directory", path);
        return -1;
      }
      if (access(path, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "--dir: cannot write in '%s': %s", path,
                 strerror(errno));
        return -1;
      }
      return 0;
    }
    char *slash = strrchr(path, '/');
    while (slash != NULL && slash > path && slash[1] == '\0') {
      *slash = '\0'; /* trailing slashes */
      slash = strrchr(path, '/');
    }
    if (slash == NULL) snprintf(path, sizeof path, ".");
    else if (slash == path) path[1] = '\0';
    else *slash = '\0';
  }
}

static rf_status check(void *user, char *err, size_t errlen) {
  config *cfg = user;
  if (parse_months(cfg->months_text, cfg->months, &cfg->nmonths, err,
                   errlen) != 0) {
    return RF_EUSAGE;
  }
  const char *u = cfg->base_url;
  if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
    snprintf(err, errlen, "--base-url: '%s' is not an http:// or https:// URL",
             u);
    return RF_EUSAGE;
  }
  if (strlen(u) > 2000 || strpbrk(u, " \t\r\n\"<>\\^`{|}") != NULL) {
    snprintf(err, errlen, "--base-url: '%s' is not a valid URL", u);
    return RF_EUSAGE;
  }
  if (dir_usable(cfg->dir, err, errlen) != 0) return RF_EUSAGE;
  return RF_OK;
}

/* ---- PNG checks ---------------------------------------------------------- */

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a,
                                         0x1a, 0x0a};
/* An empty IEND chunk: length 0, type, CRC. */
static const unsigned char png_iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D',
                                           0xae, 0x42, 0x60, 0x82};

typedef enum { PNG_OK, PNG_NOT_PNG, PNG_TRUNCATED, PNG_UNREADABLE } png_check;

/* Looks at the first and last bytes of the open file fd. */
static png_check png_fd_check(int fd, off_t *size) {
  unsigned char head[8], tail[12];
  struct stat sb;
  if (fstat(fd, &sb) != 0) return PNG_UNREADABLE;
  *size = sb.st_size;
  if (sb.st_size < (off_t)(sizeof head + sizeof tail)) {
    if (sb.st_size >= (off_t)sizeof head &&
        pread(fd, head, sizeof head, 0) == (ssize_t)sizeof head &&
        memcmp(head, png_sig, sizeof head) == 0) {
      return PNG_TRUNCATED;
    }
    return PNG_NOT_PNG;
  }
  if (pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
      pread(fd, tail, sizeof tail, sb.st_size - (off_t)sizeof tail) !=
          (ssize_t)sizeof tail) {
    return PNG_UNREADABLE;
  }
  if (memcmp(head, png_sig, sizeof head) != 0) return PNG_NOT_PNG;
  if (memcmp(tail, png_iend, sizeof tail) != 0) return PNG_TRUNCATED;
  return PNG_OK;
}

static int png_file_ok(const char *path, off_t *size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  png_check c = png_fd_check(fd, size);
  close(fd);
  return c == PNG_OK;
}

/* ---- the task: one month ------------------------------------------------ */

typedef struct {
  int fd;
  curl_off_t bytes;
  int write_errno;
} transfer;

static size_t on_body(char *data, size_t size, size_t n, void *user) {
  transfer *t = user;
  size_t len = size * n, done = 0;
  if (t->bytes + (curl_off_t)len > MAX_BYTES) return 0; /* a flood */
  while (done < len) {
    ssize_t w = write(t->fd, data + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      t->write_errno = w < 0 ? errno : EIO;
      return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    done += (size_t)w;
  }
  t->bytes += (curl_off_t)len;
  return len;
}

/* Failures a later attempt may not see again. */
static int transient_curl(CURLcode rc) {
  static const CURLcode transient[] = {
      CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY,
      CURLE_COULDNT_CONNECT,      CURLE_OPERATION_TIMEDOUT,
      CURLE_PARTIAL_FILE,         CURLE_RECV_ERROR,
      CURLE_SEND_ERROR,           CURLE_GOT_NOTHING,
      CURLE_SSL_CONNECT_ERROR,    CURLE_HTTP2,
      CURLE_HTTP2_STREAM};
  for (size_t i = 0; i < sizeof transient / sizeof *transient; i++) {
    if (rc == transient[i]) return 1;
  }
  return 0;
}

/* curl_easy_perform() looks at its progress callback only about once a
 * second while a server is silent; a multi handle of our own, polled in
 * CANCEL_POLL_MS steps, lets a cancel or a stop end the transfer within
 * the library's stop budget. */
#define CANCEL_POLL_MS 50
static CURLcode perform(rf_ctx *ctx, CURL *h, int *cancelled) {
  CURLM *m = curl_multi_init();
  if (m == NULL) return CURLE_OUT_OF_MEMORY;
  CURLcode rc = CURLE_OK;
  CURLMcode mc = curl_multi_add_handle(m, h);
  int running = 1;
  while (mc == CURLM_OK && running) {
    mc = curl_multi_perform(m, &running);
    if (mc != CURLM_OK || !running) break;
    if (rf_ctx_cancelled(ctx)) {
      *cancelled = 1;
      break;
    }
    mc = curl_multi_poll(m, NULL, 0, CANCEL_POLL_MS, NULL);
  }
  if (mc != CURLM_OK) {
    rc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
  } else if (!*cancelled) {
    int left;
    CURLMsg *msg;
    rc = CURLE_GOT_NOTHING; /* unless curl reports how it ended */
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
        rc = msg->data.result;
      }
    }
  }
  (void)curl_multi_remove_handle(m, h);
  (void)curl_multi_cleanup(m);
  return rc;
}

typedef struct {
  const char *url, *path;
  int force;
} month_arg;

static rf_status read_arg(rf_ctx *ctx, month_arg *a) {
  const rf_value *arg = rf_ctx_arg(ctx), *force;
  int64_t f = 0;
  if (rf_value_get_string(rf_value_lookup(arg, "url"), &a->url, NULL) !=
          RF_OK ||
      rf_value_get_string(rf_value_lookup(arg, "path"), &a->path, NULL) !=
          RF_OK ||
      (force = rf_value_lookup(arg, "force")) == NULL ||
      rf_value_get_int(force, &f) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "malformed task argument");
  }
  a->force = f != 0;
  return RF_OK;
}

/* Run the transfer into fd; on failure, fail the attempt (RF_ETASK). */
static rf_status fetch(rf_ctx *ctx, const month_arg *a, transfer *t,
                       double http_timeout, double connect_timeout) {
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *h = curl_easy_init();
  if (h == NULL) {
    return rf_ctx_fail(ctx, RF_FAIL_TRANSIENT, "curl_easy_init failed");
  }
  CURLcode rc = CURLE_OK;
#define SET(opt, val) \
  if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val)
  SET(CURLOPT_URL, a->url);
  SET(CURLOPT_ERRORBUFFER, errbuf);
  SET(CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_FOLLOWLOCATION, 1L);
  SET(CURLOPT_MAXREDIRS, MAX_REDIRECTS);
  SET(CURLOPT_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_SSL_VERIFYHOST, 2L);
  SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout * 1000));
  SET(CURLOPT_TIMEOUT_MS, (long)(http_timeout * 1000));
  SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BYTES);
  SET(CURLOPT_USERAGENT, "rankflow-nino34/" RF_VERSION_STRING);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, t);
#undef SET
  if (rc != CURLE_OK) {
    curl_easy_cleanup(h);
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "setting up curl: %s",
                       curl_easy_strerror(rc));
  }
  int cancelled = 0;
  rc = perform(ctx, h, &cancelled);
  long code = 0;
  if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) {
    code = 0;
  }
  curl_easy_cleanup(h);
  const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  if (cancelled) return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "cancelled");
  if (rc == CURLE_WRITE_ERROR && t->write_errno != 0) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "writing in the directory: %s",
                       strerror(t->write_errno));
  }
  if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT,
                       "body over %ld MiB from %s", MAX_BYTES >> 20, a->url);
  }
  if (rc != CURLE_OK) {
    return rf_ctx_fail(ctx,
                       transient_curl(rc) ? RF_FAIL_TRANSIENT
                                          : RF_FAIL_PERMANENT,
                       "%s for %s", why, a->url);
  }
  if (code == 429 || code >= 500) {
    return rf_ctx_fail(ctx, RF_FAIL_TRANSIENT, "HTTP %ld for %s", code,
                       a->url);
  }
  if (code != 200) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "HTTP %ld for %s", code,
                       a->url);
  }
  return RF_OK;
}

/* The job's settings that tasks need; the same on every rank. */
static config *settings;

static rf_value *month_result(const char *path, off_t bytes, double seconds,
                              int skipped) {
  rf_value *r = rf_value_map();
  if (r == NULL ||
      rf_value_map_set(r, "path", rf_value_string(path)) != RF_OK ||
      rf_value_map_set(r, "bytes", rf_value_int((int64_t)bytes)) != RF_OK ||
      rf_value_map_set(r, "seconds", rf_value_double(seconds)) != RF_OK ||
      rf_value_map_set(r, "skipped", rf_value_bool(skipped)) != RF_OK) {
    rf_value_free(r);
    return NULL;
  }
  return r;
}

static rf_status download(rf_ctx *ctx) {
  month_arg a;
  off_t size = 0;
  if (read_arg(ctx, &a) != RF_OK) return RF_ETASK;
  if (!a.force && png_file_ok(a.path, &size)) {
    rf_ctx_return(ctx, month_result(a.path, size, 0, 1));
    return RF_OK;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.part.XXXXXX", a.path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "cannot create a file beside "
                       "%s: %s", a.path, strerror(errno));
  }
  (void)fchmod(fd, 0644); /* mkstemp makes 0600; images are for everyone */
  transfer t = {fd, 0, 0};
  double t0 = now();
  rf_status st = fetch(ctx, &a, &t, settings->http_timeout,
                       settings->connect_timeout);
  double seconds = now() - t0;
  if (st == RF_OK) {
    switch (png_fd_check(fd, &size)) {
      case PNG_OK:
        break;
      case PNG_NOT_PNG:
        st = rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "not a PNG: %s", a.url);
        break;
      case PNG_TRUNCATED:
        st = rf_ctx_fail(ctx, RF_FAIL_TRANSIENT,
                         "truncated PNG (no IEND chunk at the end): %s",
                         a.url);
        break;
      case PNG_UNREADABLE:
        st = rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "reading back %s: %s", tmp,
                         strerror(errno));
        break;
    }
  }
  if (st == RF_OK && fsync(fd) != 0) {
    st = rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "syncing %s: %s", tmp,
                     strerror(errno));
  }
  if (close(fd) != 0 && st == RF_OK) {
    st = rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "closing %s: %s", tmp,
                     strerror(errno));
  }
  if (st == RF_OK && rename(tmp, a.path) != 0) {
    st = rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "renaming %s to %s: %s", tmp,
                     a.path, strerror(errno));
  }
  if (st != RF_OK) {
    (void)unlink(tmp); /* never a broken file, never a stray one */
    return st;
  }
  rf_ctx_return(ctx, month_result(a.path, size, seconds, 0));
  return RF_OK;
}

/* ---- the flow ----------------------------------------------------------- */

static rf_task *download_task;

static rf_status make_dir(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      rf_log(RF_LOG_ERROR, "--dir: cannot create '%s': %s", path,
             strerror(errno));
      return RF_EUSAGE;
    }
    *p = c;
    if (c == '\0') return RF_OK;
  }
}

static rf_value *month_arg_value(const config *cfg, int month) {
  char url[2200], path[4200];
  size_t blen = strlen(cfg->base_url);
  while (blen > 0 && cfg->base_url[blen - 1] == '/') blen--;
  snprintf(url, sizeof url,
           "%.*s/%04d%02d0800/current/images/nino34.rescaling.ENSMEAN.png",
           (int)blen, cfg->base_url, (int)cfg->year, month);
  snprintf(path, sizeof path, "%s/%04d%02d.png", cfg->dir, (int)cfg->year,
           month);
  rf_value *v = rf_value_map();
  if (v == NULL || rf_value_map_set(v, "url", rf_value_string(url)) != RF_OK ||
      rf_value_map_set(v, "path", rf_value_string(path)) != RF_OK ||
      rf_value_map_set(v, "force", rf_value_int(cfg->force)) != RF_OK) {
    rf_value_free(v);
    return NULL;
  }
  return v;
}

static void print_row(const config *cfg, int month, rf_future *f, int *got) {
  const rf_value *r = NULL;
  char outcome[1200];
  int64_t bytes = 0;
  double seconds = 0;
  int skipped = 0;
  if (rf_future_result(f, &r) == RF_OK) {
    (void)rf_value_get_int(rf_value_lookup(r, "bytes"), &bytes);
    (void)rf_value_get_double(rf_value_lookup(r, "seconds"), &seconds);
    (void)rf_value_get_bool(rf_value_lookup(r, "skipped"), &skipped);
    snprintf(outcome, sizeof outcome, "%s",
             skipped ? "skipped (valid file exists)" : "downloaded");
    if (!skipped) (*got)++;
  } else {
    const char *e = rf_future_error(f);
    snprintf(outcome, sizeof outcome, "%s: %s",
             rf_state_name(rf_future_state(f)), e ? e : "");
  }
  char b[32] = "-", s[32] = "-";
  if (r != NULL) snprintf(b, sizeof b, "%lld", (long long)bytes);
  if (r != NULL && !skipped) snprintf(s, sizeof s, "%.2f", seconds);
  printf("%04d-%02d  %9s  %7s  %8d  %s\n", (int)cfg->year, month, b, s,
         rf_future_attempts(f), outcome);
}

static rf_status flow(rf_flow *flow, void *user) {
  config *cfg = user;
  rf_future *futs[12];
  rf_status st = make_dir(cfg->dir);
  if (st != RF_OK) return st;
  double t0 = now();
  int n = 0;
  for (; n < cfg->nmonths; n++) {
    rf_value *arg = month_arg_value(cfg, cfg->months[n]);
    st = arg ? rf_submit(flow, download_task, arg, &futs[n]) : RF_ENOMEM;
    if (st != RF_OK) break;
  }
  if (st == RF_OK) {
    st = rf_futures_wait(futs, (size_t)n);
    if (st == RF_ETASK || st == RF_EUPSTREAM) st = RF_OK; /* in the table */
  }
  double seconds = now() - t0;
  if (st != RF_OK) {
    for (int i = 0; i < n; i++) rf_future_release(futs[i]);
    return st;
  }
  int got = 0;
  printf("month        bytes  seconds  attempts  outcome\n");
  for (int i = 0; i < n; i++) print_row(cfg, cfg->months[i], futs[i], &got);
  printf("downloaded %d file%s in %.2f s\n", got, got == 1 ? "" : "s", seconds);
  fflush(stdout);
  for (int i = 0; i < n; i++) rf_future_release(futs[i]);
  return RF_OK;
}

int main(int argc, char **argv) {
  config cfg = {2022, "1-12", "data",
                "https://www.cpc.ncep.noaa.gov/products/NMME/archive",
                3, 60, 10, 0, {0}, 0};
  const rf_option options[] = {
      {"year", RF_OPT_INT, &cfg.year, "YYYY", "year of the monthly plumes",
       NULL, 1982, 2100},
      {"months", RF_OPT_STRING, &cfg.months_text, "LIST",
       "months to fetch: 1-12, 3, 1,4-6 ...", NULL, 0, 0},
      {"dir", RF_OPT_STRING, &cfg.dir, "DIR",
       "where the images go, as YYYYMM.png (created if missing)", NULL, 0, 0},
      {"base-url", RF_OPT_STRING, &cfg.base_url, "URL",
       "archive root; images are {URL}/{YYYYMM}0800/current/images/"
       "nino34.rescaling.ENSMEAN.png", NULL, 0, 0},
      {"retries", RF_OPT_INT, &cfg.retries, "N",
       "retries of a transient failure (5xx, 429, timeouts, connection "
       "errors, truncated bodies)", NULL, 0, 100},
      {"http-timeout", RF_OPT_DOUBLE, &cfg.http_timeout, "SECONDS",
       "longest time one request may take", NULL, 0.1, 86400},
      {"connect-timeout", RF_OPT_DOUBLE, &cfg.connect_timeout, "SECONDS",
       "longest time to connect", NULL, 0.1, 3600},
      {"force", RF_OPT_FLAG, &cfg.force, NULL,
       "download months whose valid file already exists (and start the "
       "--journal afresh)", NULL, 0, 0},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  /* What the tasks fetch and where they write it. */
  static const char *const identity[] = {"year", "months", "dir", "base-url",
                                         NULL};
  const rf_cli cli = {
      "nino34_plumes",
      "Download the NOAA NMME Nino 3.4 plume images of a year, concurrently "
      "(I/O tasks), retried, never a broken file.",
      options, check, &cfg, identity};
  /* Before any thread exists: curl's global set-up is not thread-safe. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "nino34_plumes: curl_global_init failed\n");
    return 3;
  }
  settings = &cfg;
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) {
    curl_global_cleanup();
    return code;
  }
  rf_task_options opts = {.io = 1,
                          .retries = (int)cfg.retries,
                          .retry_delay = 0.5,
                          .retry_backoff = 2,
                          .retry_max_delay = 10,
                          .retry_jitter = 0.25};
  if (rf_task_register(rt, "download", download, &opts, &download_task) !=
      RF_OK) {
    fprintf(stderr, "nino34_plumes: %s\n", rf_last_error());
    return rf_finalize(rt, RF_EXIT_INTERNAL); /* alike on every rank */
  }
  if (cfg.force) rf_journal_reset(rt); /* --force: everything runs again */
  code = rf_run(rt, flow, &cfg);
  code = rf_finalize(rt, code);
  curl_global_cleanup();
  return code;
}
