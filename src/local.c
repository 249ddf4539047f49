/* local.c -- running tasks in-process when the job has one rank.
 *
 * With one rank there are no workers: the coordinator hands ready tasks to
 * this runner instead, one at a time, when the flow blocks; I/O tasks go
 * to rank 0's own I/O slots (iopool.c) and run beside it, as on a worker. The attempt
 * runs through the same code a worker uses (rf__attempt_run: the argument
 * decoded from the bytes that would travel, the outcome encoded), so a flow
 * behaves the same at 1 rank and at N.
 */
#include "rf_internal.h"

#include <string.h>

rf_status rf__local_run_one(rf_coord *co, int *ran) {
  rf_future *f;
  *ran = 0;
  RF_CHECK(rf__sched_take(co, RF_LANE_CPU, 0, RF_STATE_RUNNING, &f));
  if (f == NULL) return RF_OK;
  *ran = 1;
  rf_attempt_result res;
  memset(&res, 0, sizeof res);
  res.payload = co->rbuf; /* reuse one buffer for every inline attempt */
  rf_status st = rf__attempt_run(co->rt, co->reg->tasks[f->task],
                                 rf__future_id(f), f->key, f->attempts,
                                 rf__blob_data(&f->u.live.arg),
                                 f->u.live.arg.len, NULL, NULL, NULL, &res);
  co->rbuf = res.payload;
  RF_CHECK(st);
  return rf__sched_outcome(co, f, res.outcome, co->rbuf.data, co->rbuf.len,
                           res.t0, res.t1);
}

static rf_status io_ended(void *user, uint64_t id, rf_outcome outcome,
                          const uint8_t *payload, size_t len, double t0,
                          double t1) {
  rf_coord *co = user;
  rf_future *f = rf__future_lookup(co, id);
  RF_ENSURE(f != NULL, RF_ESTATE, "I/O slot ended unknown task %llx",
            (unsigned long long)id);
  return rf__sched_outcome(co, f, outcome, payload, len, t0, t1);
}

rf_status rf__local_io(rf_coord *co, int *moved) {
  int ended;
  *moved = 0;
  RF_CHECK(rf__iopool_collect(co->io, io_ended, co, &ended));
  *moved = ended > 0;
  while (co->stop == RF_SIGNAL_NONE && rf__iopool_free_slots(co->io) > 0) {
    rf_future *f;
    RF_CHECK(rf__sched_take(co, RF_LANE_IO, 0, RF_STATE_RUNNING, &f));
    if (f == NULL) break;
    RF_CHECK(rf__iopool_submit(co->io, co->reg->tasks[f->task],
                               rf__future_id(f), f->key, f->attempts,
                               rf__blob_data(&f->u.live.arg),
                               f->u.live.arg.len));
    *moved = 1;
  }
  return RF_OK;
}
