/* SPDX-License-Identifier: BSD-3-Clause */
/* transport.c -- rankflow's messages between rank 0 and the workers.
 *
 * Every message of the coordinator and the workers goes through here (the
 * members of a parallel task meet by messages of their own, on their own
 * communicator: group.c). Sends are non-blocking and their buffers are kept
 * until MPI is done with them: rank 0 and a worker may both be sending
 * large messages at once, and two blocking sends in rendezvous would wait
 * for each other forever. Receiving is probe-then-receive into a buffer
 * sized from the probe, refusing messages larger than RF_MAX_MESSAGE.
 * Waiting on a request and leaving use non-blocking calls polled with
 * back-off, because MPI_Wait and MPI_Barrier spin.
 */
#include "wire.h"

#include <stdio.h>
#include <string.h>

rf_status rf__error_mpi(int mpi_rc, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpi_rc, msg, &len) != MPI_SUCCESS) {
    snprintf(msg, sizeof msg, "MPI error %d", mpi_rc);
  }
  /* Only the call's name, not its arguments: the message must stay short. */
  const char *paren = strchr(what, '(');
  int namelen = paren ? (int)(paren - what) : (int)strlen(what);
  return rf__error(RF_EMPI, "%.*s: %s", namelen, what, msg);
}

typedef struct {
  MPI_Request req;
  rf_buf buf;
} pending_send;

struct rf_sendq {
  MPI_Comm comm;
  pending_send *items;
  size_t n, cap;
};

rf_status rf__sendq_create(MPI_Comm comm, rf_sendq **out) {
  rf_sendq *q = rf__calloc(1, sizeof *q);
  if (q == NULL) return rf__error(RF_ENOMEM, "send queue");
  q->comm = comm;
  *out = q;
  return RF_OK;
}

void rf__sendq_free(rf_sendq *q) {
  if (q == NULL) return;
  for (size_t i = 0; i < q->n; i++) {
    /* Only reached on error paths: the request cannot be completed. */
    if (q->items[i].req != MPI_REQUEST_NULL) {
      (void)MPI_Request_free(&q->items[i].req);
    }
    rf__buf_free(&q->items[i].buf);
  }
  rf__free(q->items);
  rf__free(q);
}

rf_status rf__send(rf_sendq *q, int dest, int tag, rf_buf *b) {
  if (b->oom) {
    rf__buf_free(b);
    return rf__error(RF_ENOMEM, "building a message");
  }
  if (b->len > RF_MAX_MESSAGE || b->len > (size_t)INT32_MAX) {
    size_t len = b->len;
    rf__buf_free(b);
    return rf__error(RF_EINVAL, "message of %zu bytes is over the limit", len);
  }
  if (rf__array_reserve(&q->items, sizeof *q->items, q->n, &q->cap, 16,
                        "send queue") != RF_OK) {
    rf__buf_free(b);
    return RF_ENOMEM;
  }
  pending_send *p = &q->items[q->n];
  p->buf = *b;
  memset(b, 0, sizeof *b);
  int rc = MPI_Isend(p->buf.data, (int)p->buf.len, MPI_BYTE, dest, tag,
                     q->comm, &p->req);
  if (rc != MPI_SUCCESS) {
    rf__buf_free(&p->buf);
    return rf__error_mpi(rc, "MPI_Isend");
  }
  q->n++;
  return RF_OK;
}

rf_status rf__sendq_progress(rf_sendq *q) {
  size_t keep = 0;
  rf_status st = RF_OK;
  for (size_t i = 0; i < q->n; i++) {
    int done = 0;
    if (st == RF_OK) {
      int rc = MPI_Test(&q->items[i].req, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) st = rf__error_mpi(rc, "MPI_Test");
    }
    if (done) {
      rf__buf_free(&q->items[i].buf);
    } else {
      q->items[keep++] = q->items[i];
    }
  }
  q->n = keep;
  return st;
}

size_t rf__sendq_pending(const rf_sendq *q) { return q->n; }

rf_status rf__recv_any(MPI_Comm comm, int source, int tag, rf_buf *b,
                       int *got, int *src, int *tagout) {
  int flag = 0, count = 0;
  MPI_Status status;
  *got = 0;
  RF_CHECK_MPI(MPI_Iprobe(source, tag, comm, &flag, &status));
  if (!flag) return RF_OK;
  RF_CHECK_MPI(MPI_Get_count(&status, MPI_BYTE, &count));
  if (count < 0 || (size_t)count > RF_MAX_MESSAGE) {
    return rf__error(RF_ECODEC, "a message from rank %d is too large",
                     status.MPI_SOURCE);
  }
  b->len = 0;
  RF_CHECK(rf__buf_reserve(b, (size_t)count));
  RF_CHECK_MPI(MPI_Recv(b->data, count, MPI_BYTE, status.MPI_SOURCE,
                        status.MPI_TAG, comm, MPI_STATUS_IGNORE));
  b->len = (size_t)count;
  *got = 1;
  *src = status.MPI_SOURCE;
  *tagout = status.MPI_TAG;
  return RF_OK;
}

rf_status rf__wait_request(MPI_Request *req) {
  rf_backoff bo;
  rf__backoff_reset(&bo);
  for (;;) {
    int done = 0;
    RF_CHECK_MPI(MPI_Test(req, &done, MPI_STATUS_IGNORE));
    if (done) return RF_OK;
    rf__backoff_wait(&bo, 0);
  }
}

rf_status rf__barrier(MPI_Comm comm) {
  MPI_Request req;
  rf_backoff bo;
  rf_buf stray = {0};
  rf_status st = RF_OK;
  rf__backoff_reset(&bo);
  RF_CHECK_MPI(MPI_Ibarrier(comm, &req));
  for (;;) {
    int done = 0, got = 0, src, tag;
    int rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      st = rf__error_mpi(rc, "MPI_Test(barrier)");
      break;
    }
    if (done) break;
    /* Messages still in flight (results after a stop) are dropped, so no
     * rank finalizes with unmatched sends. */
    st = rf__recv_any(comm, MPI_ANY_SOURCE, MPI_ANY_TAG, &stray, &got, &src,
                      &tag);
    if (st != RF_OK) break;
    if (got) rf__backoff_reset(&bo);
    else rf__backoff_wait(&bo, 0);
  }
  rf__buf_free(&stray);
  return st;
}
