/* SPDX-License-Identifier: BSD-3-Clause */
/* local.c -- running tasks in-process when the job has one rank.
 *
 * With one rank there are no workers: the coordinator hands ready tasks to
 * this runner instead, one at a time, when the flow blocks; I/O tasks go
 * to rank 0's own I/O slots (exec/iopool.c) and run beside it, as on a
 * worker, and isolated tasks to rank 0's own task host (exec/host.c),
 * which runs them beside the flow. The attempt runs through the same code a worker uses
 * (rf__attempt_run: the argument decoded from the bytes that would travel,
 * the outcome encoded), so a flow behaves the same at 1 rank and at N; a
 * task's own flow is rank 0's here (nest.c).
 */
#include "coord.h"

#include <string.h>

/* Isolated attempts handed to the task host ahead of its answers. */
#define HOST_AHEAD 256

/* The attempt f is to make, as it would travel. */
static rf_attempt attempt_of(rf_future *f) {
  rf_attempt a = {f->task, rf__future_id(f), f->key, f->attempts,
                  rf__blob_data(&f->u.live.arg), f->u.live.arg.len};
  return a;
}

rf_status rf__local_run_one(rf_coord *co, int *ran) {
  rf_future *f;
  *ran = 0;
  /* Inside a task that waits on its subtasks, only those run here: the
   * waiting task never sits behind unrelated work. */
  rf_lane *q = &co->ready[RF_LANE_CPU];
  if (co->nlocal > 0) {
    rf_future *waiting = co->local[co->nlocal - 1];
    if (waiting->nest == NULL || co->nlocal >= RF_NEST_MAX) return RF_OK;
    q = &waiting->nest->ready;
  }
  /* An isolated task goes to the task host, which runs it beside the
   * flow (collected by rf__local_io); a full host takes no more. */
  rf_future *next = rf__sched_peek_q(co, q);
  if (next != NULL && rf__sched_isolated(co, next) &&
      rf__host_active(co->host) >= HOST_AHEAD) {
    return RF_OK;
  }
  RF_CHECK(rf__sched_take_q(co, q, 0, RF_STATE_RUNNING, &f));
  if (f == NULL) return RF_OK;
  *ran = 1;
  if (rf__sched_isolated(co, f)) {
    rf_attempt a = attempt_of(f);
    return rf__host_submit(co->host, &a);
  }
  /* A long or new task is recorded as started: if it takes rank 0 down,
   * a resume runs it isolated. Short ones known to be short are not
   * (a record each would cost a write per task). */
  if (f->task->avg_ns == 0 || f->task->avg_ns > RF_LONG_TASK_NS) {
    RF_CHECK(rf__sched_started(co, f));
  }
  co->local[co->nlocal++] = f;
  rf_attempt_result res;
  memset(&res, 0, sizeof res);
  /* One buffer serves every inline attempt; a subtask run inside this
   * attempt's wait finds it taken and uses its own. */
  res.payload = co->rbuf;
  memset(&co->rbuf, 0, sizeof co->rbuf);
  rf_attempt a = attempt_of(f);
  rf_status st = rf__attempt_run(co->rt, &a, NULL, &rf__local_task_flow_ops,
                                 NULL, NULL, &res);
  co->nlocal--;
  rf__nest_local_done(f); /* handles of subtasks it left behind */
  if (st == RF_OK) {
    st = rf__sched_outcome(co, f, res.outcome, res.payload.data,
                           res.payload.len, res.t0, res.t1);
  }
  if (co->rbuf.data == NULL) co->rbuf = res.payload;
  else rf__buf_free(&res.payload);
  return st;
}

/* An attempt on an I/O slot or in the task host ended. */
static rf_status io_ended(void *user, uint64_t id, rf_outcome outcome,
                          const uint8_t *payload, size_t len, double t0,
                          double t1) {
  rf_coord *co = user;
  rf_future *f = rf__future_lookup(co, id);
  RF_ENSURE(f != NULL, RF_ESTATE, "attempt of unknown task %llx ended",
            (unsigned long long)id);
  return rf__sched_outcome(co, f, outcome, payload, len, t0, t1);
}

static rf_status not_started(void *user, uint64_t id) {
  rf_buf b = {0};
  rf__text_encode(&b, "not started: draining");
  rf_status st = b.oom ? rf__error(RF_ENOMEM, "recording an outcome")
                       : io_ended(user, id, RF_OUTCOME_NOTRUN, b.data, b.len,
                                  0, 0);
  rf__buf_free(&b);
  return st;
}

rf_status rf__local_drain(rf_coord *co) {
  RF_CHECK(rf__iopool_take_unstarted(co->io, not_started, co));
  return rf__host_take_unstarted(co->host, not_started, co);
}

rf_status rf__local_io(rf_coord *co, int *moved) {
  int ended, hosted;
  *moved = 0;
  RF_CHECK(rf__iopool_collect(co->io, io_ended, co, &ended));
  RF_CHECK(rf__host_collect(co->host, io_ended, co, &hosted));
  *moved = ended > 0 || hosted > 0;
  while (co->stop == RF_SIGNAL_NONE && rf__iopool_free_slots(co->io) > 0) {
    rf_future *f;
    RF_CHECK(rf__sched_take(co, RF_LANE_IO, 0, RF_STATE_RUNNING, &f));
    if (f == NULL) break;
    rf_attempt a = attempt_of(f);
    RF_CHECK(rf__iopool_submit(co->io, &a));
    *moved = 1;
  }
  return RF_OK;
}
