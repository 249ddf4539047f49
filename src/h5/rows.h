/* SPDX-License-Identifier: BSD-3-Clause */
/* rows.h -- a rows file: one HDF5 group of 1-D datasets (its columns),
 * written by many ranks at once and read back by one.
 *
 * A private module of the h5 layer, written as the public API it will
 * become (the datasets issue publishes it): it includes only rankflow.h,
 * and one job uses it today.
 *
 * Writing: every rank creates (or reopens) the file together, inside a
 * collective step (rf_flow_step, on rf_step_comm); in between, whichever
 * rank holds some rows writes them into their hyperslab with independent
 * I/O (checked to work with Debian's parallel HDF5 1.10 and dynamic
 * workers); every rank closes it together, in a step. Space is allocated
 * when the file is created; once flushed (rf__rows_flush), a killed run
 * leaves a file that a rerun can reopen and complete. Reading: one rank,
 * serial, read-only. HDF5's own error printing stays off in every call:
 * a failure is one line in rf_last_error().
 *
 * Ranks: as said per call. Threads: the MPI thread (HDF5 is not
 * thread-safe here).
 */
#ifndef RF_ROWS_H
#define RF_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "rankflow.h"

typedef enum {
  RF_ROWS_I64,  /* int64 */
  RF_ROWS_F64,  /* float64 */
  RF_ROWS_TEXT8 /* 8-byte null-padded ASCII */
} rf_rows_type;

typedef struct {
  const char *name;
  rf_rows_type type;
  uint64_t length; /* rows */
} rf_rows_column;

typedef struct rf_rows rf_rows;

/* Create path (replacing a file there) holding group with the columns,
 * their space allocated, no time stamps; group_attrs on the group and
 * file_attrs on the file's root (maps of string, int or double values;
 * either may be NULL). Collective over comm. RF_EIO (cannot create),
 * RF_EINVAL (an attribute), RF_EHDF5, RF_ENOMEM; nothing is left open on
 * failure. */
rf_status rf__rows_create(MPI_Comm comm, const char *path, const char *group,
                          const rf_rows_column *cols, size_t ncols,
                          const rf_value *group_attrs,
                          const rf_value *file_attrs, rf_rows **out);

/* Reopen for writing a file that rf__rows_create made, to complete it: its
 * file attribute attr must read value (else it is another run's file) and
 * it must hold the columns as given. Collective over comm. RF_EIO naming
 * what differs (the file is left alone), RF_ENOMEM. */
rf_status rf__rows_reopen(MPI_Comm comm, const char *path, const char *group,
                          const rf_rows_column *cols, size_t ncols,
                          const char *attr, const char *value,
                          rf_rows **out);

/* Write rows [first, first + n) of column col (its index among the columns
 * given) from data, n elements of the column's type. Independent: any rank
 * holding the file open, at any time before the close. RF_EHDF5 naming the
 * rows and the column. */
rf_status rf__rows_write(rf_rows *r, size_t col, uint64_t first, size_t n,
                         const void *data);

/* Flush everything written so far to the file. Collective. RF_EHDF5. */
rf_status rf__rows_flush(rf_rows *r);

/* Close and free (r may be NULL). Collective for a file opened to write.
 * RF_EHDF5 when closing failed (r is freed anyway). */
rf_status rf__rows_close(rf_rows *r);

/* Open path read-only, serial, this rank alone: its group (NULL: the file
 * only, for its attributes). RF_EIO (cannot open), RF_EUSAGE (no such
 * group), RF_EHDF5, RF_ENOMEM. */
rf_status rf__rows_open(const char *path, const char *group, rf_rows **out);

/* A scalar fixed-length string attribute of the group (of the file when
 * of_file is set) into buf: 1 when read, 0 when missing, not a string or
 * longer than len - 1. */
int rf__rows_attr_text(const rf_rows *r, int of_file, const char *name,
                       char *buf, size_t len);
/* A scalar integer attribute of the group: 1 when read, else 0. */
int rf__rows_attr_int(const rf_rows *r, const char *name, int64_t *out);

/* Rows of dataset name in the group when it is 1-D of that type, else -1. */
int64_t rf__rows_length(const rf_rows *r, const char *name,
                        rf_rows_type type);

/* Read rows [first, first + n) of dataset name (of that type) into out.
 * RF_EHDF5 naming the rows, the dataset and the file. */
rf_status rf__rows_read(rf_rows *r, const char *name, rf_rows_type type,
                        uint64_t first, size_t n, void *out);

#endif /* RF_ROWS_H */
