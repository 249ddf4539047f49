/* SPDX-License-Identifier: BSD-3-Clause */
/* proto.h -- every message between rank 0 and a worker, in one place.
 *
 * A message is an MPI tag (its kind) and a msgpack body. proto.c is the
 * only code that writes or reads a body: one encoder and one decoder per
 * kind, so a layout is changed in one place and both ends agree. Encoders
 * append to an rf_buf whose out-of-memory flag is sticky (rf__send refuses
 * such a buffer), so a message is built without a check per field.
 * Decoders read untrusted bytes: they check every field's type, the
 * counts and ranges the format itself fixes, and that nothing trails;
 * whatever needs the receiver's state (is this task registered, does
 * that rank hold it) the receiver checks. A malformed body is RF_ECODEC
 * ("malformed message: ..."), which ends the job with exit 3.
 *
 *   tag        way     body
 *   WORK       0 -> w  batch of [id, task, attempt, key, started?, arg]
 *   RESULTS    w -> 0  batch of [id, outcome, payload, t0, t1]
 *   STARTED    w -> 0  [id]            the lone task of a batch started
 *   CANCEL     0 -> w  [id]
 *   STOP       0 -> w  [exit code]     leave with it
 *   FATAL      w -> 0  "message"       this rank hit an error
 *   SIGNAL     w -> 0  [kind]          this rank got a signal
 *   DRAIN      0 -> w  []              hand back unstarted tasks
 *   STEP       0 -> w  [step, arg]     run a collective step
 *   PAR        0 -> w  [id, task, attempt, key, member, [ranks], arg]
 *   PAR_DONE   w -> 0  [id, member, outcome, payload, t0, t1]
 *   SUBMIT     w -> 0  [parent id, token, task, arg]  a task's subtask
 *   SUBDONE    0 -> w  [token, state, attempts, key, payload]
 *   SUBCANCEL  w -> 0  [parent id, token]
 *   BLOCK      w -> 0  [id]            it waits on subtasks
 *   UNBLOCK    w -> 0  [id]            it goes on
 * A batch is an array32 whose count is patched in when it is complete.
 * arg and payload are encoded values copied as they are: an attempt's
 * payload is its result, or for any other outcome a text (data.h) saying
 * why. Ids name rank 0's futures (generation << 32 | index); a token
 * names a worker's handle of a subtask.
 */
#ifndef RF_PROTO_H
#define RF_PROTO_H

#include "data/data.h"

enum {
  RF_TAG_WORK = 1,
  RF_TAG_RESULTS = 2,
  RF_TAG_STARTED = 3,
  RF_TAG_CANCEL = 4,
  RF_TAG_STOP = 5,
  RF_TAG_FATAL = 6,
  RF_TAG_SIGNAL = 7,
  RF_TAG_DRAIN = 8,
  RF_TAG_STEP = 9,
  RF_TAG_PAR = 10,
  RF_TAG_PAR_DONE = 11,
  RF_TAG_SUBMIT = 12,
  RF_TAG_SUBDONE = 13,
  RF_TAG_SUBCANCEL = 14,
  RF_TAG_BLOCK = 15,
  RF_TAG_UNBLOCK = 16
};

/* How an attempt ended, as reported by whoever ran it. */
typedef enum {
  RF_OUTCOME_OK,
  RF_OUTCOME_TRANSIENT,
  RF_OUTCOME_PERMANENT,
  RF_OUTCOME_CRASHED,
  RF_OUTCOME_CANCELLED, /* dropped before running, or ran while cancelled */
  RF_OUTCOME_NOTRUN,    /* handed back unstarted (drain) */
  RF_OUTCOME_KILLED,    /* its task host died: retried, then crashed */
  RF_OUTCOME_TIMED_OUT, /* past its time limit: retried, then timed-out */
  RF_OUTCOME_STOPPED,   /* killed because the job stops or drains */
  RF_OUTCOME_COUNT_
} rf_outcome;

/* How the reports and logs name an outcome ("timed-out"). */
const char *rf__outcome_name(rf_outcome outcome);

/* An attempt to run, as WORK and PAR carry it. Decoded, arg points into
 * the message; task is a registry index (the receiver checks it). */
typedef struct {
  uint64_t id, key;
  uint64_t task;     /* a registry index, as sent */
  uint32_t attempt;  /* 1..65535 */
  int report_start;  /* WORK: report STARTED when it starts */
  int isolate;       /* WORK: run it in a task host (a resume's choice) */
  const uint8_t *arg;
  size_t arglen;
} rf_msg_task;

/* An attempt's end, as RESULTS and PAR_DONE carry it. */
typedef struct {
  uint64_t id;
  rf_outcome outcome;
  const uint8_t *payload;
  size_t len;
  double t0, t1;
} rf_msg_outcome;

/* RF_ECODEC unless the whole message was read (after a batch's items). */
#define rf__msg_end rf__read_end

/* The kind a tag names, for messages ("started"; "unknown" for another). */
const char *rf__msg_kind(int tag);

/* ---- batches: WORK and RESULTS --------------------------------------------
 * begin empties b and leaves room for the count; add appends one item; end
 * patches the count in. Reading: read gives the count (checked against the
 * bytes there), next each item, then rf__msg_end. */
void rf__msg_batch_begin(rf_buf *b);
void rf__msg_batch_end(rf_buf *b, uint32_t count);
void rf__msg_work_add(rf_buf *b, const rf_msg_task *t);
rf_status rf__msg_work_read(rf_reader *r, uint32_t *n);
rf_status rf__msg_work_next(rf_reader *r, rf_msg_task *t);
void rf__msg_results_add(rf_buf *b, const rf_msg_outcome *o);
/* A RESULTS batch built one outcome at a time, as a worker and a task
 * host both do: add begins it, end patches the count in and leaves the
 * message in buf (n is 0 again). A note is an outcome carrying a text. */
typedef struct {
  rf_buf buf;
  uint32_t n;
  uint64_t first_ns; /* when the first outcome of this batch came */
} rf_results;
rf_status rf__results_add(rf_results *r, uint64_t id, rf_outcome outcome,
                          const uint8_t *payload, size_t len, double t0,
                          double t1);
rf_status rf__results_note(rf_results *r, uint64_t id, rf_outcome outcome,
                           const char *msg);
void rf__results_end(rf_results *r);
rf_status rf__msg_results_read(rf_reader *r, uint32_t *n);
rf_status rf__msg_results_next(rf_reader *r, rf_msg_outcome *o);

/* ---- one number: STARTED, CANCEL, STOP, SIGNAL, BLOCK, UNBLOCK ---------
 * Reading names the kind (tag) when the body is not one number. */
void rf__msg_word(rf_buf *b, uint64_t v);
rf_status rf__msg_word_read(rf_reader *r, int tag, uint64_t *v);

/* ---- DRAIN: nothing ------------------------------------------------------ */
void rf__msg_drain(rf_buf *b);
rf_status rf__msg_drain_read(rf_reader *r);

/* ---- FATAL: a text (truncated to outlen on reading) ---------------------- */
void rf__msg_fatal(rf_buf *b, const char *text);
rf_status rf__msg_fatal_read(rf_reader *r, char *out, size_t outlen);

/* ---- STEP ------------------------------------------------------------------ */
void rf__msg_step(rf_buf *b, uint32_t step, const uint8_t *arg, size_t len);
rf_status rf__msg_step_read(rf_reader *r, uint64_t *step, const uint8_t **arg,
                            size_t *len);

/* ---- PAR and PAR_DONE ----------------------------------------------------
 * ranks: the k members' world ranks, ascending; the member runs as
 * ranks[member]. Reading checks 2 <= k <= size, member < k and ranks
 * ascending in 1..size-1; *ranks is allocated (caller frees). */
void rf__msg_par(rf_buf *b, const rf_msg_task *t, uint32_t member,
                 const int *ranks, uint32_t k);
rf_status rf__msg_par_read(rf_reader *r, int size, rf_msg_task *t,
                           uint32_t *member, int **ranks, uint32_t *k);
void rf__msg_par_done(rf_buf *b, const rf_msg_outcome *o, uint32_t member);
rf_status rf__msg_par_done_read(rf_reader *r, rf_msg_outcome *o,
                                uint64_t *member);

/* ---- SUBMIT, SUBDONE, SUBCANCEL --------------------------------------------
 * SUBMIT's arg is written from a value without futures (RF_EINVAL when it
 * holds one, which subtasks may not). SUBDONE's payload is the result when
 * state is completed (result, len), else the text error. Reading SUBDONE
 * checks that state is a final one and attempts fits 16 bits. */
rf_status rf__msg_submit(rf_buf *b, uint64_t parent, uint64_t token,
                         uint32_t task, const rf_value *arg);
rf_status rf__msg_submit_read(rf_reader *r, uint64_t *parent, uint64_t *token,
                              uint64_t *task, const uint8_t **arg,
                              size_t *len);
void rf__msg_subdone(rf_buf *b, uint64_t token, uint32_t state,
                     uint32_t attempts, uint64_t key, const uint8_t *result,
                     size_t len, const char *error);
rf_status rf__msg_subdone_read(rf_reader *r, uint64_t *token, uint64_t *state,
                               uint64_t *attempts, uint64_t *key,
                               const uint8_t **payload, size_t *len);
void rf__msg_subcancel(rf_buf *b, uint64_t parent, uint64_t token);
rf_status rf__msg_subcancel_read(rf_reader *r, uint64_t *parent,
                                 uint64_t *token);

#endif /* RF_PROTO_H */
