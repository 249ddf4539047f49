/* local.c -- running tasks in-process when the job has one rank.
 *
 * With one rank there are no workers: the coordinator hands ready tasks to
 * this runner instead, one at a time, when the flow blocks. The attempt
 * runs through the same code a worker uses (rf__attempt_run: the argument
 * decoded from the bytes that would travel, the outcome encoded), so a flow
 * behaves the same at 1 rank and at N.
 */
#include "rf_internal.h"

#include <string.h>

rf_status rf__local_run_one(rf_coord *co, int *ran) {
  *ran = 0;
  rf_future *f = rf__sched_pop(co);
  if (f == NULL) return RF_OK;
  *ran = 1;
  rf_status st = rf__sched_prepare(co, f);
  if (st == RF_ETASK) return RF_OK; /* too large: failed, not run */
  RF_CHECK(st);
  f->state = RF_STATE_RUNNING;
  f->attempts++;
  f->rank = 0;
  f->t_start = rf__now();
  rf_attempt_result res;
  memset(&res, 0, sizeof res);
  res.payload = co->rbuf; /* reuse one buffer for every inline attempt */
  st = rf__attempt_run(co->rt, co->reg->tasks[f->task],
                                 rf__future_id(f), f->key, f->attempts,
                                 rf__blob_data(&f->u.live.arg), f->u.live.arg.len, NULL,
                                 NULL, &res);
  co->rbuf = res.payload;
  RF_CHECK(st);
  return rf__sched_outcome(co, f, res.outcome, co->rbuf.data, co->rbuf.len,
                           res.t0, res.t1);
}
