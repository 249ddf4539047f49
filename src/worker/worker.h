/* SPDX-License-Identifier: BSD-3-Clause */
/* worker.h -- the worker layer: every rank but 0 (worker.c), and the
 * handles a task on a worker holds of its subtasks (nest_client.c).
 *
 * What api/ sees: the worker loop and the operations on a worker task's
 * handles (api/flow.c reaches them through a future's kind). The rest,
 * between the two files, is below the second banner. Includes exec.h;
 * never anything of rank0/.
 */
#ifndef RF_WORKER_H
#define RF_WORKER_H

#include "exec/exec.h"

/* ---- for api/ --------------------------------------------------------------- */
/* The worker loop of ranks > 0: returns the exit code rank 0 sent, or a
 * negative code when this rank cannot go on (MPI broke). */
int rf__worker_run(rf_runtime *rt);
/* A task's own flow on a worker: subtasks are handles, run by rank 0's
 * scheduling (and by this rank while the task waits). */
extern const rf_flow_ops rf__worker_flow_ops;

/* ---- between worker.c and nest_client.c ---------------------------------- */
/* worker.c: a message to rank 0 from inside a task (msg is taken), and the
 * loop a task waiting on subtasks re-enters until done(user), a stop, a
 * cancel or the deadline (0: none). */
rf_status rf__worker_send(int tag, rf_buf *msg);
rf_status rf__worker_wait(uint64_t parent, int (*done)(void *), void *user,
                          uint64_t deadline);
/* nest_client.c: a subtask's end arrived (SUBDONE); a task ended, drop
 * the handles it left (task id; 0: every handle, when the worker stops). */
rf_status rf__client_on_done(rf_reader *r);
void rf__client_task_done(uint64_t task_id);

#endif /* RF_WORKER_H */
