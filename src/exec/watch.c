/* SPDX-License-Identifier: BSD-3-Clause */
/* watch.c -- what this rank's main thread runs now, for the moments when
 * the process has to speak for a task that cannot.
 *
 * A plain task runs on the main thread, so when it goes wrong nobody else
 * is there to say which one it was: a segfault kills the process, a task
 * that ignores its cancel keeps the thread forever. This file keeps the
 * running attempt (innermost first: tasks wait inside one another) where
 * three last-resort paths can read it:
 *   - the fatal-signal handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT)
 *     writes one line naming the task before the process dies;
 *   - a watchdog thread, started only when some task has a time limit,
 *     ends the process with exit 3 when a plain attempt is still running
 *     --drain-grace seconds past its limit;
 *   - after a drain or stop signal, an alarm ends the process with exit 75
 *     if a plain task still holds the thread when the grace is over.
 * Everything the handlers touch is a fixed buffer or an atomic, and they
 * write with write(2): async-signal-safe. I/O slots and task hosts are
 * never recorded here (their attempts cannot take the rank down).
 */
#define _XOPEN_SOURCE 700 /* sigaltstack, SA_ONSTACK */
#include "exec.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  char key[96];
  int attempt;
  double limit;          /* seconds; 0: none */
  uint64_t deadline_ns;  /* 0: none */
} frame;

static frame stack[RF_NEST_MAX + 2];
static _Atomic int depth;
static _Atomic unsigned gen; /* odd while the stack changes */
static int my_rank;
static double grace_s = 20;
static char *alt_stack;
#define ALT_STACK_BYTES 65536 /* above any SIGSTKSZ, and the handler is small */

void rf__watch_begin(const char *key, int attempt, double limit) {
  int d = atomic_load(&depth);
  if (d >= (int)(sizeof stack / sizeof *stack)) return;
  atomic_fetch_add(&gen, 1);
  frame *f = &stack[d];
  size_t n = strlen(key);
  if (n >= sizeof f->key) n = sizeof f->key - 1;
  memcpy(f->key, key, n);
  f->key[n] = '\0';
  f->attempt = attempt;
  f->limit = limit;
  f->deadline_ns = limit > 0 ? rf__mono_ns() + (uint64_t)(limit * 1e9) : 0;
  atomic_store(&depth, d + 1);
  atomic_fetch_add(&gen, 1);
}

void rf__watch_end(void) {
  int d = atomic_load(&depth);
  if (d > 0) atomic_store(&depth, d - 1);
}

/* ---- lines written with async-signal-safe calls only ------------------ */

typedef struct {
  char buf[512];
  size_t len;
} line;

static void put(line *l, const char *s) {
  while (*s && l->len < sizeof l->buf - 1) l->buf[l->len++] = *s++;
}

static void put_int(line *l, long v) {
  char digits[24];
  int n = 0;
  if (v < 0) {
    put(l, "-");
    v = -v;
  }
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < (int)sizeof digits);
  while (n > 0 && l->len < sizeof l->buf - 1) l->buf[l->len++] = digits[--n];
}

static void begin_line(line *l) {
  l->len = 0;
  put(l, "[rank ");
  put_int(l, my_rank);
  put(l, "] ");
}

/* The innermost attempt: its key and attempt number. */
static void put_task(line *l, const frame *f) {
  put(l, "task ");
  put(l, f->key);
  put(l, " (attempt ");
  put_int(l, f->attempt);
  put(l, ")");
}

static void say(line *l) {
  put(l, "\n");
  ssize_t rc = write(STDERR_FILENO, l->buf, l->len);
  (void)rc; /* nothing more can be done about it */
}

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "a fatal signal";
  }
}

static void on_fatal(int sig) {
  line l;
  begin_line(&l);
  put(&l, "fatal: ");
  put(&l, signal_name(sig));
  int d = atomic_load(&depth);
  if (d > 0) {
    put(&l, " in ");
    put_task(&l, &stack[d - 1]);
    put(&l, "; rerun with --isolate to contain it");
  } else {
    put(&l, " outside any task");
  }
  say(&l);
  /* SA_RESETHAND put the default action back: die of the same signal,
   * so the launcher and the batch system see what happened. */
  raise(sig);
}

/* After a drain or stop signal (signals.c arms the alarm): a plain task
 * that still holds the thread is abandoned by leaving the process. */
static void on_alarm(int sig) {
  (void)sig;
  int d = atomic_load(&depth);
  /* Not in a task (the rank is on its way out), or not our alarm: a
   * task's own alarm() before any drain or stop. */
  if (d == 0 || rf__signal_requested() == RF_SIGNAL_NONE) return;
  line l;
  begin_line(&l);
  put(&l, "stopping: ");
  put_task(&l, &stack[d - 1]);
  put(&l, " ignores its cancel; leaving without it (exit 75)");
  say(&l);
  _exit(RF_EXIT_STOPPED);
}

rf_status rf__watch_install(int rank, double drain_grace) {
  static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  my_rank = rank;
  grace_s = drain_grace;
  /* A task that overflows its stack still gets its line. */
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  if (alt_stack == NULL) alt_stack = malloc(ALT_STACK_BYTES);
  if (alt_stack != NULL) {
    ss.ss_sp = alt_stack;
    ss.ss_size = ALT_STACK_BYTES;
    (void)sigaltstack(&ss, NULL);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_fatal;
  sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
  for (size_t i = 0; i < sizeof fatal_sigs / sizeof *fatal_sigs; i++) {
    if (sigaction(fatal_sigs[i], &sa, NULL) != 0) {
      return rf__error(RF_EIO, "sigaction(%d) failed", fatal_sigs[i]);
    }
  }
  sa.sa_handler = on_alarm;
  sa.sa_flags = 0;
  if (sigaction(SIGALRM, &sa, NULL) != 0) {
    return rf__error(RF_EIO, "sigaction(SIGALRM) failed");
  }
  return RF_OK;
}

/* ---- the watchdog of time limits --------------------------------------- */

static void *watchdog(void *arg) {
  (void)arg;
  for (;;) {
    rf__sleep(0.1);
    unsigned g = atomic_load(&gen);
    int d = atomic_load(&depth);
    if (d == 0 || (g & 1u)) continue;
    frame f = stack[d - 1];
    if (atomic_load(&gen) != g || f.deadline_ns == 0) continue;
    if (rf__mono_ns() < f.deadline_ns + (uint64_t)(grace_s * 1e9)) continue;
    line l;
    begin_line(&l);
    put(&l, "fatal: ");
    put_task(&l, &f);
    put(&l, " is still running past its time limit of ");
    put_int(&l, (long)f.limit);
    put(&l, " s plus --drain-grace and ignores its cancel; the rank "
            "cannot take its thread back and leaves (exit 3); rerun with "
            "--isolate, or resume with --journal, which runs it isolated");
    say(&l);
    _exit(RF_EXIT_INTERNAL);
  }
  return NULL;
}

rf_status rf__watch_limits(void) {
  static int started;
  if (started) return RF_OK;
  pthread_t t;
  pthread_attr_t attr;
  sigset_t all, old;
  /* The watchdog blocks every signal: handlers run on the main thread. */
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = pthread_attr_init(&attr);
  if (rc == 0) rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (rc == 0) rc = pthread_create(&t, &attr, watchdog, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    return rf__error(RF_EIO, "starting the time-limit watchdog: %s",
                     strerror(rc));
  }
  started = 1;
  return RF_OK;
}
