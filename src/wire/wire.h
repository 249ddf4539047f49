/* SPDX-License-Identifier: BSD-3-Clause */
/* wire.h -- the wire layer: MPI between ranks, and nothing of tasks.
 *
 * transport.c moves rankflow's messages (bytes and a tag, whose layouts
 * are all in proto.h) between rank 0 and the workers without blocking and
 * without spinning; group.c makes the communicators of parallel tasks and
 * learns where ranks live. Both take communicators and ranks as arguments:
 * they know nothing of the runtime above them. Included by exec/ and up;
 * includes data.h (for rf_buf and the reader) and mpi.h.
 */
#ifndef RF_WIRE_H
#define RF_WIRE_H

#include <mpi.h>

#include "data/data.h"

/* ---- transport.c: MPI's errors ----------------------------------------- */
/* RF_EMPI with the call's name and MPI's error string (needs
 * MPI_ERRORS_RETURN on the communicator). */
rf_status rf__error_mpi(int mpi_rc, const char *what);

#define RF_CHECK_MPI(call)                                                   \
  do {                                                                       \
    int rf_rc_ = (call);                                                     \
    if (rf_rc_ != MPI_SUCCESS) return rf__error_mpi(rf_rc_, #call);          \
  } while (0)

/* ---- transport.c: sending and receiving --------------------------------- */
typedef struct rf_sendq rf_sendq;
/* Non-blocking sends whose buffers the queue keeps until done. */
rf_status rf__sendq_create(MPI_Comm comm, rf_sendq **out);
void rf__sendq_free(rf_sendq *q);
/* Send b's bytes (the buffer is taken; b is left empty). RF_ENOMEM if b
 * ran out of memory while it was built, RF_EINVAL over RF_MAX_MESSAGE. */
rf_status rf__send(rf_sendq *q, int dest, int tag, rf_buf *b);
/* Complete finished sends; RF_OK or an MPI error. */
rf_status rf__sendq_progress(rf_sendq *q);
size_t rf__sendq_pending(const rf_sendq *q);
/* Receive one message if there is one (source and tag may be MPI_ANY_*):
 * *got = 0 if none. The message lands in b (resized); too large ->
 * RF_ECODEC. */
rf_status rf__recv_any(MPI_Comm comm, int source, int tag, rf_buf *b,
                       int *got, int *src, int *tagout);
/* Wait for a non-blocking request without spinning (MPI_Wait spins in
 * Open MPI, and ranks may outnumber cores). */
rf_status rf__wait_request(MPI_Request *req);
/* Leave together: non-blocking barrier, waiting without spinning, taking
 * and dropping stray messages meanwhile. */
rf_status rf__barrier(MPI_Comm comm);

/* ---- group.c: parallel tasks' communicators, and the node layout ------ */
/* The communicator of the n members ranks (sorted world ranks, me among
 * them) for task id: every member calls it; the members meet on comm (a
 * communicator of their own, never the one rankflow's messages use) and
 * reuse a cached communicator when all still hold it. *cancelled: in,
 * whether this member saw a cancel; out, whether any did (then no
 * communicator: nobody runs the task). abort(user) is asked while waiting
 * for the others (rank 0 said stop: give up, RF_ESTOPPED). */
rf_status rf__group_comm(MPI_Comm comm, int me, const int *ranks, int n,
                         uint64_t id, int (*abort)(void *), void *user,
                         int *cancelled, MPI_Comm *out);
/* Free the cached communicators (before MPI_Finalize). */
void rf__group_cache_free(void);
/* Communicators this rank holds for task groups (tests count them). */
long rf__group_comms_live(void);
/* This rank's node: the lowest rank of comm sharing its memory, or a
 * pretend node from RANKFLOW_FAKE_NODES (RF_EUSAGE when malformed).
 * Collective over comm, at start-up. */
rf_status rf__group_node(MPI_Comm comm, int rank, int size, int *node);

#endif /* RF_WIRE_H */
