/* SPDX-License-Identifier: BSD-3-Clause */
/* data.h -- the data layer: values, frames, and the codec between them
 * and bytes.
 *
 * Arguments and results are trees of values; frames are values too; both
 * cross ranks, and go into the journal, as msgpack bytes written and read
 * here. This layer knows nothing of MPI, tasks or the coordinator. The one
 * thing above it that a value can hold is a future: values keep futures
 * by reference and the codec writes them through rf_future_hooks, which
 * the top layer installs (api/flow.c's table, for rank 0's futures and a
 * worker's handles alike; rf_init sets it).
 * Included by every layer above base/; includes base.h and msgpack.h.
 */
#ifndef RF_DATA_H
#define RF_DATA_H

#include <msgpack.h>

#include "base/base.h"

/* ---- value.c ------------------------------------------------------------ */
struct rf_value {
  uint8_t type;
  uint32_t count; /* items of a list / entries of a map */
  uint32_t cap;
  union {
    int b;
    int64_t i;
    double d;
    struct {
      char *ptr;
      size_t len;
    } str; /* strings and bytes; data stored after the struct */
    struct {
      rf_value **items;
      char **keys; /* maps only */
    } c;
    rf_future *future;
    rf_frame *frame;
  } u;
};
/* Room for one more item (and key) in a list or map, doubling the arrays
 * but never past limit items. */
rf_status rf__value_reserve(rf_value *c, uint32_t limit);
/* Visit every future in value (depth first, in order). */
typedef rf_status (*rf_future_visit_fn)(rf_future *f, void *user);
rf_status rf__value_visit_futures(const rf_value *v, rf_future_visit_fn fn,
                                  void *user);

/* What values and the codec ask of a future, installed once by the layer
 * that owns futures before any exists. ref/unref: a value holds the
 * future. key: the task key, written in place of the future when keys are
 * hashed (RF_PACK_KEY). result: its encoded result, written in place of
 * the future when an argument is resolved for dispatch (RF_PACK_RESOLVE);
 * RF_ESTATE if it has none. */
typedef struct {
  void (*ref)(rf_future *f);
  void (*unref)(rf_future *f);
  uint64_t (*key)(const rf_future *f);
  rf_status (*result)(const rf_future *f, const uint8_t **data, size_t *len);
} rf_future_hooks;
void rf__value_set_future_hooks(const rf_future_hooks *hooks);
extern const rf_future_hooks *rf__future_hooks;

/* ---- codec.c: values to bytes and back ---------------------------------- */
/* Largest message a rank accepts, and the deepest nesting of values. */
#define RF_MAX_MESSAGE ((size_t)1 << 30)
/* Largest single encoded argument or result (room left for the framing),
 * and the size at which a batch of tasks or outcomes is sent as it is. */
#define RF_MAX_VALUE (RF_MAX_MESSAGE - 4096)
#define RF_BATCH_BYTES ((size_t)8 << 20)
#define RF_MAX_DEPTH 64

/* msgpack extension types: a future's key (hashed only, never decoded)
 * and a frame. */
#define RF__EXT_FUTURE_KEY 1
#define RF__EXT_FRAME 2

/* A msgpack_packer whose writes append to b (failures set b->oom). */
void rf__buf_packer(rf_buf *b, msgpack_packer *pk);

/* How futures inside a value are written. */
typedef enum {
  RF_PACK_PLAIN,   /* a future is an error (RF_EINVAL) */
  RF_PACK_KEY,     /* a future is written as its task key (for hashing) */
  RF_PACK_RESOLVE  /* a future is written as its result (for dispatch) */
} rf_pack_mode;
/* Write v; *nfutures (may be NULL) counts futures met. */
rf_status rf__value_pack(msgpack_packer *pk, const rf_value *v,
                         rf_pack_mode mode, size_t *nfutures);
rf_status rf__value_encode(const rf_value *v, rf_buf *out);

/* A strict reader over untrusted bytes: every read checks the type and
 * the bytes left, and a container's count is checked against the bytes
 * left before anything is allocated. */
typedef struct {
  const uint8_t *p, *end;
} rf_reader;
void rf__reader_init(rf_reader *r, const void *data, size_t len);
rf_status rf__read_array(rf_reader *r, uint32_t *n);
rf_status rf__read_uint(rf_reader *r, uint64_t *out);
rf_status rf__read_int(rf_reader *r, int64_t *out);
rf_status rf__read_double(rf_reader *r, double *out);
rf_status rf__read_str(rf_reader *r, const char **s, size_t *len);
rf_status rf__read_bin(rf_reader *r, const char **s, size_t *len);
/* Read one value into a new tree (caller frees). */
rf_status rf__read_value(rf_reader *r, rf_value **out);
/* Skip one well-formed value, giving its bytes (for copying raw). */
rf_status rf__read_raw(rf_reader *r, const uint8_t **start, size_t *len);
/* RF_ECODEC unless every byte has been read. */
rf_status rf__read_end(const rf_reader *r);
/* Decode a whole buffer holding exactly one value. */
rf_status rf__value_decode(const void *data, size_t len, rf_value **out);

/* A text: one string as a whole encoded value, which is how an attempt's
 * failure travels in place of its result. encode replaces b's bytes
 * (failures set b->oom); decode copies it into out (truncated to outlen),
 * RF_ECODEC unless the bytes hold exactly one string. */
void rf__text_encode(rf_buf *b, const char *text);
rf_status rf__text_decode(const uint8_t *p, size_t len, char *out,
                          size_t outlen);

/* ---- frame.c: the frame extension ---------------------------------------- */
#define RF_FRAME_MAX_COLUMNS 4096 /* on the wire; frames are summaries */
rf_status rf__frame_pack(msgpack_packer *pk, const rf_frame *f);
/* Decode an extension body (untrusted) into a new frame. */
rf_status rf__frame_unpack(const uint8_t *p, size_t len, rf_frame **out);

#endif /* RF_DATA_H */
