/* SPDX-License-Identifier: BSD-3-Clause */
/* test_codec_budget.c -- decoding hostile bytes stays within a memory budget.
 *
 * codec.c checks each container's declared count against the bytes left
 * before allocating its item array, so one header cannot ask for more than
 * 8 bytes per byte of message. But up to RF_MAX_DEPTH nested containers
 * can each declare "all the bytes left", and each allocates before its
 * first item is read: the same bytes are counted once per level. This test
 * decodes such a message (64 nested array32 headers, each declaring the
 * rest of a 4 MiB message, then nils) with the address space limited to
 * what is in use now plus 768 MiB, and expects RF_ECODEC. As a control, a
 * legitimate 4 MiB message of the same shape but flat (a list of 4 Mi
 * nils, about 240 MiB decoded) must decode within the same budget.
 * Skipped under AddressSanitizer, which needs terabytes of address space.
 */
#include <stdlib.h>
#include <sys/resource.h>

#include "data/data.h"
#include "rf_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define RF_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RF_UNDER_ASAN 1
#endif
#endif

#ifdef RF_UNDER_ASAN
int main(void) {
  printf("test_codec_budget: PASS (skipped under AddressSanitizer)\n");
  return 0;
}
#else
enum { MSG = 4 << 20, LEVELS = 64 };

/* Bytes of address space in use now (from /proc/self/statm). */
static size_t vm_size(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%lu", &pages) != 1) pages = 0;
  fclose(f);
  return (size_t)pages * 4096;
}

static void put32(uint8_t *p, uint32_t n) {
  p[0] = (uint8_t)(n >> 24);
  p[1] = (uint8_t)(n >> 16);
  p[2] = (uint8_t)(n >> 8);
  p[3] = (uint8_t)n;
}

int main(void) {
  uint8_t *hostile = malloc(MSG), *flat = malloc(MSG);
  if (hostile == NULL || flat == NULL) return 1;
  size_t pos = 0;
  for (int k = 0; k < LEVELS; k++) {
    hostile[pos] = 0xdd; /* array32 declaring every byte left */
    put32(hostile + pos + 1, (uint32_t)(MSG - pos - 5));
    pos += 5;
  }
  memset(hostile + pos, 0xc0, MSG - pos);
  flat[0] = 0xdd;
  put32(flat + 1, MSG - 5);
  memset(flat + 5, 0xc0, MSG - 5);

  size_t used = vm_size();
  CHECK(used > 0);
  struct rlimit lim = {used + ((size_t)768 << 20), used + ((size_t)768 << 20)};
  CHECK(setrlimit(RLIMIT_AS, &lim) == 0);

  rf_value *v = NULL;
  rf_status st = rf__value_decode(flat, MSG, &v);
  CHECK_STATUS(st, RF_OK);
  CHECK_INT(rf_value_count(v), MSG - 5);
  rf_value_free(v);

  v = NULL;
  st = rf__value_decode(hostile, MSG, &v);
  if (st != RF_ECODEC) {
    fprintf(stderr,
            "%d nested array32 headers each declaring the rest of a %d-byte "
            "message: %s (%s), expected ECODEC within the budget\n",
            LEVELS, MSG, rf_status_name(st), rf_last_error());
    rf_test_failures++;
  }
  rf_value_free(v);
  free(hostile);
  free(flat);
  printf("test_codec_budget: %s (%d failed checks)\n",
         rf_test_failures ? "FAIL" : "PASS", rf_test_failures);
  return rf_test_failures ? 1 : 0;
}
#endif
