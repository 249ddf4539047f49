/* SPDX-License-Identifier: BSD-3-Clause */
/* timeseries.h -- dask's datasets.timeseries() as a plan, its rows, and
 * its exact describe() as a flow: the timeseries_summary job's own code.
 *
 * The job is built on rankflow's public API (rankflow.h), plus two
 * private modules of the library that the datasets issue will publish:
 * the exact two-pass describe() (src/data/describe.h) and rows files
 * (src/h5/rows.h). main.c is the command line; plan.c the partitions as
 * pandas bounds them; generate.c the rows; summary.c the flow; datafile.c
 * the rows written to (and read from) one HDF5 file. The tests build
 * against the same files (the rankflow_timeseries library).
 */
#ifndef RF_TIMESERIES_H
#define RF_TIMESERIES_H

#include <stddef.h>
#include <stdint.h>

#include "rankflow.h"

typedef struct rf_timeseries rf_timeseries; /* a planned synthetic dataset */

/* ------------------------------------------------------------------------
 * Synthetic timeseries (dask.datasets.timeseries as a plan): plan.c
 * ------------------------------------------------------------------------
 * A plan of partitions exactly as pandas' date_range(start, end,
 * freq=partition_freq) bounds them: partition i holds the rows at freq in
 * [bound i, bound i+1). Dates: YYYY, YYYY-MM, YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM:SS (UTC, no zone). Frequencies: a positive count with
 * s, min, h, d or w (w anchored on Sunday, as pandas' W-SUN). */

/* Plan the dataset. Errors: RF_EUSAGE with a one-line reason in
 * rf_last_error() (bad date or frequency, end not after start, a
 * partition frequency that is not a multiple of freq, no whole
 * partition in the range); RF_ENOMEM. Caller frees with
 * rf_timeseries_free. Ranks: any. Threads: any thread. */
rf_status rf_timeseries_plan(const char *start, const char *end,
                             const char *freq, const char *partition_freq,
                             uint64_t seed, rf_timeseries **out);
void rf_timeseries_free(rf_timeseries *ts);

/* The plan's numbers: partitions; rows in all; a partition's first
 * timestamp (ns since the Unix epoch; INT64_MIN for a partition out of
 * range) and rows (-1 out of range); the row spacing (ns); the seed; and
 * the parameters as given ("start", "end", "freq", "partition_freq"; NULL
 * for another name). Ranks: any. Threads: any. */
size_t rf_timeseries_partitions(const rf_timeseries *ts);
int64_t rf_timeseries_rows(const rf_timeseries *ts);
int64_t rf_timeseries_partition_start(const rf_timeseries *ts,
                                      size_t partition);
int64_t rf_timeseries_partition_rows(const rf_timeseries *ts,
                                     size_t partition);
int64_t rf_timeseries_freq_ns(const rf_timeseries *ts);
uint64_t rf_timeseries_seed(const rf_timeseries *ts);
const char *rf_timeseries_param(const rf_timeseries *ts, const char *name);

/* The plan's parameter names, in rf_timeseries_plan's order: the keys of
 * rf_timeseries_param, the data attributes and the task arguments. */
#define TS_PARAMS 4
extern const char *const ts_params[TS_PARAMS];

/* The plan's data parameters as a map (start, end, freq, partition_freq,
 * seed, rows, partitions) for attributes; NULL when out of memory. Caller
 * frees. Ranks: any. Threads: any thread. */
rf_value *rf_timeseries_attrs(const rf_timeseries *ts);

/* ---- generate.c ------------------------------------------------------------
 * Generate rows [row0, row0 + n) of a partition into the arrays given
 * (each may be NULL; name holds 8-byte null-padded ASCII). The bits depend
 * only on the seed, the partition and the row, never on who makes them.
 * RF_EINVAL for rows outside the partition. Ranks: any. Threads: any. */
rf_status rf_timeseries_generate(const rf_timeseries *ts, size_t partition,
                                 int64_t row0, size_t n, int64_t *timestamp,
                                 int64_t *id, char (*name)[8], double *x,
                                 double *y);

/* ---- summary.c -------------------------------------------------------------- */
/* Register the tasks and steps the timeseries summary submits. Every rank
 * must call it, at the same point of its registrations, before rf_run.
 * Ranks: all. */
rf_status rf_timeseries_register(rf_runtime *rt);

/* Where a summary's rows come from and go. */
typedef struct {
  const char *write_data; /* also write the generated rows to this HDF5
                             file (parallel HDF5; as FILE.partial until
                             complete), or NULL */
  const char *input;      /* read the rows from this file (written by
                             write_data; see rf_timeseries_open), or NULL */
} rf_timeseries_io;

/* describe() of the dataset, as pandas gives it for the numeric columns:
 * a frame with rows count, mean, std (ddof 1), min, 25%, 50%, 75%, max
 * and float64 columns id, x, y. Quartiles are exact (pandas' linear
 * interpolation); the frame's bits are the same at any rank count, and
 * the same when the rows are read back from a written file. Runs two
 * passes of tasks over fixed pieces of at most 2^20 rows; no rank holds
 * the data. io may be NULL (generate, write nothing). *out: a new frame
 * (caller frees). Errors: the flow's (RF_ESTOPPED ...), RF_ETASK if a
 * piece failed (its message in rf_last_error()), RF_EUSAGE (write_data
 * with input), RF_EIO (the data file), RF_ENOMEM, RF_ENOTASK
 * (rf_timeseries_register was not called). Ranks: rank 0 (the flow). */
rf_status rf_timeseries_summary(rf_flow *flow, const rf_timeseries *ts,
                                const rf_timeseries_io *io, rf_frame **out);

/* ---- datafile.c ------------------------------------------------------------- */
/* A plan read back from a file written with write_data: its parameters
 * from the attributes of /timeseries, checked against the datasets
 * (present, typed, of the planned length, offsets consistent). Errors:
 * RF_EUSAGE naming the path and the problem; RF_EHDF5 or RF_ENOMEM when
 * reading fails. Ranks: any. Threads: the MPI thread. */
rf_status rf_timeseries_open(const char *path, rf_timeseries **out);

/* The data file of --write-data, between the create and close steps: a
 * rows file (src/h5/rows.h) holding /timeseries. Create it on every rank
 * (inside a step; reuse: reopen the file a stopped run left, which must
 * carry the resume stamp), write rows [first, first + n) into it from any
 * rank, close it on every rank (inside a step). */
rf_status ts_data_create(rf_step_ctx *ctx, const rf_timeseries *ts,
                            const char *path, const char *stamp, int reuse);
rf_status ts_data_write(int64_t first, size_t n, const int64_t *timestamp,
                           const int64_t *id, const char (*name)[8],
                           const double *x, const double *y);
rf_status ts_data_close(void);
/* The resume stamp of a data file a stopped run left (rank 0, serial). */
rf_status ts_data_stamp(const char *path, char *stamp, size_t len);
/* Read rows [first, first + n) of id, x, y from a data file. */
rf_status ts_data_read(const char *path, int64_t first, size_t n,
                          int64_t *id, double *x, double *y);

#endif /* RF_TIMESERIES_H */
