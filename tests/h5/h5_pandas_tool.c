/* SPDX-License-Identifier: BSD-3-Clause */
/* h5_pandas_tool.c -- the C side of the pandas check (h5_pandas_check.sh).
 *
 *   --write DIR   writes every frame of h5_frames.h to DIR/<name>.h5 under
 *                 key <name>, with attributes and a /run group, and lists
 *                 what pandas and h5py must find in DIR/expected.txt
 *   --read FILE --key KEY --expect NAME
 *                 reads FILE (written by pandas itself) and checks it is
 *                 frame NAME bit for bit
 *
 * It runs as a job does: rf_init, then the flow (rank 0, the MPI thread)
 * does the HDF5 work, so HDF5 starts after MPI as it does in a real run.
 *
 * expected.txt, one record per line, fields separated by tabs; values as
 * the hex of their 64 bits (NaN payloads and -0.0 survive text that way):
 *   frame <name> <file> <key>
 *   label <text>                       one per row, in order
 *   column <name> f64|i64 <bits>...    one per column, in order
 *   attr <group> <name> str|int|double <value>   (int decimal, double bits)
 *   end
 */
#include <inttypes.h>
#include <stdlib.h>

#include "h5_frames.h"
#include "rf_test.h"

typedef struct {
  const char *write_dir, *read_file, *key, *expect;
  int size;
} config;

static void attrs_for(const char *name, rf_value **attrs, rf_value **run,
                      int ranks) {
  *attrs = rf_value_map();
  rf_value_map_set(*attrs, "title", rf_value_string("rankflow test frame"));
  rf_value_map_set(*attrs, "frame", rf_value_string(name));
  rf_value_map_set(*attrs, "note", rf_value_string("héllo, σ"));
  rf_value_map_set(*attrs, "rows", rf_value_int(1000));
  rf_value_map_set(*attrs, "seed", rf_value_int(INT64_MIN));
  rf_value_map_set(*attrs, "scale", rf_value_double(0.1));
  *run = rf_value_map();
  rf_value_map_set(*run, "ranks", rf_value_int(ranks));
  rf_value_map_set(*run, "host", rf_value_string("test-host"));
  rf_value_map_set(*run, "wall_seconds", rf_value_double(1.25));
  rf_value_map_set(*run, "version", rf_value_string(RF_VERSION_STRING));
}

static uint64_t bits_of(const void *p) {
  uint64_t u;
  memcpy(&u, p, 8);
  return u;
}

static void print_attrs(FILE *out, const char *group, const rf_value *map) {
  for (size_t i = 0; i < rf_value_count(map); i++) {
    const rf_value *v = rf_value_item(map, i);
    const char *s;
    size_t len;
    int64_t n;
    double d;
    fprintf(out, "attr\t%s\t%s\t", group, rf_value_key(map, i));
    if (rf_value_get_string(v, &s, &len) == RF_OK) {
      fprintf(out, "str\t%s\n", s);
    } else if (rf_value_get_int(v, &n) == RF_OK) {
      fprintf(out, "int\t%" PRId64 "\n", n);
    } else if (rf_value_get_double(v, &d) == RF_OK) {
      fprintf(out, "double\t%016" PRIx64 "\n", bits_of(&d));
    }
  }
}

static void print_frame(FILE *out, const char *name, const rf_frame *f,
                        const rf_value *attrs, const rf_value *run) {
  fprintf(out, "frame\t%s\t%s.h5\t%s\n", name, name, name);
  for (size_t i = 0; i < rf_frame_rows(f); i++) {
    fprintf(out, "label\t%s\n", rf_frame_label(f, i));
  }
  for (size_t c = 0; c < rf_frame_columns(f); c++) {
    int f64 = rf_frame_column_type(f, c) == RF_COLUMN_F64;
    const void *data = f64 ? (const void *)rf_frame_f64(f, c)
                           : (const void *)rf_frame_i64(f, c);
    fprintf(out, "column\t%s\t%s", rf_frame_column_name(f, c),
            f64 ? "f64" : "i64");
    for (size_t i = 0; i < rf_frame_rows(f); i++) {
      fprintf(out, "\t%016" PRIx64, bits_of((const char *)data + i * 8));
    }
    fputc('\n', out);
  }
  print_attrs(out, name, attrs);
  print_attrs(out, "run", run);
  fprintf(out, "end\n");
}

static rf_status write_all(const config *cfg) {
  char path[1024];
  snprintf(path, sizeof path, "%s/expected.txt", cfg->write_dir);
  FILE *out = fopen(path, "w");
  if (out == NULL) {
    perror(path);
    return RF_EIO;
  }
  for (size_t i = 0; h5t_names[i] != NULL; i++) {
    const char *name = h5t_names[i];
    rf_frame *f = h5t_frame(name);
    rf_value *attrs, *run;
    attrs_for(name, &attrs, &run, cfg->size);
    snprintf(path, sizeof path, "%s/%s.h5", cfg->write_dir, name);
    CHECK(f != NULL);
    CHECK_OK(rf_frame_write_hdf5(path, name, f, attrs, run));
    print_frame(out, name, f, attrs, run);
    rf_frame_free(f);
    rf_value_free(attrs);
    rf_value_free(run);
  }
  CHECK(fclose(out) == 0);
  return RF_OK;
}

static rf_status read_one(const config *cfg) {
  rf_frame *want = h5t_frame(cfg->expect), *got = NULL;
  CHECK(want != NULL);
  CHECK_OK(rf_frame_read_hdf5(cfg->read_file, cfg->key, &got));
  if (got != NULL && !rf_frame_equal(got, want)) {
    fprintf(stderr, "%s:%s is not frame %s; read:\n", cfg->read_file,
            cfg->key, cfg->expect);
    rf_frame_print(got, stderr);
    fprintf(stderr, "expected:\n");
    rf_frame_print(want, stderr);
    rf_test_failures++;
  }
  rf_frame_free(got);
  rf_frame_free(want);
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  config *cfg = user;
  cfg->size = rf_runtime_size(rf_flow_runtime(flow));
  if (cfg->write_dir != NULL) return write_all(cfg);
  if (cfg->read_file != NULL && cfg->key != NULL && cfg->expect != NULL) {
    return read_one(cfg);
  }
  fprintf(stderr, "h5_pandas_tool: give --write DIR, or --read, --key and "
                  "--expect\n");
  rf_test_failures++;
  return RF_OK;
}

int main(int argc, char **argv) {
  config cfg = {0};
  const rf_option options[] = {
      {"write", RF_OPT_STRING, &cfg.write_dir, "DIR",
       "write every test frame into DIR", NULL, 0, 0},
      {"read", RF_OPT_STRING, &cfg.read_file, "FILE", "read a frame from FILE",
       NULL, 0, 0},
      {"key", RF_OPT_STRING, &cfg.key, "KEY", "the frame's key in FILE", NULL,
       0, 0},
      {"expect", RF_OPT_STRING, &cfg.expect, "NAME",
       "the test frame FILE must hold", NULL, 0, 0},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  const rf_cli cli = {"h5_pandas_tool", "Frames in HDF5, for the pandas check.",
                      options, NULL, NULL, NULL};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  code = rf_run(rt, flow, &cfg);
  int verdict = code == 0 && rf_test_failures == 0 ? 0 : 1;
  if (rf_runtime_rank(rt) == 0 && verdict != 0) {
    fprintf(stderr, "h5_pandas_tool: FAIL (exit %d, %d failed checks)\n", code,
            rf_test_failures);
  }
  rf_finalize(rt, code);
  return verdict;
}
