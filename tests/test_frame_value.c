/* SPDX-License-Identifier: BSD-3-Clause */
/* test_frame_value.c -- frames as values: built, copied, compared, carried
 * by the codec bit for bit (a task's frame reaches rank 0 unchanged), and
 * refused when the extension's bytes are malformed; printed in pandas'
 * layout (labels left, columns right-aligned, %e for large magnitudes). */
#include <math.h>
#include <stdlib.h>

#include "data/data.h"
#include "rf_test.h"

static rf_frame *make(void) {
  static const char *const labels[3] = {"count", "mean", "max"};
  double a[3] = {3.14496e7, -0.0, NAN};
  double b[3] = {1.5, 2.25, -3.0};
  int64_t c[3] = {7, -8, INT64_MAX};
  rf_frame *f;
  if (rf_frame_create(3, &f) != RF_OK) return NULL;
  for (size_t i = 0; i < 3; i++) rf_frame_set_label(f, i, labels[i]);
  rf_frame_add_f64(f, "x", a);
  rf_frame_add_f64(f, "y", b);
  rf_frame_add_i64(f, "n", c);
  return f;
}

int main(void) {
  rf_frame *f = make();
  CHECK(f != NULL && rf_frame_columns(f) == 3);
  CHECK_STATUS(rf_frame_add_f64(f, "x", rf_frame_f64(f, 0)), RF_EINVAL);
  CHECK_STATUS(rf_frame_set_label(f, 3, "out"), RF_EINVAL);
  CHECK(rf_frame_f64(f, 2) == NULL && rf_frame_i64(f, 2)[2] == INT64_MAX);

  rf_frame *copy = rf_frame_copy(f);
  CHECK(rf_frame_equal(f, copy));
  double other[3] = {1, 2, 3};
  rf_frame_add_f64(copy, "z", other);
  CHECK(!rf_frame_equal(f, copy));
  rf_frame_free(copy);

  /* Through the codec, inside a list, bit for bit (NaN and -0.0 too). */
  rf_value *list = rf_value_list();
  CHECK_OK(rf_value_list_append(list, rf_value_frame(rf_frame_copy(f))));
  rf_buf bytes = {0};
  CHECK_OK(rf__value_encode(list, &bytes));
  rf_value *back = NULL;
  CHECK_OK(rf__value_decode(bytes.data, bytes.len, &back));
  const rf_frame *g = NULL;
  CHECK_OK(rf_value_get_frame(rf_value_item(back, 0), &g));
  CHECK(g != NULL && rf_frame_equal(f, g));
  CHECK(rf_value_equal(list, back));

  /* Every truncation, and a flipped byte in each position, is refused or
   * decodes to something well formed; never a crash. */
  for (size_t cut = 0; cut < bytes.len; cut++) {
    rf_value *v = NULL;
    CHECK_STATUS(rf__value_decode(bytes.data, cut, &v), RF_ECODEC);
  }
  for (size_t i = 0; i < bytes.len; i++) {
    bytes.data[i] ^= 0x5a;
    rf_value *v = NULL;
    if (rf__value_decode(bytes.data, bytes.len, &v) == RF_OK) rf_value_free(v);
    bytes.data[i] ^= 0x5a;
  }
  rf__buf_free(&bytes);
  rf_value_free(back);
  rf_value_free(list);

  /* Printing as pandas prints the same frame (pandas' own output for
   * it is checked against ours in the HDF5 tests). */
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  CHECK_OK(rf_frame_print(f, mem));
  fclose(mem);
  CHECK_CONTAINS(text, "count  31449600.0");
  CHECK_CONTAINS(text, "mean         -0.0");
  CHECK_CONTAINS(text, "max           NaN -3.00  9223372036854775807");
  free(text);
  rf_frame_free(f);
  printf("test_frame_value: %s\n", rf_test_failures ? "FAIL" : "PASS");
  return rf_test_failures != 0;
}
