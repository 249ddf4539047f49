/* SPDX-License-Identifier: BSD-3-Clause */
/* hostio.c -- frames over the socket between a worker and its task host.
 *
 * A worker and its task host (host.c, host_serve.c) talk over one Unix
 * stream socket. Each message is a frame: a 4-byte little-endian length,
 * one byte of kind, then the body, which is laid out by wire/proto.c like
 * the same message between ranks (a WORK batch, a RESULTS batch, a word).
 * Writes are queued and sent without blocking, so a worker never waits on
 * a host that is busy or dead; reads take what is there and cut whole
 * frames out. A peer that went away shows as eof, never as SIGPIPE.
 */
#define _GNU_SOURCE /* ppoll: a wait in nanoseconds */
#include "exec.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536

void rf__hostio_init(rf_hostio *io, int fd) {
  memset(io, 0, sizeof *io);
  io->fd = fd;
}

void rf__hostio_free(rf_hostio *io) {
  if (io->fd >= 0) (void)close(io->fd);
  io->fd = -1;
  rf__buf_free(&io->out);
  rf__buf_free(&io->in);
  io->out_off = io->in_off = 0;
}

rf_status rf__hostio_put(rf_hostio *io, int kind, const uint8_t *body,
                         size_t len) {
  RF_ENSURE(len < UINT32_MAX, RF_EINVAL, "a frame of %zu bytes", len);
  uint32_t n = (uint32_t)len + 1;
  uint8_t head[5] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
                     (uint8_t)(n >> 24), (uint8_t)kind};
  /* Sent bytes are dropped first, so the queue never grows without end. */
  if (io->out_off > 0 && io->out_off == io->out.len) {
    io->out.len = io->out_off = 0;
  }
  RF_CHECK(rf__buf_append(&io->out, head, sizeof head));
  return len > 0 ? rf__buf_append(&io->out, body, len) : RF_OK;
}

size_t rf__hostio_unsent(const rf_hostio *io) {
  return io->out.len - io->out_off;
}

rf_status rf__hostio_flush(rf_hostio *io, int block) {
  while (!io->eof && io->out_off < io->out.len) {
    ssize_t n = send(io->fd, io->out.data + io->out_off,
                     io->out.len - io->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      io->out_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!block) return RF_OK;
      struct pollfd p = {io->fd, POLLOUT, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) {
        return rf__error(RF_EIO, "waiting to write to a task host: %s",
                         strerror(errno));
      }
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      io->eof = 1; /* the other side is gone: its end says why */
      return RF_OK;
    }
    return rf__error(RF_EIO, "writing to a task host: %s",
                     n < 0 ? strerror(errno) : "nothing written");
  }
  if (io->out_off == io->out.len) io->out.len = io->out_off = 0;
  return RF_OK;
}

rf_status rf__hostio_fill(rf_hostio *io, int *got) {
  *got = 0;
  /* Frames already cut out are dropped before reading more. */
  if (io->in_off > 0) {
    memmove(io->in.data, io->in.data + io->in_off, io->in.len - io->in_off);
    io->in.len -= io->in_off;
    io->in_off = 0;
  }
  while (!io->eof) {
    RF_CHECK(rf__buf_reserve(&io->in, READ_CHUNK));
    ssize_t n = recv(io->fd, io->in.data + io->in.len,
                     io->in.cap - io->in.len, MSG_DONTWAIT);
    if (n > 0) {
      io->in.len += (size_t)n;
      *got = 1;
      if ((size_t)n < READ_CHUNK) return RF_OK; /* likely all there is */
      continue;
    }
    if (n == 0 || errno == ECONNRESET) {
      io->eof = 1;
      return RF_OK;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return RF_OK;
    return rf__error(RF_EIO, "reading from a task host: %s", strerror(errno));
  }
  return RF_OK;
}

int rf__hostio_next(rf_hostio *io, int *kind, const uint8_t **body,
                    size_t *len) {
  size_t have = io->in.len - io->in_off;
  if (have < 5) return 0;
  const uint8_t *p = io->in.data + io->in_off;
  size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 |
             (size_t)p[3] << 24;
  /* No kind byte, or longer than any message (an argument or a result
   * is at most RF_MAX_VALUE): not a frame this code writes. */
  if (n == 0 || n > (size_t)RF_MAX_VALUE + (1u << 20)) {
    *kind = -1;
    *body = NULL;
    *len = 0;
    io->in_off = io->in.len;
    return 1;
  }
  if (have - 4 < n) return 0;
  *kind = p[4];
  *body = p + 5;
  *len = n - 1;
  io->in_off += 4 + n;
  return 1;
}

int rf__hostio_wait(const rf_hostio *io, uint64_t timeout_ns) {
  struct pollfd p = {io->fd, POLLIN, 0};
  if (rf__hostio_unsent(io) > 0) p.events |= POLLOUT;
  struct timespec ts = {(time_t)(timeout_ns / 1000000000ull),
                        (long)(timeout_ns % 1000000000ull)};
  int n = ppoll(&p, 1, &ts, NULL);
  return n > 0;
}
