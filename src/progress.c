/* progress.c -- what the flow is doing, shown on rank 0's stderr.
 *
 * Three ways: a line redrawn in place (tty), a plain status line every
 * --progress-interval seconds and a summary at the end (lines: for Slurm
 * .out files and pipes), or nothing. auto picks tty only when stderr is a
 * terminal; under mpirun it never is (rank output goes through a pipe),
 * hence --progress tty for interactive mpirun. The coordinator ticks this
 * every round of its loop; a tick costs one clock read until a line is
 * due, and redrawing is limited to ten times a second.
 */
#include "rf_internal.h"

#include <stdio.h>
#include <unistd.h>

#define TTY_REDRAW_NS 100000000ull

void rf__progress_start(rf_progress *p, const rf_lib_options *o) {
  p->mode = o->progress;
  if (p->mode == RF_PROGRESS_AUTO) {
    p->mode = isatty(STDERR_FILENO) ? RF_PROGRESS_TTY : RF_PROGRESS_OFF;
  }
  if (o->quiet) p->mode = RF_PROGRESS_OFF;
  p->interval = o->progress_interval > 0 ? o->progress_interval : 10.0;
  p->t0 = rf__now();
  p->next_ns = rf__mono_ns() + (uint64_t)(p->interval * 1e9);
  p->drawn = 0;
}

static void status(const rf_coord *co, double t0, char *buf, size_t len) {
  uint64_t done = 0, running = 0;
  for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) done += co->totals[s];
  for (int i = 0; i < co->nworkers; i++) running += co->workers[i].inflight;
  uint64_t failed = co->totals[RF_STATE_FAILED] + co->totals[RF_STATE_CRASHED] +
                    co->totals[RF_STATE_UPSTREAM_FAILED];
  double elapsed = rf__now() - t0;
  double rate = elapsed > 0 ? (double)done / elapsed : 0;
  int n = snprintf(buf, len,
                   "%llu/%llu done, %llu running, %llu failed, %llu retried, "
                   "%.0f tasks/s, %.1f s elapsed",
                   (unsigned long long)done, (unsigned long long)co->submitted,
                   (unsigned long long)running, (unsigned long long)failed,
                   (unsigned long long)co->retried, rate, elapsed);
  if (rate > 0 && co->submitted > done && n > 0 && (size_t)n < len) {
    snprintf(buf + n, len - (size_t)n, ", ETA %.1f s",
             (double)(co->submitted - done) / rate);
  }
}

/* One write, so a redraw is never split by another rank's line. */
static void emit(const char *prefix, const char *text, const char *suffix) {
  char line[600];
  int n = snprintf(line, sizeof line, "%s[rank 0] progress: %s%s", prefix,
                   text, suffix);
  if (n > 0) {
    ssize_t w = write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n
                                                                   : sizeof line - 1);
    (void)w; /* nowhere to report a failing stderr */
  }
}

void rf__progress_tick(rf_progress *p, const rf_coord *co) {
  if (p->mode == RF_PROGRESS_OFF) return;
  uint64_t now = rf__mono_ns();
  if (now < p->next_ns) return;
  char text[400];
  status(co, p->t0, text, sizeof text);
  if (p->mode == RF_PROGRESS_TTY) {
    emit("\r", text, "\033[K");
    p->drawn = 1;
    p->next_ns = now + TTY_REDRAW_NS;
  } else {
    emit("", text, "\n");
    p->next_ns = now + (uint64_t)(p->interval * 1e9);
  }
}

void rf__progress_end(rf_progress *p, const rf_coord *co) {
  if (p->mode == RF_PROGRESS_OFF) return;
  char text[400];
  status(co, p->t0, text, sizeof text);
  emit(p->mode == RF_PROGRESS_TTY ? "\r" : "", text,
       p->mode == RF_PROGRESS_TTY ? "\033[K\n" : "\n");
  p->drawn = 0;
}
