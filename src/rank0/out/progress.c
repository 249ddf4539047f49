/* SPDX-License-Identifier: BSD-3-Clause */
/* progress.c -- what the flow is doing, shown on rank 0's stderr.
 *
 * Three ways: a line redrawn in place (tty), a plain status line every
 * --progress-interval seconds and a summary at the end (lines: for Slurm
 * .out files and pipes), or nothing. auto picks tty only when stderr is a
 * terminal; under mpirun it never is (rank output goes through a pipe),
 * hence --progress tty for interactive mpirun. The coordinator asks every
 * round of its loop whether a line is due (one clock read), and counts
 * only then; redrawing is limited to ten times a second.
 */
#include "out.h"

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

static void status(const rf_progress_counts *c, double t0, char *buf,
                   size_t len) {
  double elapsed = rf__now() - t0;
  double rate = elapsed > 0 ? (double)c->done / elapsed : 0;
  int n = snprintf(buf, len,
                   "%llu/%llu done, %llu running, %llu failed, %llu retried, "
                   "%.0f tasks/s, %.1f s elapsed",
                   (unsigned long long)c->done,
                   (unsigned long long)c->submitted,
                   (unsigned long long)c->running,
                   (unsigned long long)c->failed,
                   (unsigned long long)c->retried, rate, elapsed);
  if (rate > 0 && c->submitted > c->done && n > 0 && (size_t)n < len) {
    snprintf(buf + n, len - (size_t)n, ", ETA %.1f s",
             (double)(c->submitted - c->done) / rate);
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

int rf__progress_due(const rf_progress *p) {
  return p->mode != RF_PROGRESS_OFF && rf__mono_ns() >= p->next_ns;
}

void rf__progress_show(rf_progress *p, const rf_progress_counts *c) {
  uint64_t now = rf__mono_ns();
  char text[400];
  status(c, p->t0, text, sizeof text);
  if (p->mode == RF_PROGRESS_TTY) {
    emit("\r", text, "\033[K");
    p->drawn = 1;
    p->next_ns = now + TTY_REDRAW_NS;
  } else {
    emit("", text, "\n");
    p->next_ns = now + (uint64_t)(p->interval * 1e9);
  }
}

void rf__progress_end(rf_progress *p, const rf_progress_counts *c) {
  if (p->mode == RF_PROGRESS_OFF) return;
  char text[400];
  status(c, p->t0, text, sizeof text);
  emit(p->mode == RF_PROGRESS_TTY ? "\r" : "", text,
       p->mode == RF_PROGRESS_TTY ? "\033[K\n" : "\n");
  p->drawn = 0;
}
