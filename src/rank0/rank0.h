/* SPDX-License-Identifier: BSD-3-Clause */
/* rank0.h -- what the layer above (api/) sees of rank 0: the coordinator's
 * life, and rank 0's flow.
 *
 * Rank 0 runs the flow; the coordinator makes progress inside the flow's
 * blocking calls. Everything else of this folder (the coordinator's
 * layout, the scheduler, futures, parallel tasks, subtasks, the journal)
 * is private to it: coord.h. Includes exec.h.
 */
#ifndef RF_RANK0_H
#define RF_RANK0_H

#include "exec/exec.h"

typedef struct rf_coord rf_coord;

/* The coordinator of rt's flow (rank 0): opens the report and the
 * journal. RF_EUSAGE for a journal of another run (exit 2), RF_EIO,
 * RF_ENOMEM; nothing is left open on failure. */
rf_status rf__coord_create(rf_runtime *rt, rf_coord **out);
/* Where the workers live (each world rank's node), learned at start-up. */
void rf__coord_set_nodes(rf_coord *co, const int *nodes);
/* After the flow returned: wait for unfinished tasks (unless stopping),
 * write the journal, the report and the totals, then tell every worker to
 * leave with the exit code returned (negative: the ranks cannot leave
 * together). */
int rf__coord_finish_flow(rf_coord *co, rf_status flow_status);
void rf__coord_free(rf_coord *co);

/* Rank 0's flow: submissions are the coordinator's futures. The table
 * also serves every future rank 0 holds, the subtasks of a task at one
 * rank included (api/flow.c). */
extern const rf_flow_ops rf__rank0_flow_ops;

/* A future's task key, and its encoded result (RF_ESTATE if it has none):
 * what the codec writes in its place (data.h's rf_future_hooks). */
uint64_t rf__future_key(const rf_future *f);
rf_status rf__future_result_bytes(const rf_future *f, const uint8_t **data,
                                  size_t *len);

#endif /* RF_RANK0_H */
