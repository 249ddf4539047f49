/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_isolate.c -- faults contained by task hosts: among 100
 * isolated tasks, one segfaults (retried once, so two attempts), one
 * aborts, one calls exit(9), one loops forever past its 2 s limit, one
 * allocates past its memory cap, and one crashes on its first attempt
 * only, and one scribbles on its host's socket. The other 93 complete with right results, each misbehaving task
 * ends in its own state with the attempts expected, and the job exits 1.
 * One more task proves that a host never joins the MPI job: MPI is not
 * initialised there, the launcher's variables are gone, its communicator
 * is MPI_COMM_NULL, it runs in another process than its worker, and it
 * cannot submit subtasks. */
#include <mpi.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "rf_test.h"

#define NWORK 93
#define MEMORY_CAP (64u << 20)

static rf_task *work, *segv, *aborts, *exits, *loops, *hog, *flaky, *where,
    *scribble;

/* Text where the host's frames go (its fd 3): a length of 1.8 GB, which
 * no frame has. The worker must see a broken host, not wait forever. */
static rf_status scribble_fn(rf_ctx *ctx) {
  (void)ctx;
  ssize_t n = write(3, "hello world\n", 12);
  (void)n;
  rf_ctx_return(ctx, rf_value_int(0));
  return RF_OK;
}

static rf_status work_fn(rf_ctx *ctx) {
  int64_t n = 0;
  rf_value_get_int(rf_ctx_arg(ctx), &n);
  rf_ctx_return(ctx, rf_value_int(n * n));
  return RF_OK;
}

static rf_status segv_fn(rf_ctx *ctx) {
  (void)ctx;
  raise(SIGSEGV);
  return RF_OK;
}

static rf_status abort_fn(rf_ctx *ctx) {
  (void)ctx;
  abort();
}

static rf_status exit_fn(rf_ctx *ctx) {
  (void)ctx;
  exit(9);
}

static rf_status loop_fn(rf_ctx *ctx) {
  (void)ctx;
  for (;;) pause(); /* ignores cancel: only a kill ends it */
  return RF_OK;
}

static rf_status hog_fn(rf_ctx *ctx) {
  /* Four times the cap, touched: under the cap the allocation fails. */
  size_t want = 4 * (size_t)MEMORY_CAP;
  char *p = malloc(want);
  if (p == NULL) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "out of memory: %zu bytes",
                       want);
  }
  for (size_t i = 0; i < want; i += 4096) p[i] = 1;
  free(p);
  rf_ctx_return(ctx, rf_value_string("allocated"));
  return RF_OK;
}

static rf_status flaky_fn(rf_ctx *ctx) {
  if (rf_ctx_attempt(ctx) == 1) raise(SIGSEGV);
  rf_ctx_return(ctx, rf_value_string("second time lucky"));
  return RF_OK;
}

/* What the host looks like from inside: a map the flow checks. */
static rf_status where_fn(rf_ctx *ctx) {
  int mpi = -1;
  MPI_Initialized(&mpi);
  int launcher = getenv("PMIX_RANK") != NULL ||
                 getenv("OMPI_COMM_WORLD_RANK") != NULL ||
                 getenv("PMI_RANK") != NULL;
  rf_future *sub = NULL;
  rf_status st = rf_submit(rf_ctx_flow(ctx), work, rf_value_int(2), &sub);
  rf_value *m = rf_value_map();
  rf_value_map_set(m, "mpi_initialized", rf_value_int(mpi));
  rf_value_map_set(m, "launcher_vars", rf_value_int(launcher));
  rf_value_map_set(m, "comm_null",
                   rf_value_int(rf_ctx_comm(ctx) == MPI_COMM_NULL));
  rf_value_map_set(m, "pid", rf_value_int(getpid()));
  rf_value_map_set(m, "submit", rf_value_string(rf_status_name(st)));
  rf_value_map_set(m, "rank", rf_value_int(rf_ctx_rank(ctx)));
  rf_ctx_return(ctx, m);
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  rf_task_options iso = {.isolate = 1};
  rf_task_options once = {.isolate = 1, .retries = 1, .retry_delay = 0.01};
  rf_task_options twice = {.isolate = 1, .retries = 2, .retry_delay = 0.01};
  rf_task_options limited = {.isolate = 1, .timeout = 2};
  rf_task_options capped = {.isolate = 1, .memory = MEMORY_CAP};
  CHECK_OK(rf_task_register(rt, "work", work_fn, &iso, &work));
  CHECK_OK(rf_task_register(rt, "segv", segv_fn, &once, &segv));
  CHECK_OK(rf_task_register(rt, "abort", abort_fn, &iso, &aborts));
  CHECK_OK(rf_task_register(rt, "exit", exit_fn, &iso, &exits));
  CHECK_OK(rf_task_register(rt, "loop", loop_fn, &limited, &loops));
  CHECK_OK(rf_task_register(rt, "hog", hog_fn, &capped, &hog));
  CHECK_OK(rf_task_register(rt, "flaky", flaky_fn, &twice, &flaky));
  CHECK_OK(rf_task_register(rt, "where", where_fn, &iso, &where));
  CHECK_OK(rf_task_register(rt, "scribble", scribble_fn, &iso, &scribble));
  /* An io or parallel task is never isolated. */
  rf_task_options bad = {.isolate = 1, .io = 1};
  CHECK_STATUS(rf_task_register(rt, "bad", work_fn, &bad, NULL), RF_EINVAL);
}

static void check_end(rf_future *f, rf_state state, int attempts,
                      const char *error) {
  CHECK_OK(rf_future_wait(f, -1));
  CHECK_STATE(f, state);
  CHECK_INT(rf_future_attempts(f), attempts);
  if (error != NULL) CHECK_CONTAINS(rf_future_error(f), error);
}

static int64_t int_at(const rf_value *m, const char *key) {
  int64_t v = -99;
  rf_value_get_int(rf_value_lookup(m, key), &v);
  return v;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *w[NWORK], *bad[7], *loc;
  /* The misbehaving ones go first, so the others run after crashes. */
  REQUIRE_OK(rf_submit(flow, segv, NULL, &bad[0]));
  REQUIRE_OK(rf_submit(flow, aborts, NULL, &bad[1]));
  REQUIRE_OK(rf_submit(flow, exits, NULL, &bad[2]));
  REQUIRE_OK(rf_submit(flow, loops, NULL, &bad[3]));
  REQUIRE_OK(rf_submit(flow, hog, NULL, &bad[4]));
  REQUIRE_OK(rf_submit(flow, flaky, NULL, &bad[5]));
  REQUIRE_OK(rf_submit(flow, scribble, NULL, &bad[6]));
  for (int i = 0; i < NWORK; i++) {
    REQUIRE_OK(rf_submit(flow, work, rf_value_int(i), &w[i]));
  }
  REQUIRE_OK(rf_submit(flow, where, NULL, &loc));
  for (int i = 0; i < NWORK; i++) {
    const rf_value *v;
    int64_t got = -1;
    CHECK_OK(rf_future_result(w[i], &v));
    if (v != NULL) rf_value_get_int(v, &got);
    CHECK_INT(got, (int64_t)i * i);
    CHECK_INT(rf_future_attempts(w[i]), 1);
    rf_future_release(w[i]);
  }
  check_end(bad[0], RF_STATE_CRASHED, 2, "killed by SIGSEGV");
  check_end(bad[1], RF_STATE_CRASHED, 1, "killed by SIGABRT");
  check_end(bad[2], RF_STATE_CRASHED, 1, "exited with status 9");
  check_end(bad[3], RF_STATE_TIMED_OUT, 1, "time limit of 2 s");
  check_end(bad[4], RF_STATE_FAILED, 1, "out of memory");
  check_end(bad[5], RF_STATE_COMPLETED, 2, NULL);
  check_end(bad[6], RF_STATE_CRASHED, 1, "malformed message from a task host");
  for (int i = 0; i < 7; i++) rf_future_release(bad[i]);

  const rf_value *m = NULL;
  CHECK_OK(rf_future_result(loc, &m));
  if (m != NULL) {
    CHECK_INT(int_at(m, "mpi_initialized"), 0);
    CHECK_INT(int_at(m, "launcher_vars"), 0);
    CHECK_INT(int_at(m, "comm_null"), 1);
    CHECK(int_at(m, "pid") != (int64_t)getpid()); /* not rank 0 either */
    CHECK(int_at(m, "pid") > 0);
    const char *submit = NULL;
    rf_value_get_string(rf_value_lookup(m, "submit"), &submit, NULL);
    CHECK(submit != NULL && strcmp(submit, "ESTATE") == 0);
    int size = rf_runtime_size(rf_flow_runtime(flow));
    CHECK(int_at(m, "rank") == (size == 1 ? 0 : int_at(m, "rank")));
    CHECK(size == 1 || int_at(m, "rank") >= 1);
  }
  rf_future_release(loc);
  return RF_OK;
}

int main(int argc, char **argv) {
  return rf_test_run(argc, argv, "test_flow_isolate", reg, flow, NULL, 1);
}
