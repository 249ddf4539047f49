/* SPDX-License-Identifier: BSD-3-Clause */
/* test_journal_version.c -- the journal's format version and its marks.
 * A journal written now is version 2; one that says version 1 (rankflow
 * 0.2's, task records only) is read with its results; one that says a
 * newer version is refused with RF_EUSAGE naming the version. Marks
 * written (started, crashed, crashed for good) come back per key when the
 * journal is opened again; a task's result survives beside them. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "rank0/coord.h"
#include "rf_test.h"

/* Rewrite the header record's version (the byte after the key
 * "rankflow_journal" in its msgpack map) and its checksum. */
static int set_version(const char *path, int version) {
  FILE *f = fopen(path, "r+b");
  if (f == NULL) return -1;
  unsigned char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  const char *key = "rankflow_journal";
  size_t klen = strlen(key), at = 0;
  for (size_t i = 23; i + klen < n; i++) {
    if (memcmp(buf + i, key, klen) == 0) {
      at = i + klen;
      break;
    }
  }
  if (at == 0) return fclose(f), -1;
  buf[at] = (unsigned char)version; /* a positive fixint */
  /* The header record starts after the 11-byte magic: u32 length, u64
   * XXH3 of the payload, payload. */
  uint32_t len = buf[11] | buf[12] << 8 | buf[13] << 16 | (uint32_t)buf[14] << 24;
  uint64_t h = XXH3_64bits(buf + 23, len);
  for (int i = 0; i < 8; i++) buf[15 + i] = (unsigned char)(h >> (8 * i));
  rewind(f);
  size_t w = fwrite(buf, 1, n, f);
  return fclose(f) == 0 && w == n ? 0 : -1;
}

int main(void) {
  char path[] = "/tmp/rf_journal_version_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  unlink(path);
  rf_value *identity = rf_value_map();
  rf_marks marks = {0};
  rf_journal *j;
  uint64_t records;
  const uint8_t result[] = {0x2a}; /* msgpack 42 */

  REQUIRE_OK(rf__journal_open(path, "flow", identity, &marks, &records, &j));
  CHECK_INT(records, 0);
  CHECK_OK(rf__journal_append(j, 7, result, sizeof result));
  CHECK_OK(rf__journal_mark(j, RF_JOURNAL_STARTED, 8));
  CHECK_OK(rf__journal_mark(j, RF_JOURNAL_CRASHED, 9));
  CHECK_OK(rf__journal_mark(j, RF_JOURNAL_CRASHED, 9));
  CHECK_OK(rf__journal_mark(j, RF_JOURNAL_CRASHED_FINAL, 9));
  CHECK_OK(rf__journal_close(j));

  /* Reopened: the result and every mark are back. */
  REQUIRE_OK(rf__journal_open(path, "flow", identity, &marks, &records, &j));
  CHECK_INT(records, 1);
  rf_blob got = {0};
  rf_status err;
  CHECK(rf__journal_lookup(j, 7, &got, &err) == 1);
  CHECK(got.len == 1 && rf__blob_data(&got)[0] == 0x2a);
  rf__blob_free(&got);
  rf_mark *m8 = rf__marks_find(&marks, 8), *m9 = rf__marks_find(&marks, 9);
  CHECK(m8 != NULL && m8->started == 1 && m8->crashes == 0 && !m8->final);
  CHECK(m9 != NULL && m9->crashes == 2 && m9->final == 1 && !m9->started);
  CHECK(rf__marks_find(&marks, 7) == NULL);
  CHECK_OK(rf__journal_close(j));
  rf__marks_free(&marks);

  /* Version 1: read as it is. */
  CHECK(set_version(path, 1) == 0);
  CHECK_OK(rf__journal_open(path, "flow", identity, &marks, &records, &j));
  CHECK_INT(records, 1);
  CHECK_OK(rf__journal_close(j));
  rf__marks_free(&marks);

  /* A newer version: refused, naming it. */
  CHECK(set_version(path, 3) == 0);
  j = NULL;
  CHECK_STATUS(rf__journal_open(path, "flow", identity, &marks, &records, &j),
               RF_EUSAGE);
  CHECK(j == NULL);
  CHECK_CONTAINS(rf_last_error(), "is a version 3 journal");
  CHECK_CONTAINS(rf_last_error(), "reads versions 1 and 2");
  rf__marks_free(&marks);

  rf_value_free(identity);
  unlink(path);
  printf("test_journal_version: %s (%d failed checks)\n",
         rf_test_failures ? "FAIL" : "PASS", rf_test_failures);
  return rf_test_failures != 0;
}
