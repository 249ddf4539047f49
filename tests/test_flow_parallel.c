/* SPDX-License-Identifier: BSD-3-Clause */
/* test_flow_parallel.c -- parallel tasks (rf_task_options.ranks = k): each
 * member sees the right communicator, rank and size; widths 1, 2 and 3 mix
 * in one flow; an allreduce inside a task; a member that fails fails the
 * task (with its message), not the flow; a width above the worker count
 * is refused at submit; members share a (pretend) node when one fits; and
 * 10,000 two-rank tasks leave no communicator behind. At one rank: width
 * 1 runs inline on MPI_COMM_SELF, wider is refused. Run with
 * RANKFLOW_FAKE_NODES=2 at 1, 4 and 7 ranks. */
#include <stdlib.h>
#include <time.h>

#include "rf_test.h"

/* Internal, exported for tests (src/group.c). */
long rf__group_comms_live(void);

static rf_task *team[4], *picky, *tiny, *nap;
static rf_step *noop;

static rf_status noop_step(rf_step_ctx *ctx) {
  (void)ctx;
  return RF_OK;
}

static rf_status nap_fn(rf_ctx *ctx) {
  struct timespec ts = {0, 5000000L};
  nanosleep(&ts, NULL);
  (void)ctx;
  return RF_OK;
}

/* Member 0 returns [size, sum over members of (rank + 1), world ranks...]
 * after checking its view of the communicator. */
static rf_status team_fn(rf_ctx *ctx) {
  MPI_Comm comm = rf_ctx_comm(ctx);
  int rank = -1, size = -1, one = rf_ctx_comm_rank(ctx) + 1, sum = 0;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS ||
      MPI_Comm_size(comm, &size) != MPI_SUCCESS ||
      rank != rf_ctx_comm_rank(ctx) || size != rf_ctx_comm_size(ctx)) {
    /* Still make the collective calls the others make. */
    rank = -1;
  }
  int ok = rf_ctx_agree(ctx, rank >= 0);
  if (MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, comm) != MPI_SUCCESS) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "MPI_Allreduce failed");
  }
  int me = rf_ctx_rank(ctx), *world = calloc((size_t)size, sizeof *world);
  if (world == NULL ||
      MPI_Gather(&me, 1, MPI_INT, world, 1, MPI_INT, 0, comm) != MPI_SUCCESS) {
    free(world);
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "MPI_Gather failed");
  }
  if (!ok) {
    free(world);
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "a member saw a wrong comm");
  }
  if (rf_ctx_comm_rank(ctx) == 0) {
    rf_value *r = rf_value_list();
    rf_value_list_append(r, rf_value_int(size));
    rf_value_list_append(r, rf_value_int(sum));
    for (int i = 0; i < size; i++) rf_value_list_append(r, rf_value_int(world[i]));
    rf_ctx_return(ctx, r);
  }
  free(world);
  return RF_OK;
}

/* Member 1 finds its input bad: all agree it is not fine, and it fails. */
static rf_status picky_fn(rf_ctx *ctx) {
  int fine = rf_ctx_comm_rank(ctx) != 1;
  if (rf_ctx_agree(ctx, fine)) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "agreed although member 1 "
                       "was not fine");
  }
  if (!fine) return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "bad input on member 1");
  return RF_OK;
}

/* Member 0 returns the most communicators any member holds for groups. */
static rf_status tiny_fn(rf_ctx *ctx) {
  long live = rf__group_comms_live(), most = 0;
  if (MPI_Reduce(&live, &most, 1, MPI_LONG, MPI_MAX, 0, rf_ctx_comm(ctx)) !=
      MPI_SUCCESS) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "MPI_Reduce failed");
  }
  if (rf_ctx_comm_rank(ctx) == 0) rf_ctx_return(ctx, rf_value_int(most));
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  for (int k = 1; k <= 3; k++) {
    char name[16];
    snprintf(name, sizeof name, "team%d", k);
    rf_task_options o = {.ranks = k};
    CHECK_OK(rf_task_register(rt, name, team_fn, &o, &team[k]));
  }
  rf_task_options wide = {.ranks = 64};
  CHECK_OK(rf_task_register(rt, "team64", team_fn, &wide, &team[0]));
  rf_task_options two = {.ranks = 2};
  CHECK_OK(rf_task_register(rt, "picky", picky_fn, &two, &picky));
  CHECK_OK(rf_task_register(rt, "tiny", tiny_fn, &two, &tiny));
  CHECK_OK(rf_task_register(rt, "nap", nap_fn, NULL, &nap));
  CHECK_OK(rf_step_register(rt, "noop", noop_step, &noop));
  rf_task_options bad = {.ranks = 2, .io = 1};
  CHECK_STATUS(rf_task_register(rt, "bad", team_fn, &bad, NULL), RF_EINVAL);
}

static int node_of(int rank, int size) {
  const char *fake = getenv("RANKFLOW_FAKE_NODES");
  int n = fake ? atoi(fake) : 1;
  return (int)((long)rank * n / size);
}

/* Check a team result for width k; returns the node of its members if
 * they share one, else -1. */
static int check_team(rf_future *f, int k, int size) {
  const rf_value *v = NULL;
  int64_t got_size = 0, sum = 0;
  if (rf_future_result(f, &v) != RF_OK) {
    fprintf(stderr, "team%d: %s\n", k, rf_future_error(f));
    rf_test_failures++;
    return -1;
  }
  CHECK_INT(rf_value_count(v), 2 + k);
  (void)rf_value_get_int(rf_value_item(v, 0), &got_size);
  (void)rf_value_get_int(rf_value_item(v, 1), &sum);
  CHECK_INT(got_size, k);
  CHECK_INT(sum, k * (k + 1) / 2);
  int node = -2;
  for (int i = 0; i < k; i++) {
    int64_t w = -1;
    (void)rf_value_get_int(rf_value_item(v, 2 + (size_t)i), &w);
    CHECK(size == 1 ? w == 0 : (w >= 1 && w < size));
    for (int j = 0; j < i; j++) {
      int64_t u = -1;
      (void)rf_value_get_int(rf_value_item(v, 2 + (size_t)j), &u);
      CHECK(u != w); /* distinct members */
    }
    int nd = node_of((int)w, size);
    node = node == -2 ? nd : (node == nd ? node : -1);
  }
  return node;
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  int size = rf_runtime_size(rf_flow_runtime(flow));
  rf_future *f;
  if (size == 1) {
    REQUIRE_OK(rf_submit(flow, team[1], NULL, &f));
    check_team(f, 1, size);
    rf_future_release(f);
    CHECK_STATUS(rf_submit(flow, team[2], NULL, &f), RF_EUSAGE);
    CHECK_CONTAINS(rf_last_error(), "at one rank");
    return RF_OK;
  }
  /* Mixed widths in one flow. */
  enum { N = 30 };
  rf_future *mixed[N];
  for (int i = 0; i < N; i++) {
    REQUIRE_OK(rf_submit(flow, team[1 + i % 3], rf_value_int(i), &mixed[i]));
  }
  for (int i = 0; i < N; i++) check_team(mixed[i], 1 + i % 3, size);
  for (int i = 0; i < N; i++) rf_future_release(mixed[i]);

  /* Alone on an idle job: a 2-wide (4 ranks) or 3-wide (7 ranks) task
   * fits one pretend node and gets it. */
  int k = size >= 7 ? 3 : 2;
  REQUIRE_OK(rf_submit(flow, team[k], rf_value_string("alone"), &f));
  CHECK(check_team(f, k, size) >= 0);
  rf_future_release(f);

  /* Not starved: a wide task behind narrow ones, with more narrow ones
   * after it, ends long before the stream does (its members are held as
   * they free up; without that no worker is ever idle). */
  enum { NARROW = 150 };
  rf_future *before[NARROW], *after[NARROW], *wide;
  for (int i = 0; i < NARROW; i++) {
    REQUIRE_OK(rf_submit(flow, nap, rf_value_int(i), &before[i]));
  }
  REQUIRE_OK(rf_submit(flow, team[k], rf_value_string("wide"), &wide));
  for (int i = 0; i < NARROW; i++) {
    REQUIRE_OK(rf_submit(flow, nap, rf_value_int(NARROW + i), &after[i]));
  }
  REQUIRE_OK(rf_futures_wait(after, NARROW));
  REQUIRE_OK(rf_future_wait(wide, 60));
  double wide_end, last_end = 0, t;
  rf_future_times(wide, NULL, NULL, &wide_end);
  for (int i = 0; i < NARROW; i++) {
    rf_future_times(after[i], NULL, NULL, &t);
    if (t > last_end) last_end = t;
  }
  fprintf(stderr, "wide task ended %.3f s before the narrow stream\n",
          last_end - wide_end);
  CHECK(wide_end < last_end);
  check_team(wide, k, size);
  rf_future_release(wide);
  for (int i = 0; i < NARROW; i++) {
    rf_future_release(before[i]);
    rf_future_release(after[i]);
  }

  /* A collective step right behind a parallel task: every rank runs the
   * two in the order sent, so no member waits in one while another waits
   * in the other. */
  for (int i = 0; i < 20; i++) {
    REQUIRE_OK(rf_submit(flow, team[2], rf_value_int(1000 + i), &f));
    CHECK_OK(rf_flow_step(flow, noop, NULL));
    check_team(f, 2, size);
    rf_future_release(f);
  }

  /* A failing member fails the task with its message; the flow goes on. */
  REQUIRE_OK(rf_submit(flow, picky, NULL, &f));
  CHECK_STATUS(rf_future_wait(f, 60), RF_OK);
  CHECK_STATE(f, RF_STATE_FAILED);
  CHECK_CONTAINS(rf_future_error(f), "member 1 of 2");
  CHECK_CONTAINS(rf_future_error(f), "bad input on member 1");
  rf_future_release(f);

  /* Wider than the job: refused at once. */
  CHECK_STATUS(rf_submit(flow, team[0], NULL, &f), RF_EUSAGE);
  CHECK_CONTAINS(rf_last_error(), "runs on 64 ranks; this job has");

  /* 10,000 two-rank tasks: communicators are reused, never piled up. */
  rf_value *inputs = rf_value_list();
  for (int i = 0; i < 10000; i++) rf_value_list_append(inputs, rf_value_int(i));
  rf_future **many;
  size_t n;
  REQUIRE_OK(rf_map(flow, tiny, inputs, &many, &n));
  int64_t most = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t live = rf_test_int_result(many[i]);
    if (live > most) most = live;
  }
  fprintf(stderr, "10000 two-rank tasks: at most %lld group communicators "
          "held by a rank\n", (long long)most);
  CHECK(most >= 1 && most <= 16);
  rf_futures_release(many, n);
  return RF_OK;
}

int main(int argc, char **argv) {
  /* The picky task fails on purpose: the job exits 1 with many ranks. */
  int many = 0;
  const char *size = getenv("OMPI_COMM_WORLD_SIZE");
  if (size != NULL && atoi(size) > 1) many = 1;
  return rf_test_run(argc, argv, "test_flow_parallel", reg, flow, NULL,
                     many ? 1 : 0);
}
