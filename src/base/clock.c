/* SPDX-License-Identifier: BSD-3-Clause */
/* clock.c -- time, and waiting without spinning.
 *
 * Open MPI's blocking calls spin, and these machines run more ranks than
 * cores, so every waiting phase of rankflow probes in a short burst (a
 * chained task's result usually arrives within microseconds) and then
 * sleeps with a back-off that grows to about a millisecond. That keeps an
 * idle rank near 0% CPU while a busy pipeline still reacts fast.
 */
#include "base.h"

#include <errno.h>
#include <sched.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Probing phase length before the first sleep, and the sleep ceiling. */
#define SPIN_NS 50000ull
#define MAX_SLEEP_NS 1000000ull

void rf__clock_setup(void) {
#ifdef __linux__
  /* Linux lets a sleep overshoot by the timer slack, 50 us by default, so
   * the first short back-off sleeps took ~80 us and a chain of dependent
   * tasks could settle into both sides sleeping on every link. One
   * microsecond of slack keeps short sleeps short; long ones are unchanged.
   * Failure only costs latency. */
  (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
#endif
}

double rf__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t rf__mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000ull),
                        (long)(ns % 1000000000ull)};
  /* A signal cuts the sleep short: callers re-check their flags anyway. */
  (void)nanosleep(&ts, NULL);
}

void rf__sleep(double seconds) {
  if (seconds > 0) sleep_ns((uint64_t)(seconds * 1e9));
}

void rf__backoff_reset(rf_backoff *b) {
  b->rounds = 0;
  b->idle_since = 0;
}

uint64_t rf__backoff_step(rf_backoff *b, uint64_t deadline_ns) {
  uint64_t now = rf__mono_ns();
  if (b->rounds++ == 0) b->idle_since = now;
  uint64_t idle = now - b->idle_since;
  if (idle < SPIN_NS) {
    /* Let another rank on this core run instead of burning the slice. */
    sched_yield();
    return 0;
  }
  /* Sleep about a tenth of the time spent idle so far, bounded: short
   * pauses after recent work, a millisecond once the rank is truly idle. */
  uint64_t ns = idle / 10;
  if (ns < 2000) ns = 2000;
  if (ns > MAX_SLEEP_NS) ns = MAX_SLEEP_NS;
  if (deadline_ns != 0) {
    if (now >= deadline_ns) return 0;
    if (deadline_ns - now < ns) ns = deadline_ns - now;
  }
  return ns;
}

void rf__backoff_wait(rf_backoff *b, uint64_t deadline_ns) {
  uint64_t ns = rf__backoff_step(b, deadline_ns);
  if (ns > 0) sleep_ns(ns);
}
