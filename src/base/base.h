/* SPDX-License-Identifier: BSD-3-Clause */
/* base.h -- the bottom layer: memory, errors, time, logs, signals, bytes.
 *
 * Everything else in the library stands on these, and they stand on
 * nothing of rankflow's: no MPI, no msgpack, no HDF5 (their files are
 * compiled with RF_WITHOUT_MPI_H, so rankflow.h leaves out the two
 * declarations that name MPI types, and a use of MPI here fails to build).
 * Any layer may include this header; it includes only rankflow.h and libc.
 *
 * Naming: rf_ is public, rf__ is internal across files, statics are short.
 * Each banner names the file that defines what follows it.
 */
#ifndef RF_BASE_H
#define RF_BASE_H

#include "rankflow.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- alloc.c: every allocation of the library goes through here --------
 * The allocator is public (rf_malloc ... in rankflow.h, so that jobs are
 * fault-injected like the library); inside, it keeps the rf__ spelling. */
#define rf__malloc rf_malloc
#define rf__calloc rf_calloc
#define rf__realloc rf_realloc
#define rf__free rf_free
char *rf__strdup(const char *s);
char *rf__strndup(const char *s, size_t len);
/* Room for one more element in the array *arrayp points at (count in use,
 * *cap allocated, elements of elem bytes), doubling from first. RF_OK, or
 * RF_ENOMEM naming what with the array and *cap unchanged. */
rf_status rf__array_reserve(void *arrayp, size_t elem, size_t count,
                            size_t *cap, size_t first, const char *what);
/* Fault injection (all builds, used by tests, which link the library's
 * objects): the next `n` allocations succeed, then one fails (or all fail
 * when persistent). n < 0 disables. */
void rf__alloc_fail_after(long n, int persistent);
long rf__alloc_count(void);
/* Blocks the library has allocated and not freed (tests of bounded
 * memory count these: unlike RSS they do not depend on the allocator). */
long rf__alloc_live(void);

/* ---- status.c: error details for rf_last_error(); status and state names
 * rf__error() records a formatted message for rf_last_error() and returns
 * the status, so callers write `return rf__error(RF_EINVAL, "...", ...)`.
 * It is the public rf_error_set: the library says what went wrong the way
 * a job's own code does. (MPI's error strings: rf__error_mpi in
 * wire/transport.c.) */
#define rf__error rf_error_set
void rf__error_clear(void);
/* "<what the status means>: <details>" for one-line messages, without
 * repeating the meaning when the details begin with it. Returns buf. */
const char *rf__describe(rf_status st, char *buf, size_t len);
/* A task in state s has ended (completed, failed, crashed, cancelled,
 * upstream-failed). */
static inline int rf__state_final(rf_state s) {
  return s >= RF_STATE_COMPLETED;
}

/* RF_CHECK, RF_CHECK_GOTO and RF_ENSURE are public: rankflow.h. */

/* ---- log.c -------------------------------------------------------------- */
void rf__log_setup(int rank, rf_log_level level);
int rf__log_enabled(rf_log_level level);
void rf__logv(rf_log_level level, const char *key, const char *fmt,
              va_list ap);
void rf__log(rf_log_level level, const char *key, const char *fmt, ...)
    RF_PRINTF(3, 4);
rf_status rf__log_level_parse(const char *text, rf_log_level *out);

/* ---- clock.c: time and waiting without spinning ------------------------- */
void rf__clock_setup(void);    /* tighten sleep precision (timer slack) */
double rf__now(void);          /* wall clock, seconds since the epoch */
uint64_t rf__mono_ns(void);    /* monotonic nanoseconds */
void rf__sleep(double seconds);

/* A waiting phase: a short burst of probes, then sleeps that grow to
 * about a millisecond. Reset it whenever something happened. */
typedef struct {
  unsigned rounds;
  uint64_t idle_since;
} rf_backoff;
void rf__backoff_reset(rf_backoff *b);
/* Wait a little; never longer than until `deadline_ns` (0: none). */
void rf__backoff_wait(rf_backoff *b, uint64_t deadline_ns);
/* The same step without the sleep: yields and returns 0 while the wait is
 * young, else the nanoseconds to sleep, for a caller that sleeps in poll()
 * on a descriptor of its own (a task host's socket). */
uint64_t rf__backoff_step(rf_backoff *b, uint64_t deadline_ns);

/* ---- signals.c ---------------------------------------------------------- */
enum { RF_SIGNAL_NONE = 0, RF_SIGNAL_DRAIN = 1, RF_SIGNAL_STOP = 2 };
rf_status rf__signals_install(void);
/* Drains abandon a task still running drain_grace + 0.3 s after SIGUSR1. */
void rf__signals_bound(double drain_grace);
/* SIGTERM and SIGINT end the process at once again (a stopping job whose
 * launcher is tearing it down). */
void rf__signals_let_stop(void);
/* Back to the default actions (after the ranks have left together). */
void rf__signals_default(void);
/* The strongest request received so far (RF_SIGNAL_*). Any thread. */
int rf__signal_requested(void);

/* ---- buf.c: a growable byte buffer, small byte strings inline ---------- */
typedef struct {
  uint8_t *data;
  size_t len, cap;
  int oom; /* sticky: an append failed */
} rf_buf;
rf_status rf__buf_reserve(rf_buf *b, size_t extra);
rf_status rf__buf_append(rf_buf *b, const void *data, size_t len);
void rf__buf_free(rf_buf *b);

/* Up to RF_BLOB_INLINE bytes live inside the struct, longer ones in one
 * allocation: a million small results cost no allocation each. */
typedef struct {
  uint32_t len;
  union {
    uint8_t inl[12];
    uint8_t *ptr;
  } u;
} rf_blob;
#define RF_BLOB_INLINE 12
rf_status rf__blob_set(rf_blob *blob, const uint8_t *data, size_t len);
const uint8_t *rf__blob_data(const rf_blob *blob);
void rf__blob_free(rf_blob *blob);

#endif /* RF_BASE_H */
