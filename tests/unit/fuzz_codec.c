/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_codec.c -- libFuzzer target for the strict msgpack reader.
 *
 * Every byte a rank receives goes through rf__value_decode, so it must
 * never crash, leak, read out of bounds or allocate without bound, and a
 * value it accepts must round-trip (codec_check.h, shared with the replay
 * test test_codec_corpus.c). Built only with clang, e.g.:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DRF_WITHOUT_MPI_H \
 *     -I include -I src src/data/{codec,frame,value}.c \
 *     src/base/{buf,alloc,status}.c tests/unit/fuzz_codec.c \
 *     $(pkg-config --cflags --libs msgpack)
 *   ./a.out -max_total_time=300 tests/unit/corpus
 * The codec needs nothing above the data layer (a decoded value never
 * holds a future, so no future hooks are installed): no stand-ins.
 */
#include <stdio.h>
#include <stdlib.h>

#include "codec_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  const char *why = rf_codec_check(data, len);
  if (why != NULL) {
    fprintf(stderr, "fuzz_codec: %s (%s)\n", why, rf_last_error());
    abort();
  }
  return 0;
}
