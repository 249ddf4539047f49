/* SPDX-License-Identifier: BSD-3-Clause */
/* proto.c -- the layouts of rankflow's messages: one encoder and one
 * decoder per kind (the table is in proto.h).
 *
 * Encoders write with msgpack-c's packer into an rf_buf; integers take
 * msgpack's smallest form, so every id, index and count is read back as
 * an unsigned integer whatever its C width. Decoders use the strict
 * reader (data/codec.c), which checks types and lengths before anything
 * is allocated; here they add what the format fixes: field counts,
 * ranges, nothing trailing.
 */
#include "proto.h"

#include <inttypes.h>

/* A packer appending to b (its oom flag is sticky). */
static msgpack_packer packer(rf_buf *b) {
  msgpack_packer pk;
  rf__buf_packer(b, &pk);
  return pk;
}

static rf_status bad(const char *what) {
  return rf__error(RF_ECODEC, "malformed message: %s", what);
}

/* An array header that must hold exactly n fields. */
static rf_status fields(rf_reader *r, uint32_t n, const char *what) {
  uint32_t got;
  RF_CHECK(rf__read_array(r, &got));
  return got == n ? RF_OK : bad(what);
}

static rf_status outcome_of(uint64_t v, rf_outcome *out) {
  if (v >= RF_OUTCOME_COUNT_) {
    return rf__error(RF_ECODEC, "malformed message: outcome %" PRIu64, v);
  }
  *out = (rf_outcome)v;
  return RF_OK;
}

const char *rf__outcome_name(rf_outcome outcome) {
  /* The vocabulary of states, so a report, a timeline and a log line say
   * the same word for the same end. */
  static const char *const names[RF_OUTCOME_COUNT_] = {
      "completed", "failed",  "failed",    "crashed", "cancelled",
      "not run",   "crashed", "timed-out", "stopped"};
  return (unsigned)outcome < RF_OUTCOME_COUNT_ ? names[outcome] : "unknown";
}

const char *rf__msg_kind(int tag) {
  static const char *const kinds[] = {
      "unknown", "work",  "results",  "started", "cancel",    "stop",
      "fatal",   "signal", "drain",   "step",    "parallel task",
      "member outcome", "subtask", "subtask end", "subtask cancel", "block",
      "unblock"};
  return tag > 0 && tag <= RF_TAG_UNBLOCK ? kinds[tag] : kinds[0];
}

/* ---- batches ---------------------------------------------------------------- */

void rf__msg_batch_begin(rf_buf *b) {
  /* array32 with its count patched in by rf__msg_batch_end */
  static const uint8_t header[5] = {0xdd, 0, 0, 0, 0};
  b->len = 0;
  (void)rf__buf_append(b, header, sizeof header);
}

void rf__msg_batch_end(rf_buf *b, uint32_t count) {
  if (b->oom || b->len < 5) return;
  b->data[1] = (uint8_t)(count >> 24);
  b->data[2] = (uint8_t)(count >> 16);
  b->data[3] = (uint8_t)(count >> 8);
  b->data[4] = (uint8_t)count;
}

/* The fields WORK and PAR both open a task with: id, task, attempt, key. */
static void pack_task(msgpack_packer *pk, const rf_msg_task *t) {
  (void)msgpack_pack_uint64(pk, t->id);
  (void)msgpack_pack_uint32(pk, (uint32_t)t->task);
  (void)msgpack_pack_uint32(pk, t->attempt);
  (void)msgpack_pack_uint64(pk, t->key);
}

static rf_status read_task(rf_reader *r, rf_msg_task *t, uint64_t *attempt) {
  RF_CHECK(rf__read_uint(r, &t->id));
  RF_CHECK(rf__read_uint(r, &t->task));
  RF_CHECK(rf__read_uint(r, attempt));
  return rf__read_uint(r, &t->key);
}

void rf__msg_work_add(rf_buf *b, const rf_msg_task *t) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 6);
  pack_task(&pk, t);
  (void)msgpack_pack_uint32(&pk, (t->report_start ? 1u : 0u) |
                                     (t->isolate ? 2u : 0u));
  (void)rf__buf_append(b, t->arg, t->arglen);
}

rf_status rf__msg_work_read(rf_reader *r, uint32_t *n) {
  RF_CHECK(rf__read_array(r, n));
  /* Each task takes at least 7 bytes: refuse counts the bytes cannot hold
   * before a receiver allocates room for every declared task. */
  RF_ENSURE(*n <= (size_t)(r->end - r->p) / 7, RF_ECODEC,
            "malformed message: batch of %u tasks in %zu bytes", *n,
            (size_t)(r->end - r->p));
  return RF_OK;
}

/* An attempt number as WORK and PAR carry it: 1..65535. */
static rf_status attempt_of(uint64_t v, uint32_t *out) {
  if (v == 0 || v > UINT16_MAX) {
    return rf__error(RF_ECODEC, "malformed message: attempt %" PRIu64, v);
  }
  *out = (uint32_t)v;
  return RF_OK;
}

rf_status rf__msg_work_next(rf_reader *r, rf_msg_task *t) {
  uint32_t n;
  uint64_t attempt, flags;
  RF_CHECK(rf__read_array(r, &n));
  RF_ENSURE(n == 6, RF_ECODEC, "malformed message: task of %u fields", n);
  RF_CHECK(read_task(r, t, &attempt));
  RF_CHECK(rf__read_uint(r, &flags));
  RF_CHECK(rf__read_raw(r, &t->arg, &t->arglen));
  t->report_start = (flags & 1) != 0;
  t->isolate = (flags & 2) != 0;
  return attempt_of(attempt, &t->attempt);
}

void rf__msg_results_add(rf_buf *b, const rf_msg_outcome *o) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 5);
  (void)msgpack_pack_uint64(&pk, o->id);
  (void)msgpack_pack_uint32(&pk, (uint32_t)o->outcome);
  (void)rf__buf_append(b, o->payload, o->len);
  (void)msgpack_pack_double(&pk, o->t0);
  (void)msgpack_pack_double(&pk, o->t1);
}

rf_status rf__results_add(rf_results *r, uint64_t id, rf_outcome outcome,
                          const uint8_t *payload, size_t len, double t0,
                          double t1) {
  if (r->n == 0) {
    rf__msg_batch_begin(&r->buf);
    r->first_ns = rf__mono_ns();
  }
  rf_msg_outcome o = {id, outcome, payload, len, t0, t1};
  rf__msg_results_add(&r->buf, &o);
  if (r->buf.oom) return rf__error(RF_ENOMEM, "recording an outcome");
  r->n++;
  return RF_OK;
}

rf_status rf__results_note(rf_results *r, uint64_t id, rf_outcome outcome,
                           const char *msg) {
  rf_buf b = {0};
  rf__text_encode(&b, msg);
  rf_status st = b.oom ? rf__error(RF_ENOMEM, "recording an outcome")
                       : rf__results_add(r, id, outcome, b.data, b.len, 0, 0);
  rf__buf_free(&b);
  return st;
}

void rf__results_end(rf_results *r) {
  rf__msg_batch_end(&r->buf, r->n);
  r->n = 0;
}

rf_status rf__msg_results_read(rf_reader *r, uint32_t *n) {
  return rf__read_array(r, n);
}

rf_status rf__msg_results_next(rf_reader *r, rf_msg_outcome *o) {
  uint32_t n;
  uint64_t outcome;
  RF_CHECK(rf__read_array(r, &n));
  RF_ENSURE(n == 5, RF_ECODEC, "malformed message: result of %u fields", n);
  RF_CHECK(rf__read_uint(r, &o->id));
  RF_CHECK(rf__read_uint(r, &outcome));
  RF_CHECK(rf__read_raw(r, &o->payload, &o->len));
  RF_CHECK(rf__read_double(r, &o->t0));
  RF_CHECK(rf__read_double(r, &o->t1));
  return outcome_of(outcome, &o->outcome);
}

/* ---- one number, or none ------------------------------------------------------ */

void rf__msg_word(rf_buf *b, uint64_t v) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 1);
  (void)msgpack_pack_uint64(&pk, v);
}

rf_status rf__msg_word_read(rf_reader *r, int tag, uint64_t *v) {
  uint32_t n;
  RF_CHECK(rf__read_array(r, &n));
  RF_ENSURE(n == 1, RF_ECODEC, "malformed message: %s, expected one integer",
            rf__msg_kind(tag));
  RF_CHECK(rf__read_uint(r, v));
  return rf__msg_end(r);
}

void rf__msg_drain(rf_buf *b) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 0);
}

rf_status rf__msg_drain_read(rf_reader *r) {
  RF_CHECK(fields(r, 0, rf__msg_kind(RF_TAG_DRAIN)));
  return rf__msg_end(r);
}

/* ---- FATAL ------------------------------------------------------------------- */

void rf__msg_fatal(rf_buf *b, const char *text) { rf__text_encode(b, text); }

rf_status rf__msg_fatal_read(rf_reader *r, char *out, size_t outlen) {
  return rf__text_decode(r->p, (size_t)(r->end - r->p), out, outlen);
}

/* ---- STEP -------------------------------------------------------------------- */

void rf__msg_step(rf_buf *b, uint32_t step, const uint8_t *arg, size_t len) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 2);
  (void)msgpack_pack_uint32(&pk, step);
  (void)msgpack_pack_bin_with_body(&pk, arg, len);
}

rf_status rf__msg_step_read(rf_reader *r, uint64_t *step, const uint8_t **arg,
                            size_t *len) {
  const char *bytes;
  RF_CHECK(fields(r, 2, rf__msg_kind(RF_TAG_STEP)));
  RF_CHECK(rf__read_uint(r, step));
  RF_CHECK(rf__read_bin(r, &bytes, len));
  *arg = (const uint8_t *)bytes;
  return rf__msg_end(r);
}

/* ---- PAR and PAR_DONE ---------------------------------------------------------- */

void rf__msg_par(rf_buf *b, const rf_msg_task *t, uint32_t member,
                 const int *ranks, uint32_t k) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 7);
  pack_task(&pk, t);
  (void)msgpack_pack_uint32(&pk, member);
  (void)msgpack_pack_array(&pk, k);
  for (uint32_t j = 0; j < k; j++) (void)msgpack_pack_int(&pk, ranks[j]);
  (void)rf__buf_append(b, t->arg, t->arglen);
}

rf_status rf__msg_par_read(rf_reader *r, int size, rf_msg_task *t,
                           uint32_t *member, int **ranks, uint32_t *k) {
  uint64_t attempt, m;
  *ranks = NULL;
  memset(t, 0, sizeof *t);
  RF_CHECK(fields(r, 7, rf__msg_kind(RF_TAG_PAR)));
  RF_CHECK(read_task(r, t, &attempt));
  RF_CHECK(rf__read_uint(r, &m));
  RF_CHECK(rf__read_array(r, k));
  if (*k < 2 || *k > (uint32_t)size || m >= *k) {
    return rf__error(RF_ECODEC, "malformed message: parallel task of %u", *k);
  }
  int *list = rf__calloc(*k, sizeof *list);
  if (list == NULL) return rf__error(RF_ENOMEM, "a parallel task's members");
  rf_status st = RF_OK;
  for (uint32_t i = 0; st == RF_OK && i < *k; i++) {
    uint64_t rank;
    st = rf__read_uint(r, &rank);
    if (st == RF_OK && (rank < 1 || rank >= (uint64_t)size ||
                        (i > 0 && (int)rank <= list[i - 1]))) {
      st = rf__error(RF_ECODEC, "malformed message: member rank %" PRIu64,
                     rank);
    }
    list[i] = (int)rank;
  }
  if (st == RF_OK) st = rf__read_raw(r, &t->arg, &t->arglen);
  if (st == RF_OK && (rf__msg_end(r) != RF_OK ||
                      attempt_of(attempt, &t->attempt) != RF_OK)) {
    st = bad("parallel task");
  }
  if (st != RF_OK) {
    rf__free(list);
    return st;
  }
  *member = (uint32_t)m;
  *ranks = list;
  return RF_OK;
}

void rf__msg_par_done(rf_buf *b, const rf_msg_outcome *o, uint32_t member) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 6);
  (void)msgpack_pack_uint64(&pk, o->id);
  (void)msgpack_pack_uint32(&pk, member);
  (void)msgpack_pack_uint32(&pk, (uint32_t)o->outcome);
  (void)rf__buf_append(b, o->payload, o->len);
  (void)msgpack_pack_double(&pk, o->t0);
  (void)msgpack_pack_double(&pk, o->t1);
}

rf_status rf__msg_par_done_read(rf_reader *r, rf_msg_outcome *o,
                                uint64_t *member) {
  uint64_t outcome;
  RF_CHECK(fields(r, 6, rf__msg_kind(RF_TAG_PAR_DONE)));
  RF_CHECK(rf__read_uint(r, &o->id));
  RF_CHECK(rf__read_uint(r, member));
  RF_CHECK(rf__read_uint(r, &outcome));
  RF_CHECK(rf__read_raw(r, &o->payload, &o->len));
  RF_CHECK(rf__read_double(r, &o->t0));
  RF_CHECK(rf__read_double(r, &o->t1));
  RF_ENSURE(rf__msg_end(r) == RF_OK && outcome < RF_OUTCOME_COUNT_, RF_ECODEC,
            "malformed message: member outcome");
  o->outcome = (rf_outcome)outcome;
  return RF_OK;
}

/* ---- subtasks ----------------------------------------------------------------- */

rf_status rf__msg_submit(rf_buf *b, uint64_t parent, uint64_t token,
                         uint32_t task, const rf_value *arg) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 4);
  (void)msgpack_pack_uint64(&pk, parent);
  (void)msgpack_pack_uint64(&pk, token);
  (void)msgpack_pack_uint32(&pk, task);
  return rf__value_pack(&pk, arg, RF_PACK_PLAIN, NULL);
}

rf_status rf__msg_submit_read(rf_reader *r, uint64_t *parent, uint64_t *token,
                              uint64_t *task, const uint8_t **arg,
                              size_t *len) {
  RF_CHECK(fields(r, 4, rf__msg_kind(RF_TAG_SUBMIT)));
  RF_CHECK(rf__read_uint(r, parent));
  RF_CHECK(rf__read_uint(r, token));
  RF_CHECK(rf__read_uint(r, task));
  RF_CHECK(rf__read_raw(r, arg, len));
  return rf__msg_end(r);
}

void rf__msg_subdone(rf_buf *b, uint64_t token, uint32_t state,
                     uint32_t attempts, uint64_t key, const uint8_t *result,
                     size_t len, const char *error) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 5);
  (void)msgpack_pack_uint64(&pk, token);
  (void)msgpack_pack_uint32(&pk, state);
  (void)msgpack_pack_uint32(&pk, attempts);
  (void)msgpack_pack_uint64(&pk, key);
  if (state == RF_STATE_COMPLETED) {
    (void)rf__buf_append(b, result, len);
  } else {
    (void)msgpack_pack_str_with_body(&pk, error, strlen(error));
  }
}

rf_status rf__msg_subdone_read(rf_reader *r, uint64_t *token, uint64_t *state,
                               uint64_t *attempts, uint64_t *key,
                               const uint8_t **payload, size_t *len) {
  RF_CHECK(fields(r, 5, rf__msg_kind(RF_TAG_SUBDONE)));
  RF_CHECK(rf__read_uint(r, token));
  RF_CHECK(rf__read_uint(r, state));
  RF_CHECK(rf__read_uint(r, attempts));
  RF_CHECK(rf__read_uint(r, key));
  RF_CHECK(rf__read_raw(r, payload, len));
  RF_ENSURE(rf__msg_end(r) == RF_OK && *state >= RF_STATE_COMPLETED &&
                *state < RF_STATE_COUNT && *attempts <= UINT16_MAX,
            RF_ECODEC, "malformed message: subtask end");
  return RF_OK;
}

void rf__msg_subcancel(rf_buf *b, uint64_t parent, uint64_t token) {
  msgpack_packer pk = packer(b);
  (void)msgpack_pack_array(&pk, 2);
  (void)msgpack_pack_uint64(&pk, parent);
  (void)msgpack_pack_uint64(&pk, token);
}

rf_status rf__msg_subcancel_read(rf_reader *r, uint64_t *parent,
                                 uint64_t *token) {
  RF_CHECK(fields(r, 2, rf__msg_kind(RF_TAG_SUBCANCEL)));
  RF_CHECK(rf__read_uint(r, parent));
  RF_CHECK(rf__read_uint(r, token));
  return rf__msg_end(r);
}
