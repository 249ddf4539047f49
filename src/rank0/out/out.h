/* SPDX-License-Identifier: BSD-3-Clause */
/* out.h -- what rank 0 tells people about a run: the progress line
 * (progress.c), the JSON report (report.c) and the HTML timeline
 * (timeline.c).
 *
 * A sub-layer below the coordinator: these files are given numbers and
 * strings, never the coordinator itself, so each can be read (and tested:
 * tests/timeline) alone. Included by rank0/ only; includes exec.h (for
 * the library's options).
 */
#ifndef RF_OUT_H
#define RF_OUT_H

#include <stdio.h>

#include "exec/exec.h"

/* ---- progress.c: what the flow is doing, on rank 0's stderr ---------- */
typedef struct {
  int mode;           /* rf_progress_mode, auto resolved */
  double interval, t0;
  uint64_t next_ns;   /* when the next line or redraw is due */
  int drawn;          /* a tty line is on screen */
} rf_progress;
/* The numbers a progress line shows. */
typedef struct {
  uint64_t done, submitted, running, failed, retried;
} rf_progress_counts;
void rf__progress_start(rf_progress *p, const rf_lib_options *o);
/* 1 when a line or a redraw is due: one clock read, so the coordinator
 * counts only then. */
int rf__progress_due(const rf_progress *p);
void rf__progress_show(rf_progress *p, const rf_progress_counts *c);
/* The final line (lines and tty modes). */
void rf__progress_end(rf_progress *p, const rf_progress_counts *c);

/* ---- report.c: the JSON run report and the timeline's spools ------------ */
typedef struct rf_report rf_report;
/* Spool attempts and tasks for a JSON report at report and/or an HTML
 * timeline at timeline (either may be NULL, not both). RF_EIO, RF_ENOMEM. */
rf_status rf__report_open(const char *report, const char *timeline,
                          rf_report **out);
void rf__report_free(rf_report *r);
/* An attempt ended (r may be NULL: no report). retry: another follows. */
void rf__report_attempt(rf_report *r, const char *key, int attempt, int rank,
                        const char *state, int retry, double submitted,
                        double started, double ended, const char *error);
/* A task ended in its final state. */
void rf__report_task(rf_report *r, const char *key, const char *name,
                     const char *state, int attempts, int from_journal,
                     const char *error);
/* Write the report and/or the timeline (each atomically) from the spools,
 * the command line, the job's size and the totals. */
rf_status rf__report_finish(rf_report *r, int argc, char **argv, int ranks,
                            const uint64_t totals[RF_STATE_COUNT],
                            uint64_t submitted, uint64_t not_ended,
                            int exit_code);

/* ---- timeline.c: the static HTML timeline (--timeline) ------------------ */
/* Write the page to path atomically (path.tmp.<pid>, fsync, rename) from
 * the report's spools (each one complete JSON array, read from its start
 * and streamed into the page) and the run's facts. RF_OK, RF_ENOMEM,
 * RF_EIO (nothing left behind), RF_EINVAL (a spool is not an array of
 * objects). */
rf_status rf__timeline_write(const char *path, FILE *attempts, FILE *tasks,
                             int ranks, double start, double end,
                             const uint64_t totals[RF_STATE_COUNT],
                             uint64_t submitted, int exit_code);

#endif /* RF_OUT_H */
