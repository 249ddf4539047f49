/* SPDX-License-Identifier: BSD-3-Clause */
/* test_codec_corpus.c -- replay the codec fuzzer's corpus as a unit test.
 *
 * fuzz_codec.c is only built with clang; this runs the same check
 * (codec_check.h: decode fails cleanly, or re-encodes and decodes to an
 * equal value) over every file in the corpus directory given as argv[1],
 * so the seeds and every crasher found so far are regression tests in the
 * ordinary gcc build and under the ASan preset.
 */
#include <dirent.h>
#include <stdlib.h>

#include "codec_check.h"
#include "rf_test.h"

/* Whole file into a malloc'd buffer of exactly its size (so ASan sees a
 * read past the end); NULL on error. */
static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 4096, n = 0;
  uint8_t *p = malloc(cap);
  size_t got;
  while (p != NULL && (got = fread(p + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *q = realloc(p, cap *= 2);
      if (q == NULL) free(p);
      p = q;
    }
  }
  int err = ferror(f);
  fclose(f);
  if (p == NULL || err) {
    free(p);
    return NULL;
  }
  uint8_t *exact = malloc(n ? n : 1);
  if (exact != NULL) memcpy(exact, p, n);
  free(p);
  *len = n;
  return exact;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 1;
  }
  DIR *d = opendir(argv[1]);
  if (d == NULL) {
    fprintf(stderr, "cannot open %s\n", argv[1]);
    printf("test_codec_corpus: FAIL (no corpus)\n");
    return 1;
  }
  int files = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    size_t len = 0;
    uint8_t *data = slurp(path, &len);
    if (data == NULL) {
      fprintf(stderr, "%s: cannot read\n", path);
      rf_test_failures++;
      continue;
    }
    const char *why = rf_codec_check(data, len);
    if (why != NULL) {
      fprintf(stderr, "%s (%zu bytes): %s (%s)\n", e->d_name, len, why,
              rf_last_error());
      rf_test_failures++;
    }
    free(data);
    files++;
  }
  closedir(d);
  CHECK(files >= 10);
  printf("test_codec_corpus: %s (%d files, %d failed checks)\n",
         rf_test_failures ? "FAIL" : "PASS", files, rf_test_failures);
  return rf_test_failures ? 1 : 0;
}
