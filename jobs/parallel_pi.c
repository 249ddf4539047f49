/* SPDX-License-Identifier: BSD-3-Clause */
/* parallel_pi.c -- many small MPI programs in one job: parallel tasks.
 *
 * Each task estimates pi on its own communicator: its members integrate
 * their shares of 4 / (1 + x^2) over [0, 1] (midpoint rule) and combine
 * them with MPI_Allreduce, the way a simulation per parameter set would
 * run on k ranks. Widths cycle through --widths. The results go to one
 * HDF5 frame /tasks (float64 columns width, comm_size, estimate; a row per
 * task) that pandas.read_hdf reads as is, and a short table per width is
 * printed.
 *   mpirun -np 7 build/jobs/parallel_pi --tasks 100 --widths 1,2,3
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rankflow.h"

#define MAX_WIDTHS 16
#define PI 3.14159265358979323846

typedef struct {
  int64_t tasks, intervals;
  const char *widths_text, *output;
  int widths[MAX_WIDTHS], nwidths;
  rf_task *task[MAX_WIDTHS];
} config;

static rf_status check(void *user, char *err, size_t errlen) {
  config *cfg = user;
  const char *p = cfg->widths_text;
  cfg->nwidths = 0;
  for (;;) {
    char *end;
    long w = strtol(p, &end, 10);
    if (end == p || w < 1 || w > 4096 || cfg->nwidths == MAX_WIDTHS ||
        (*end != ',' && *end != '\0')) {
      snprintf(err, errlen, "--widths: '%s' is not a list of up to %d "
               "widths in 1..4096, like 1,2", cfg->widths_text, MAX_WIDTHS);
      return RF_EUSAGE;
    }
    cfg->widths[cfg->nwidths++] = (int)w;
    if (*end == '\0') return RF_OK;
    p = end + 1;
  }
}

/* The k members of one task integrate their shares, then sum them. */
static rf_status estimate(rf_ctx *ctx) {
  int64_t n = 0;
  (void)rf_value_get_int(rf_value_item(rf_ctx_arg(ctx), 1), &n);
  int rank = rf_ctx_comm_rank(ctx), size = rf_ctx_comm_size(ctx);
  double h = 1.0 / (double)n, part = 0, sum = 0;
  for (int64_t i = rank; i < n; i += size) {
    double x = h * ((double)i + 0.5);
    part += 4.0 / (1.0 + x * x);
  }
  part *= h;
  if (MPI_Allreduce(&part, &sum, 1, MPI_DOUBLE, MPI_SUM, rf_ctx_comm(ctx)) !=
      MPI_SUCCESS) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "MPI_Allreduce failed");
  }
  if (rank == 0) {
    rf_value *r = rf_value_list();
    if (rf_value_list_append(r, rf_value_double(size)) != RF_OK ||
        rf_value_list_append(r, rf_value_double(sum)) != RF_OK) {
      rf_value_free(r);
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "out of memory");
    }
    rf_ctx_return(ctx, r);
  }
  return RF_OK;
}

static rf_status flow(rf_flow *flow, void *user) {
  config *cfg = user;
  size_t n = (size_t)cfg->tasks;
  rf_future **futs = calloc(n, sizeof *futs);
  double *width = calloc(n, sizeof *width), *csize = calloc(n, sizeof *csize),
         *est = calloc(n, sizeof *est);
  rf_status st = futs && width && csize && est ? RF_OK : RF_ENOMEM;
  size_t submitted = 0;
  for (; st == RF_OK && submitted < n; submitted++) {
    size_t w = submitted % (size_t)cfg->nwidths;
    rf_value *arg = rf_value_list();
    rf_value_list_append(arg, rf_value_int((int64_t)submitted));
    rf_value_list_append(arg, rf_value_int(cfg->intervals));
    st = rf_submit(flow, cfg->task[w], arg, &futs[submitted]);
    if (st != RF_OK) break; /* a width above the workers: exit 2, said */
    width[submitted] = cfg->widths[w];
  }
  if (st == RF_OK) st = rf_futures_wait(futs, n);
  rf_frame *frame = NULL;
  if (st == RF_OK) st = rf_frame_create(n, &frame);
  for (size_t i = 0; st == RF_OK && i < n; i++) {
    const rf_value *v;
    char label[32];
    st = rf_future_result(futs[i], &v);
    if (st == RF_OK) {
      (void)rf_value_get_double(rf_value_item(v, 0), &csize[i]);
      (void)rf_value_get_double(rf_value_item(v, 1), &est[i]);
      snprintf(label, sizeof label, "%zu", i);
      st = rf_frame_set_label(frame, i, label);
    }
  }
  if (st == RF_OK) st = rf_frame_add_f64(frame, "width", width);
  if (st == RF_OK) st = rf_frame_add_f64(frame, "comm_size", csize);
  if (st == RF_OK) st = rf_frame_add_f64(frame, "estimate", est);
  if (st == RF_OK) {
    rf_value *attrs = rf_value_map();
    rf_value_map_set(attrs, "intervals", rf_value_int(cfg->intervals));
    rf_value_map_set(attrs, "widths", rf_value_string(cfg->widths_text));
    st = rf_frame_write_hdf5(cfg->output, "tasks", frame, attrs, NULL);
    rf_value_free(attrs);
  }
  if (st == RF_OK) {
    printf("width  tasks  comm_size  max |estimate - pi|\n");
    for (int w = 0; w < cfg->nwidths; w++) {
      size_t count = 0;
      double worst = 0, sizes = 0;
      for (size_t i = (size_t)w; i < n; i += (size_t)cfg->nwidths) {
        count++;
        sizes = csize[i];
        if (fabs(est[i] - PI) > worst) worst = fabs(est[i] - PI);
      }
      printf("%5d  %5zu  %9.0f  %.3e\n", cfg->widths[w], count, sizes, worst);
    }
    printf("wrote %zu tasks to %s (key /tasks)\n", n, cfg->output);
  }
  for (size_t i = 0; i < submitted && futs; i++) rf_future_release(futs[i]);
  rf_frame_free(frame);
  free(futs);
  free(width);
  free(csize);
  free(est);
  return st;
}

int main(int argc, char **argv) {
  config cfg = {.tasks = 12, .intervals = 1000000, .widths_text = "1,2",
                .output = "parallel_pi.h5"};
  const rf_option options[] = {
      {"tasks", RF_OPT_INT, &cfg.tasks, "N", "number of tasks", NULL, 1, 1e7},
      {"widths", RF_OPT_STRING, &cfg.widths_text, "LIST",
       "ranks per task, cycled over the tasks (e.g. 1,2,4); the widest must "
       "fit in the N-1 workers", NULL, 0, 0},
      {"intervals", RF_OPT_INT, &cfg.intervals, "N",
       "integration intervals per task", NULL, 1, 1e12},
      {"output", RF_OPT_STRING, &cfg.output, "FILE",
       "HDF5 file for the frame /tasks", NULL, 0, 0},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  static const char *const identity[] = {"tasks", "widths", "intervals", NULL};
  const rf_cli cli = {"parallel_pi",
                      "Estimate pi in many parallel tasks of several widths "
                      "(each an MPI program on its own communicator).",
                      options, check, &cfg, identity};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) return code;
  for (int w = 0; w < cfg.nwidths; w++) {
    char name[32];
    snprintf(name, sizeof name, "pi_width_%d", cfg.widths[w]);
    rf_task_options opts = {.ranks = cfg.widths[w]};
    /* A width listed twice is one task. */
    if (rf_task_find(rt, name, &cfg.task[w]) == RF_OK) continue;
    if (rf_task_register(rt, name, estimate, &opts, &cfg.task[w]) != RF_OK) {
      fprintf(stderr, "parallel_pi: %s\n", rf_last_error());
      return rf_finalize(rt, RF_EXIT_INTERNAL); /* alike on every rank */
    }
  }
  code = rf_run(rt, flow, &cfg);
  return rf_finalize(rt, code);
}
