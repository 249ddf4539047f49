/* SPDX-License-Identifier: BSD-3-Clause */
/* task_throughput.c -- what one task costs rankflow: rate, chain latency,
 * and rank-0 memory, each measured from inside the flow.
 *
 * Why: rankflow's promise is that a task is cheap enough to map over a
 * million inputs without hand-made chunking, and that a chain of dependent
 * tasks moves at close to MPI latency. This program measures exactly those
 * claims so bench/task_throughput.sh can set them against the goals
 * (>= 1,000,000 tasks/s, <= 20 us per chain link, <= 256 MB on rank 0 at a
 * million tasks) and against mpi4py.futures on the same machine.
 *
 * Three modes (--mode), one per run, so each gets a clean process:
 *   rate   A warm-up map of --warmup tasks, then --reps timed maps of --n
 *          empty tasks (`ident` returns its int argument). One timed
 *          repetition is: build the input list, rf_map, rf_futures_wait,
 *          read and check every result, release the futures -- the flow's
 *          whole cost of "map and consume", like executor.map consumed
 *          fully in the mpi4py peer. Timed with CLOCK_MONOTONIC. The
 *          reported rate is the MEDIAN of the repetitions (all are printed).
 *   chain  A warm-up chain, then --reps chains of --n links: link 0 is
 *          inc(0), link i is inc(<future of link i-1>), all submitted up
 *          front; then the flow waits for the last link. Per-link latency
 *          is the difference of consecutive links' end times (rank 0's
 *          clock when each result arrived, from rf_future_times), i.e. one
 *          result -> dispatch of the dependent -> its result round trip.
 *          A chain's value is the MEDIAN of its n-1 differences; the
 *          reported value is the median over the repetitions. The mean
 *          (whole chain wall / n, submission included) is printed too.
 *   rss    One rf_map of --n tasks (no warm-up, no repetitions), every
 *          result read and checked, futures released, then rank 0's peak
 *          resident set (VmHWM in /proc/self/status) is reported. The
 *          baseline VmHWM before the map is printed for reference.
 *
 * Rank 0 prints one machine-readable line on stdout, starting "RESULT ",
 * with key=value pairs; the shell script picks it up.
 *   mpiexec --oversubscribe -n 3 build/bench/task_throughput --mode rate
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_sort.h"
#include "rankflow.h"

typedef enum { MODE_RATE, MODE_CHAIN, MODE_RSS } bench_mode;

typedef struct {
  bench_mode mode;
  int64_t n;      /* tasks per map, links per chain; -1: the mode's default */
  int64_t warmup; /* warm-up tasks / links; -1: the mode's default */
  int64_t reps;   /* timed repetitions (rate, chain) */
  rf_task *ident, *inc;
} config;

/* ---- tasks -------------------------------------------------------------- */

/* The empty task: return the int argument unchanged. */
static rf_status ident(rf_ctx *ctx) {
  int64_t x;
  if (rf_value_get_int(rf_ctx_arg(ctx), &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "ident wants an integer");
  }
  rf_ctx_return(ctx, rf_value_int(x));
  return RF_OK;
}

/* One chain link: x + 1. */
static rf_status inc(rf_ctx *ctx) {
  int64_t x;
  if (rf_value_get_int(rf_ctx_arg(ctx), &x) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "inc wants an integer");
  }
  rf_ctx_return(ctx, rf_value_int(x + 1));
  return RF_OK;
}

/* ---- helpers ------------------------------------------------------------ */

static rf_status mono_now(double *out) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    rf_log(RF_LOG_ERROR, "clock_gettime(CLOCK_MONOTONIC) failed");
    return RF_EIO;
  }
  *out = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  return RF_OK;
}

/* Median of v[0..n) (sorts v in place); n >= 1. */
static double median(double *v, size_t n) {
  bench_sort(v, n);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Read one "Name:   123 kB" field of /proc/self/status, in kB. */
static rf_status proc_status_kb(const char *field, int64_t *kb) {
  FILE *fp = fopen("/proc/self/status", "r");
  if (fp == NULL) {
    rf_log(RF_LOG_ERROR, "cannot open /proc/self/status");
    return RF_EIO;
  }
  char line[256];
  size_t flen = strlen(field);
  rf_status st = RF_EIO;
  while (fgets(line, sizeof line, fp) != NULL) {
    if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
      char *end;
      long long v = strtoll(line + flen + 1, &end, 10);
      if (end != line + flen + 1 && v >= 0) {
        *kb = (int64_t)v;
        st = RF_OK;
      }
      break;
    }
  }
  if (fclose(fp) != 0) st = RF_EIO;
  if (st != RF_OK) rf_log(RF_LOG_ERROR, "no %s in /proc/self/status", field);
  return st;
}

/* ---- rate and rss: one map, consumed fully ------------------------------ */

/* Map ident over 0..n-1, wait, read and check every result, release.
 * *seconds (may be NULL) is the wall time of all of that. */
static rf_status map_consume(rf_flow *flow, const config *cfg, int64_t n,
                             double *seconds) {
  double t0, t1;
  rf_status st = mono_now(&t0);
  if (st != RF_OK) return st;

  rf_value *inputs = rf_value_list();
  if (inputs == NULL) return RF_ENOMEM;
  for (int64_t i = 0; i < n; i++) {
    st = rf_value_list_append(inputs, rf_value_int(i));
    if (st != RF_OK) {
      rf_value_free(inputs);
      rf_log(RF_LOG_ERROR, "building inputs: %s", rf_strerror(st));
      return st;
    }
  }
  rf_future **futs;
  size_t nf;
  st = rf_map(flow, cfg->ident, inputs, &futs, &nf);
  if (st != RF_OK) {
    rf_log(RF_LOG_ERROR, "rf_map: %s: %s", rf_strerror(st), rf_last_error());
    return st;
  }
  if (nf != (size_t)n) {
    rf_log(RF_LOG_ERROR, "rf_map gave %zu futures for %" PRId64 " inputs", nf,
           n);
    rf_futures_release(futs, nf);
    return RF_ESTATE;
  }
  st = rf_futures_wait(futs, nf);
  if (st != RF_OK) {
    rf_log(RF_LOG_ERROR, "rf_futures_wait: %s: %s", rf_strerror(st),
           rf_last_error());
  }
  for (size_t i = 0; i < nf && st == RF_OK; i++) {
    const rf_value *res;
    int64_t x;
    st = rf_future_result(futs[i], &res);
    if (st != RF_OK) {
      rf_log(RF_LOG_ERROR, "task %zu: %s: %s", i, rf_strerror(st),
             rf_future_error(futs[i]) ? rf_future_error(futs[i]) : "");
    } else if (rf_value_get_int(res, &x) != RF_OK || x != (int64_t)i) {
      rf_log(RF_LOG_ERROR, "task %zu returned a wrong result", i);
      st = RF_ETASK;
    }
  }
  rf_futures_release(futs, nf);
  if (st != RF_OK) return st;

  st = mono_now(&t1);
  if (st != RF_OK) return st;
  if (seconds != NULL) *seconds = t1 - t0;
  return RF_OK;
}

static rf_status run_rate(rf_flow *flow, const config *cfg) {
  double warm_s, rates[64];
  rf_status st = map_consume(flow, cfg, cfg->warmup, &warm_s);
  if (st != RF_OK) return st;
  printf("RESULT_DETAIL mode=rate warmup_tasks=%" PRId64 " warmup_s=%.4f\n",
         cfg->warmup, warm_s);
  char reps[64 * 24] = "";
  size_t off = 0;
  for (int64_t r = 0; r < cfg->reps; r++) {
    double s;
    st = map_consume(flow, cfg, cfg->n, &s);
    if (st != RF_OK) return st;
    rates[r] = (double)cfg->n / s;
    off += (size_t)snprintf(reps + off, sizeof reps - off, "%s%.0f",
                            r ? "," : "", rates[r]);
  }
  double best = 0;
  for (int64_t r = 0; r < cfg->reps; r++) {
    if (rates[r] > best) best = rates[r];
  }
  double med = median(rates, (size_t)cfg->reps);
  printf("RESULT mode=rate n=%" PRId64 " reps=%" PRId64
         " tasks_per_s=%.0f best_tasks_per_s=%.0f us_per_task=%.3f"
         " all_tasks_per_s=%s\n",
         cfg->n, cfg->reps, med, best, 1e6 / med, reps);
  return fflush(stdout) == 0 ? RF_OK : RF_EIO;
}

static rf_status run_rss(rf_flow *flow, const config *cfg) {
  int64_t base_kb, hwm_kb, rss_kb;
  double s;
  rf_status st = proc_status_kb("VmHWM", &base_kb);
  if (st != RF_OK) return st;
  st = map_consume(flow, cfg, cfg->n, &s);
  if (st != RF_OK) return st;
  /* All results read, all futures released: what stays is the peak. */
  st = proc_status_kb("VmHWM", &hwm_kb);
  if (st == RF_OK) st = proc_status_kb("VmRSS", &rss_kb);
  if (st != RF_OK) return st;
  printf("RESULT mode=rss n=%" PRId64 " rank0_hwm_mb=%.1f"
         " rank0_hwm_before_mb=%.1f rank0_rss_end_mb=%.1f map_s=%.3f"
         " tasks_per_s=%.0f\n",
         cfg->n, (double)hwm_kb / 1024.0, (double)base_kb / 1024.0,
         (double)rss_kb / 1024.0, s, (double)cfg->n / s);
  return fflush(stdout) == 0 ? RF_OK : RF_EIO;
}

/* ---- chain -------------------------------------------------------------- */

/* Submit a chain of n links up front, wait for the last, check its value.
 * *median_us: median of consecutive end-time differences; *mean_us: the
 * whole chain's wall time (submission included) / n. */
static rf_status one_chain(rf_flow *flow, const config *cfg, int64_t n,
                           double *median_us, double *mean_us,
                           int64_t *switches) {
  rf_future **links = calloc((size_t)n, sizeof *links);
  double *diffs = calloc((size_t)n, sizeof *diffs);
  double t0, t1;
  int64_t made = 0;
  rf_status st = RF_ENOMEM;
  if (links == NULL || diffs == NULL) goto out;
  st = mono_now(&t0);
  for (; made < n && st == RF_OK; made++) {
    rf_value *arg = made == 0 ? rf_value_int(0)
                              : rf_value_future(links[made - 1]);
    if (arg == NULL) {
      st = RF_ENOMEM;
      break;
    }
    st = rf_submit(flow, cfg->inc, arg, &links[made]);
    if (st != RF_OK) {
      rf_log(RF_LOG_ERROR, "rf_submit link %" PRId64 ": %s: %s", made,
             rf_strerror(st), rf_last_error());
      break;
    }
  }
  if (st != RF_OK) goto out;
  const rf_value *res;
  int64_t x;
  st = rf_future_result(links[n - 1], &res);
  if (st != RF_OK) {
    rf_log(RF_LOG_ERROR, "last link: %s: %s", rf_strerror(st),
           rf_future_error(links[n - 1]) ? rf_future_error(links[n - 1]) : "");
    goto out;
  }
  if (rf_value_get_int(res, &x) != RF_OK || x != n) {
    rf_log(RF_LOG_ERROR, "chain of %" PRId64 " ended with a wrong value", n);
    st = RF_ETASK;
    goto out;
  }
  st = mono_now(&t1);
  if (st != RF_OK) goto out;
  double prev = 0;
  *switches = 0;
  for (int64_t i = 0; i < n; i++) {
    double ended = 0;
    if (i > 0 && rf_future_rank(links[i]) != rf_future_rank(links[i - 1])) {
      (*switches)++;
    }
    rf_future_times(links[i], NULL, NULL, &ended);
    if (ended <= 0) {
      rf_log(RF_LOG_ERROR, "link %" PRId64 " has no end time", i);
      st = RF_ESTATE;
      goto out;
    }
    if (i > 0) diffs[i - 1] = (ended - prev) * 1e6;
    prev = ended;
  }
  *median_us = n > 1 ? median(diffs, (size_t)(n - 1)) : 0;
  *mean_us = (t1 - t0) * 1e6 / (double)n;
out:
  if (links != NULL) {
    for (int64_t i = 0; i < made; i++) rf_future_release(links[i]);
  }
  free(links);
  free(diffs);
  return st;
}

static rf_status run_chain(rf_flow *flow, const config *cfg) {
  double med[64], mean[64], wmed, wmean;
  int64_t switches;
  rf_status st = one_chain(flow, cfg, cfg->warmup, &wmed, &wmean, &switches);
  if (st != RF_OK) return st;
  printf("RESULT_DETAIL mode=chain warmup_links=%" PRId64
         " warmup_median_us=%.2f\n",
         cfg->warmup, wmed);
  char reps[64 * 24] = "", sw[64 * 24] = "";
  size_t off = 0, swoff = 0;
  for (int64_t r = 0; r < cfg->reps; r++) {
    st = one_chain(flow, cfg, cfg->n, &med[r], &mean[r], &switches);
    if (st != RF_OK) return st;
    off += (size_t)snprintf(reps + off, sizeof reps - off, "%s%.2f",
                            r ? "," : "", med[r]);
    swoff += (size_t)snprintf(sw + swoff, sizeof sw - swoff,
                              "%s%" PRId64, r ? "," : "", switches);
  }
  double m = median(med, (size_t)cfg->reps);
  double mm = median(mean, (size_t)cfg->reps);
  /* rank_switches: links that ran on another worker than the link before
   * (a hint at how the chain was placed; 0 means one worker ran it all). */
  printf("RESULT mode=chain n=%" PRId64 " reps=%" PRId64
         " median_us=%.2f mean_us=%.2f all_median_us=%s rank_switches=%s\n",
         cfg->n, cfg->reps, m, mm, reps, sw);
  return fflush(stdout) == 0 ? RF_OK : RF_EIO;
}

/* ---- main --------------------------------------------------------------- */

static rf_status flow(rf_flow *flow, void *user) {
  const config *cfg = user;
  int size = rf_runtime_size(rf_flow_runtime(flow));
  if (size < 2) {
    rf_log(RF_LOG_WARN, "%d rank: tasks run inline, no MPI in the numbers",
           size);
  }
  switch (cfg->mode) {
    case MODE_RATE: return run_rate(flow, cfg);
    case MODE_CHAIN: return run_chain(flow, cfg);
    case MODE_RSS: return run_rss(flow, cfg);
  }
  return RF_EINVAL;
}

static rf_status parse_mode(const char *text, void *dest, char *err,
                            size_t errlen) {
  bench_mode *m = dest;
  if (strcmp(text, "rate") == 0) *m = MODE_RATE;
  else if (strcmp(text, "chain") == 0) *m = MODE_CHAIN;
  else if (strcmp(text, "rss") == 0) *m = MODE_RSS;
  else {
    snprintf(err, errlen, "unknown mode '%s' (rate|chain|rss)", text);
    return RF_EUSAGE;
  }
  return RF_OK;
}

/* Fill in the defaults of the chosen mode. */
static rf_status check(void *user, char *err, size_t errlen) {
  config *cfg = user;
  static const int64_t def_n[] = {100000, 1000, 1000000};
  static const int64_t def_warmup[] = {10000, 100, 0};
  if (cfg->n < 0) cfg->n = def_n[cfg->mode];
  if (cfg->warmup < 0) cfg->warmup = def_warmup[cfg->mode];
  if (cfg->n < 1) {
    snprintf(err, errlen, "--n must be at least 1");
    return RF_EUSAGE;
  }
  if (cfg->mode == MODE_CHAIN && (cfg->n < 2 || cfg->warmup < 2)) {
    snprintf(err, errlen, "a chain needs --n and --warmup of at least 2");
    return RF_EUSAGE;
  }
  if (cfg->mode == MODE_RATE && cfg->warmup < 1) {
    snprintf(err, errlen, "rate mode needs a warm-up of at least 1 task");
    return RF_EUSAGE;
  }
  return RF_OK;
}

int main(int argc, char **argv) {
  config cfg = {.mode = MODE_RATE, .n = -1, .warmup = -1, .reps = 3};
  const rf_option options[] = {
      {"mode", RF_OPT_CUSTOM, &cfg.mode, "MODE",
       "rate | chain | rss (default rate)", parse_mode, 0, 0},
      {"n", RF_OPT_INT, &cfg.n, "N",
       "tasks per map / links per chain; -1: 100000 / 1000 / 1000000",
       NULL, -1, 1e8},
      {"warmup", RF_OPT_INT, &cfg.warmup, "N",
       "warm-up tasks / links; -1: 10000 / 100 / 0", NULL, -1, 1e8},
      {"reps", RF_OPT_INT, &cfg.reps, "N",
       "timed repetitions, the median is reported (rate, chain)", NULL, 1, 64},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  const rf_cli cli = {"task_throughput",
                      "Measure rankflow's task rate, chain latency and "
                      "rank-0 memory.",
                      options, check, &cfg, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  if (rf_task_register(rt, "ident", ident, NULL, &cfg.ident) != RF_OK ||
      rf_task_register(rt, "inc", inc, NULL, &cfg.inc) != RF_OK) {
    fprintf(stderr, "task_throughput: %s\n", rf_last_error());
    return rf_finalize(rt, RF_EXIT_INTERNAL);
  }
  code = rf_run(rt, flow, &cfg);
  return rf_finalize(rt, code);
}
