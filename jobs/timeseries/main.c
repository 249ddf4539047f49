/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c -- timeseries_summary: dask's timeseries().describe() as an MPI
 * flow.
 *
 * The origin story's second example: a year of 1-second rows (by default
 * 13 partitions of four weeks, 31,449,600 rows) summarised with exact
 * quartiles, written to HDF5 that pandas.read_hdf reads as it is, and
 * printed as pandas prints it. --write-data also writes the rows with
 * parallel HDF5; --input summarises such a file instead of generating.
 * The work is summary.c's (rf_timeseries_summary); this file is the
 * command line around it.
 *   mpirun -np 3 build/jobs/timeseries_summary --output summary.h5
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "timeseries.h"

static const char *const defaults[4] = {"2000", "2001", "1s", "4w"};
#define DEFAULT_SEED 42
#define SEED_UNSET INT64_MIN /* so that --input can refuse a given --seed */

typedef struct {
  const char *param[4]; /* start, end, freq, partition freq */
  const char *output, *write_data, *input;
  int64_t seed;
  rf_timeseries *plan; /* from the flags (or, with --input, the file) */
  double t0;
  int as_task;
  rf_task *summary_task;
} config;

static double now(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + tv.tv_usec * 1e-6;
}

/* 0 if a file can be created at path (its directory is writable and path
 * is not a directory); errno otherwise. */
static int creatable(const char *path) {
  char dir[4096];
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return EISDIR;
  snprintf(dir, sizeof dir, "%s", path);
  return access(dirname(dir), W_OK | X_OK) == 0 ? 0 : errno;
}

/* Flags are checked before MPI starts, on every rank alike (exit 2). */
static rf_status check(void *user, char *err, size_t errlen) {
  static const char *const flags[4] = {"--start", "--end", "--freq",
                                       "--partition-freq"};
  config *cfg = user;
  int e;
  if ((e = creatable(cfg->output)) != 0) {
    snprintf(err, errlen, "--output: cannot create '%s': %s", cfg->output,
             strerror(e));
    return RF_EUSAGE;
  }
  if (cfg->write_data != NULL && strcmp(cfg->write_data, cfg->output) == 0) {
    snprintf(err, errlen, "--write-data and --output name the same file '%s'",
             cfg->output);
    return RF_EUSAGE;
  }
  if (cfg->input != NULL) {
    if (cfg->seed != SEED_UNSET) {
      snprintf(err, errlen, "--input takes seed from the file; drop --seed");
      return RF_EUSAGE;
    }
    for (int i = 0; i < 4; i++) {
      if (cfg->param[i] != defaults[i]) {
        snprintf(err, errlen, "--input takes %s from the file; drop %s",
                 flags[i] + 2, flags[i]);
        return RF_EUSAGE;
      }
    }
    if (cfg->write_data != NULL) {
      snprintf(err, errlen, "--write-data and --input cannot be used together");
      return RF_EUSAGE;
    }
    if (cfg->as_task) {
      snprintf(err, errlen, "--as-task and --input cannot be used together");
      return RF_EUSAGE;
    }
    if (access(cfg->input, R_OK) != 0) {
      snprintf(err, errlen, "--input: cannot read '%s': %s", cfg->input,
               strerror(errno));
      return RF_EUSAGE;
    }
    return RF_OK; /* the plan comes from the file, on rank 0 */
  }
  if (cfg->seed == SEED_UNSET) cfg->seed = DEFAULT_SEED;
  if (cfg->as_task && cfg->write_data != NULL) {
    /* Writing needs every rank in collective steps, which only the flow
     * itself can call. */
    snprintf(err, errlen, "--as-task and --write-data cannot be used together");
    return RF_EUSAGE;
  }
  if (cfg->write_data != NULL && (e = creatable(cfg->write_data)) != 0) {
    snprintf(err, errlen, "--write-data: cannot create '%s': %s",
             cfg->write_data, strerror(e));
    return RF_EUSAGE;
  }
  if (rf_timeseries_plan(cfg->param[0], cfg->param[1], cfg->param[2],
                         cfg->param[3], (uint64_t)cfg->seed,
                         &cfg->plan) != RF_OK) {
    snprintf(err, errlen, "%s", rf_last_error());
    return RF_EUSAGE;
  }
  return RF_OK;
}

/* --as-task: the origin story's shape, a flow of one task that fans the
 * summary out over the same job from inside (subtasks) and returns the
 * frame. The argument is the plan's parameters. */
static rf_status summary_task(rf_ctx *ctx) {
  const rf_value *a = rf_ctx_arg(ctx);
  const char *p[4];
  int64_t seed = 0;
  for (int i = 0; i < 4; i++) {
    if (rf_value_get_string(rf_value_item(a, (size_t)i), &p[i], NULL) != RF_OK) {
      return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "malformed argument");
    }
  }
  (void)rf_value_get_int(rf_value_item(a, 4), &seed);
  rf_timeseries *ts;
  rf_frame *frame;
  if (rf_timeseries_plan(p[0], p[1], p[2], p[3], (uint64_t)seed, &ts) != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "plan: %s", rf_last_error());
  }
  rf_status st = rf_timeseries_summary(rf_ctx_flow(ctx), ts, NULL, &frame);
  rf_timeseries_free(ts);
  if (st != RF_OK) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "summary: %s", rf_last_error());
  }
  rf_ctx_return(ctx, rf_value_frame(frame));
  return RF_OK;
}

/* The summary frame computed by one task (--as-task). */
static rf_status summary_as_task(rf_flow *flow, config *cfg, rf_frame **out) {
  rf_value *arg = rf_value_list();
  for (int i = 0; i < 4; i++) rf_value_list_append(arg, rf_value_string(cfg->param[i]));
  rf_value_list_append(arg, rf_value_int(cfg->seed));
  rf_future *f;
  const rf_value *v;
  const rf_frame *frame;
  rf_status st = rf_submit(flow, cfg->summary_task, arg, &f);
  if (st != RF_OK) return st;
  st = rf_future_result(f, &v);
  if (st == RF_OK) st = rf_value_get_frame(v, &frame);
  if (st == RF_OK && (*out = rf_frame_copy(frame)) == NULL) st = RF_ENOMEM;
  if (st != RF_OK) rf_log(RF_LOG_ERROR, "%s", rf_last_error());
  rf_future_release(f);
  return st;
}

static rf_status flow(rf_flow *flow, void *user) {
  config *cfg = user;
  rf_status st;
  if (cfg->input != NULL) {
    /* A malformed input file is bad input: exit 2, naming the problem. */
    if ((st = rf_timeseries_open(cfg->input, &cfg->plan)) != RF_OK) return st;
  }
  rf_timeseries_io io = {cfg->write_data, cfg->input};
  rf_frame *frame;
  st = cfg->as_task ? summary_as_task(flow, cfg, &frame)
                    : rf_timeseries_summary(flow, cfg->plan, &io, &frame);
  if (st != RF_OK) return st;
  if (rf_frame_print(frame, stdout) != RF_OK) {
    rf_frame_free(frame);
    return RF_EIO;
  }
  /* Data parameters go with the frame; facts about this run apart. */
  rf_value *attrs = rf_timeseries_attrs(cfg->plan), *run = rf_value_map();
  char host[256] = "";
  (void)gethostname(host, sizeof host - 1);
  st = attrs != NULL ? RF_OK : RF_ENOMEM;
  if (st == RF_OK) {
    st = rf_value_map_set(run, "ranks",
                          rf_value_int(rf_runtime_size(rf_flow_runtime(flow))));
  }
  if (st == RF_OK) {
    st = rf_value_map_set(run, "wall_seconds", rf_value_double(now() - cfg->t0));
  }
  if (st == RF_OK) st = rf_value_map_set(run, "host", rf_value_string(host));
  if (st == RF_OK) {
    st = rf_value_map_set(run, "rankflow_version",
                          rf_value_string(rf_version()));
  }
  if (st == RF_OK) {
    st = rf_frame_write_hdf5(cfg->output, "summary", frame, attrs, run);
  }
  if (st != RF_OK) {
    rf_log(RF_LOG_ERROR, "writing %s: %s", cfg->output, rf_last_error());
  }
  rf_value_free(attrs);
  rf_value_free(run);
  rf_frame_free(frame);
  return st;
}

int main(int argc, char **argv) {
  config cfg = {{defaults[0], defaults[1], defaults[2], defaults[3]},
                "timeseries_summary.h5", NULL, NULL, SEED_UNSET, NULL, now(), 0, NULL};
  const rf_option options[] = {
      {"start", RF_OPT_STRING, &cfg.param[0], "DATE",
       "start of the range: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS "
       "(weekly partitions begin on its first Sunday, as in dask)", NULL, 0, 0},
      {"end", RF_OPT_STRING, &cfg.param[1], "DATE",
       "end of the range: rows stop at the last partition boundary at or "
       "before it, as in dask", NULL, 0, 0},
      {"freq", RF_OPT_STRING, &cfg.param[2], "FREQ",
       "row spacing: a count with s, min, h, d or w", NULL, 0, 0},
      {"partition-freq", RF_OPT_STRING, &cfg.param[3], "FREQ",
       "partition length (w: weeks anchored on Sunday)", NULL, 0, 0},
      {"seed", RF_OPT_INT, &cfg.seed, "N", "random seed (default 42)", NULL, 0,
       9e18},
      {"output", RF_OPT_STRING, &cfg.output, "FILE",
       "HDF5 file for the summary frame (key /summary)", NULL, 0, 0},
      {"write-data", RF_OPT_STRING, &cfg.write_data, "FILE",
       "also write the generated rows (parallel HDF5, group /timeseries)",
       NULL, 0, 0},
      {"input", RF_OPT_STRING, &cfg.input, "FILE",
       "summarise a file written by --write-data instead of generating",
       NULL, 0, 0},
      {"as-task", RF_OPT_FLAG, &cfg.as_task, NULL,
       "run the summary as one task that fans out over the job as "
       "subtasks (the same frame)", NULL, 0, 0},
      {NULL, 0, NULL, NULL, NULL, NULL, 0, 0}};
  /* What changes the tasks' results or the data file (not --output: the
   * frame is written by the flow, after the tasks). */
  static const char *const identity[] = {"start", "end",        "freq",
                                         "partition-freq", "seed",
                                         "write-data",     "input", NULL};
  const rf_cli cli = {
      "timeseries_summary",
      "Summarise dask's timeseries(start, end, freq, partition_freq) as "
      "describe() does,\nwith exact quartiles, into an HDF5 file pandas reads.",
      options, check, &cfg, identity};
  rf_runtime *rt;
  int code = rf_init(&rt, argc, argv, &cli);
  if (rt == NULL) {
    rf_timeseries_free(cfg.plan);
    return code;
  }
  /* The summary as a task submits subtasks: never in a task host. */
  static const rf_task_options parent = {.isolate = RF_ISOLATE_NEVER};
  if (rf_timeseries_register(rt) != RF_OK ||
      rf_task_register(rt, "timeseries_summary.as_task", summary_task,
                       &parent, &cfg.summary_task) != RF_OK) {
    fprintf(stderr, "timeseries_summary: %s\n", rf_last_error());
    rf_timeseries_free(cfg.plan);
    return rf_finalize(rt, RF_EXIT_INTERNAL); /* alike on every rank */
  }
  code = rf_run(rt, flow, &cfg);
  rf_timeseries_free(cfg.plan);
  return rf_finalize(rt, code);
}
