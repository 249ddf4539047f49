/* SPDX-License-Identifier: BSD-3-Clause */
/* buf.c -- growable byte buffers and small inline byte strings.
 *
 * rf_buf backs every encoded message (the codec's packer writes straight
 * into one: data/codec.c). rf_blob keeps an encoded argument or result of
 * up to 12 bytes inside the future itself: a million-task map of small
 * integers then costs no allocation per argument or result on rank 0.
 */
#include "base.h"

#include <string.h>

rf_status rf__buf_reserve(rf_buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return RF_OK;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) {
    if (cap > SIZE_MAX / 2) return rf__error(RF_ENOMEM, "buffer too large");
    cap *= 2;
  }
  uint8_t *d = rf__realloc(b->data, cap);
  if (d == NULL) {
    b->oom = 1;
    return rf__error(RF_ENOMEM, "growing a buffer to %zu bytes", cap);
  }
  b->data = d;
  b->cap = cap;
  return RF_OK;
}

rf_status rf__buf_append(rf_buf *b, const void *data, size_t len) {
  if (len == 0) return RF_OK;
  RF_CHECK(rf__buf_reserve(b, len));
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return RF_OK;
}

void rf__buf_free(rf_buf *b) {
  rf__free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

rf_status rf__blob_set(rf_blob *blob, const uint8_t *data, size_t len) {
  if (len > UINT32_MAX) return rf__error(RF_EINVAL, "value over 4 GiB");
  rf__blob_free(blob);
  if (len <= RF_BLOB_INLINE) {
    if (len) memcpy(blob->u.inl, data, len);
  } else {
    uint8_t *p = rf__malloc(len);
    if (p == NULL) return rf__error(RF_ENOMEM, "storing %zu bytes", len);
    memcpy(p, data, len);
    blob->u.ptr = p;
  }
  blob->len = (uint32_t)len;
  return RF_OK;
}

const uint8_t *rf__blob_data(const rf_blob *blob) {
  return blob->len <= RF_BLOB_INLINE ? blob->u.inl : blob->u.ptr;
}

void rf__blob_free(rf_blob *blob) {
  if (blob->len > RF_BLOB_INLINE) rf__free(blob->u.ptr);
  blob->len = 0;
}
