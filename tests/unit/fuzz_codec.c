/* fuzz_codec.c -- libFuzzer target for the strict msgpack reader.
 *
 * Every byte a rank receives goes through rf__value_decode, so it must
 * never crash, leak, read out of bounds or allocate without bound, and a
 * value it accepts must round-trip (codec_check.h, shared with the replay
 * test test_codec_corpus.c). Built only with clang, e.g.:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DRF_FUZZ_STUBS \
 *     -I include -I src src/{codec,value,buf,alloc,status}.c \
 *     tests/unit/fuzz_codec.c $(pkg-config --cflags --libs msgpack ompi-c)
 *   ./a.out -max_total_time=300 tests/unit/corpus
 * RF_FUZZ_STUBS stands in for future.c when it is not linked: a decoded
 * value never holds a future, so the stubs are never called.
 */
#include <stdio.h>
#include <stdlib.h>

#include "codec_check.h"

#ifdef RF_FUZZ_STUBS
static void never(const char *fn) {
  fprintf(stderr, "fuzz_codec: stub %s called\n", fn);
  abort();
}
void rf__future_ref(rf_future *f) { (void)f; never("rf__future_ref"); }
void rf__future_unref(rf_future *f) { (void)f; never("rf__future_unref"); }
uint64_t rf__future_key(rf_future *f) {
  (void)f;
  never("rf__future_key");
  return 0;
}
rf_status rf__future_result_bytes(rf_future *f, const uint8_t **data,
                                  size_t *len) {
  (void)f, (void)data, (void)len;
  never("rf__future_result_bytes");
  return RF_EINVAL;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  const char *why = rf_codec_check(data, len);
  if (why != NULL) {
    fprintf(stderr, "fuzz_codec: %s (%s)\n", why, rf_last_error());
    abort();
  }
  return 0;
}
