/* SPDX-License-Identifier: BSD-3-Clause */
/* api.h -- the top layer: the public calls of the runtime (runtime.c),
 * the command line (options.c) and the flow (flow.c), over rank 0's
 * coordinator and the worker loop.
 *
 * Shared by the three files of this folder; nothing includes it from
 * below.
 */
#ifndef RF_API_H
#define RF_API_H

#include "rank0/rank0.h"
#include "worker/worker.h"

/* ---- options.c -------------------------------------------------------------- */
/* Parse argv into lib (and the job's flags); returns -1 to go on, else an
 * exit code (help, version, usage: printed only when print is set).
 * check_outputs: see that --report, --timeline and --journal can be
 * written (not in a task host, which writes none of them). */
int rf__options_parse(int argc, char **argv, const rf_cli *cli,
                      rf_lib_options *lib, int print, int check_outputs);
/* The run's identity for the journal: a map from each flag named in
 * cli->identity to its value as text. NULL on a bad name (a job's bug). */
rf_value *rf__options_identity(const rf_cli *cli);

/* ---- flow.c ------------------------------------------------------------------ */
/* What values ask of the futures they hold, for either kind of future:
 * rf_init installs it before any future exists. */
extern const rf_future_hooks rf__flow_future_hooks;

#endif /* RF_API_H */
