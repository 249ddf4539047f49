/* SPDX-License-Identifier: BSD-3-Clause */
/* codec_check.h -- the one property the codec fuzzer and the corpus replay
 * test check on arbitrary bytes, shared so both run exactly the same code.
 *
 * For any input, rf__value_decode must either fail with RF_ECODEC (out
 * NULL, a message in rf_last_error()) or produce a value that
 *   - encodes again (RF_PACK_PLAIN: a decoded value never holds a future),
 *   - decodes again to an rf_value_equal value,
 *   - re-encodes to the same bytes (the writer is deterministic), and
 *   - survives rf_value_copy unchanged (a decoded value obeys the same
 *     invariants as one built through the API, e.g. unique map keys).
 * Memory errors and leaks are left to the sanitizers.
 */
#ifndef RF_CODEC_CHECK_H
#define RF_CODEC_CHECK_H

#include <stdint.h>
#include <string.h>

#include "data/data.h"

/* NULL when the property holds, else a short description of the breach. */
static const char *rf_codec_check(const uint8_t *data, size_t len) {
  static const uint8_t empty[1];
  const char *why = NULL;
  rf_value *v = NULL, *v2 = NULL, *c = NULL;
  rf_buf b1 = {0}, b2 = {0};
  if (data == NULL) data = empty; /* libFuzzer may pass NULL for size 0 */

  rf__error_clear();
  rf_status st = rf__value_decode(data, len, &v);
  if (st != RF_OK) {
    if (st != RF_ECODEC) why = "decode failed with a status other than ECODEC";
    else if (v != NULL) why = "failed decode left a value in *out";
    else if (rf_last_error()[0] == '\0') why = "failed decode left no message";
    return why;
  }
  if (v == NULL) return "decode succeeded but gave NULL";

  if (rf__value_encode(v, &b1) != RF_OK) {
    why = "decoded value does not encode";
  } else if (rf__value_decode(b1.data, b1.len, &v2) != RF_OK) {
    why = "re-encoded value does not decode";
  } else if (!rf_value_equal(v, v2)) {
    why = "decode(encode(v)) differs from v";
  } else if (rf__value_encode(v2, &b2) != RF_OK) {
    why = "second encode failed";
  } else if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0) {
    why = "encoding is not deterministic";
  } else if ((c = rf_value_copy(v)) == NULL) {
    why = "rf_value_copy of a decoded value failed";
  } else if (!rf_value_equal(v, c)) {
    why = "rf_value_copy of a decoded value differs from it";
  }
  rf_value_free(c);
  rf_value_free(v2);
  rf_value_free(v);
  rf__buf_free(&b1);
  rf__buf_free(&b2);
  return why;
}

#endif /* RF_CODEC_CHECK_H */
