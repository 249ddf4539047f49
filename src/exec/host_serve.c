/* SPDX-License-Identifier: BSD-3-Clause */
/* host_serve.c -- inside a task host: run the attempts a worker sends.
 *
 * A task host is the program itself, started by a worker (host.c) with
 * RANKFLOW_TASK_HOST set: rf_init() then skips MPI and the signal
 * handlers, the job registers its tasks as on any rank, and rf_run() comes
 * here instead of running a flow. Attempts arrive in WORK batches and run
 * one after another through rf__attempt_run, exactly as on a worker; their
 * outcomes go back in RESULTS batches, sent when nothing else is waiting
 * or when a batch is large or old, so a stream of short tasks costs few
 * writes and a long task's neighbours are not held back.
 *
 * A task that crashes, exits or hangs takes only this process down; the
 * worker sees it and says which attempt it was. The host never outlives
 * its worker: it dies with it (PR_SET_PDEATHSIG, set in rf_init) and
 * leaves when the socket closes. It ends with _exit, never running the
 * program's own clean-up after rf_run.
 */
#define _GNU_SOURCE
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define FLUSH_BYTES 65536
#define FLUSH_COUNT 256
#define FLUSH_AGE_NS 1000000ull
#define LONG_ATTEMPT_NS 50000ull

typedef struct queued {
  struct queued *next;
  rf_msg_task t; /* t.arg points at arg below */
  int cancelled;
  uint8_t arg[];
} queued;

typedef struct {
  rf_runtime *rt;
  rf_hostio io;
  queued *head, *tail;
  uint64_t running;     /* id of the attempt running, 0: none */
  int running_cancelled;
  rf_results results;   /* outcomes not yet sent */
  rf_attempt_result res;
  rf_host_page *page;
} server;

static _Noreturn void leave(int code) {
  fflush(NULL); /* what tasks printed */
  _exit(code);
}

static void fatal(const char *what) {
  rf__log(RF_LOG_ERROR, NULL, "task host: %s: %s", what, rf_last_error());
  leave(RF_EXIT_INTERNAL);
}

static void put_note(server *s, uint64_t id, rf_outcome outcome,
                     const char *msg) {
  if (rf__results_note(&s->results, id, outcome, msg) != RF_OK) {
    fatal("recording an outcome");
  }
}

static void send_results(server *s) {
  if (s->results.n > 0) {
    rf__results_end(&s->results);
    if (rf__hostio_put(&s->io, RF_HOSTMSG_RESULTS, s->results.buf.data,
                       s->results.buf.len) != RF_OK) {
      fatal("sending outcomes");
    }
  }
  if (rf__hostio_flush(&s->io, 1) != RF_OK) fatal("sending outcomes");
  if (s->io.eof) leave(0); /* the worker is gone */
}

static void on_work(server *s, const uint8_t *body, size_t len) {
  rf_reader r;
  uint32_t n;
  rf__reader_init(&r, body, len);
  if (rf__msg_work_read(&r, &n) != RF_OK) fatal("a malformed batch");
  for (uint32_t i = 0; i < n; i++) {
    rf_msg_task t;
    if (rf__msg_work_next(&r, &t) != RF_OK) fatal("a malformed batch");
    if (rf__registry_at(&s->rt->reg, t.task) == NULL) {
      rf__error(RF_ENOTASK, "task index %llu", (unsigned long long)t.task);
      fatal("a malformed batch");
    }
    queued *q = rf__malloc(sizeof *q + t.arglen);
    if (q == NULL) {
      rf__error(RF_ENOMEM, "queueing an attempt");
      fatal("out of memory");
    }
    memcpy(q->arg, t.arg, t.arglen);
    q->t = t;
    q->t.arg = q->arg;
    q->cancelled = 0;
    q->next = NULL;
    if (s->tail) s->tail->next = q;
    else s->head = q;
    s->tail = q;
  }
  if (rf__msg_end(&r) != RF_OK) fatal("a malformed batch");
}

static void on_cancel(server *s, const uint8_t *body, size_t len) {
  rf_reader r;
  uint64_t id;
  rf__reader_init(&r, body, len);
  if (rf__msg_word_read(&r, RF_TAG_CANCEL, &id) != RF_OK) {
    fatal("a malformed cancel");
  }
  if (s->running == id) s->running_cancelled = 1;
  for (queued *q = s->head; q != NULL; q = q->next) {
    if (q->t.id == id) q->cancelled = 1;
  }
}

/* Every queued attempt goes back unstarted (the worker drains). */
static void on_handback(server *s) {
  while (s->head != NULL) {
    queued *q = s->head;
    s->head = q->next;
    put_note(s, q->t.id, RF_OUTCOME_NOTRUN, "not started: draining");
    rf__free(q);
  }
  s->tail = NULL;
}

/* Take what the worker sent, without waiting. */
static void take(server *s) {
  int got, kind;
  const uint8_t *body;
  size_t len;
  if (rf__hostio_fill(&s->io, &got) != RF_OK) fatal("reading");
  while (rf__hostio_next(&s->io, &kind, &body, &len)) {
    switch (kind) {
      case RF_HOSTMSG_WORK: on_work(s, body, len); break;
      case RF_HOSTMSG_CANCEL: on_cancel(s, body, len); break;
      case RF_HOSTMSG_HANDBACK: on_handback(s); break;
      default:
        rf__error(RF_ECODEC, "frame kind %d", kind);
        fatal("a malformed message");
    }
  }
}

/* A running task's rf_ctx_cancelled(): a cancel from the worker, or the
 * worker gone. */
static int probe(void *user, uint64_t id) {
  server *s = user;
  (void)id;
  take(s);
  return s->running_cancelled || s->io.eof;
}

/* The address space in use now, in bytes (0 if unknown). */
static size_t address_space(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%lu", &pages) != 1) pages = 0;
  fclose(f);
  return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void run(server *s, queued *q) {
  const rf_task *task = rf__registry_at(&s->rt->reg, q->t.task);
  if (q->cancelled) {
    put_note(s, q->t.id, RF_OUTCOME_CANCELLED, "cancelled before it ran");
    return;
  }
  /* memory caps what the attempt may add to what the host holds. */
  struct rlimit old = {RLIM_INFINITY, RLIM_INFINITY};
  int capped = 0;
  if (task->opts.memory > 0 && getrlimit(RLIMIT_AS, &old) == 0) {
    size_t base = address_space();
    struct rlimit cap = old;
    rlim_t want = (rlim_t)(base + task->opts.memory);
    if (want < cap.rlim_max || cap.rlim_max == RLIM_INFINITY) {
      cap.rlim_cur = want;
      capped = setrlimit(RLIMIT_AS, &cap) == 0;
    }
  }
  rf_attempt a = {task, q->t.id, q->t.key, (int)q->t.attempt, q->t.arg,
                  q->t.arglen};
  rf_team team = {MPI_COMM_NULL, 0, 1};
  s->running = q->t.id;
  s->running_cancelled = 0;
  /* Before it starts, the page names it: if it takes the host down, the
   * worker knows which attempt did, and since when it ran. */
  atomic_store(&s->page->started_ns, rf__mono_ns());
  atomic_store(&s->page->running, q->t.id);
  rf_status st = rf__attempt_run(s->rt, &a, &team, NULL, probe, s, &s->res);
  atomic_store(&s->page->running, 0);
  s->running = 0;
  if (capped) (void)setrlimit(RLIMIT_AS, &old);
  if (st != RF_OK ||
      rf__results_add(&s->results, q->t.id, s->res.outcome,
                      s->res.payload.data, s->res.payload.len, s->res.t0,
                      s->res.t1) != RF_OK) {
    fatal("running an attempt");
  }
}

_Noreturn void rf__host_serve(rf_runtime *rt) {
  server s;
  memset(&s, 0, sizeof s);
  s.rt = rt;
  rf__hostio_init(&s.io, rt->host_fd);
  void *page = mmap(NULL, sizeof *s.page, PROT_READ | PROT_WRITE, MAP_SHARED,
                    RF_HOST_PAGE_FD, 0);
  if (page == MAP_FAILED) {
    rf__error(RF_EIO, "mmap: %s", strerror(errno));
    fatal("starting");
  }
  s.page = page;
  /* A task's children must not inherit the socket (and write to it) or
   * the page; the mapping outlives its descriptor. */
  (void)close(RF_HOST_PAGE_FD);
  (void)fcntl(rt->host_fd, F_SETFD, FD_CLOEXEC);
  rf_buf hello = {0};
  rf__msg_word(&hello, rf__registry_fingerprint(&rt->reg));
  if (hello.oom ||
      rf__hostio_put(&s.io, RF_HOSTMSG_HELLO, hello.data, hello.len) != RF_OK) {
    fatal("starting");
  }
  rf__buf_free(&hello);
  send_results(&s);
  for (;;) {
    take(&s);
    if (s.io.eof) leave(0);
    if (s.head == NULL) {
      send_results(&s);
      struct pollfd p = {s.io.fd, POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) {
        rf__error(RF_EIO, "poll: %s", strerror(errno));
        fatal("waiting for work");
      }
      continue;
    }
    queued *q = s.head;
    s.head = q->next;
    if (s.head == NULL) s.tail = NULL;
    uint64_t t0 = rf__mono_ns();
    run(&s, q);
    rf__free(q);
    /* Short attempts' outcomes travel together; a longer one goes at
     * once, so the worker can ask rank 0 for more while the next runs. */
    uint64_t t1 = rf__mono_ns();
    if (s.head == NULL || s.results.buf.len >= FLUSH_BYTES ||
        s.results.n >= FLUSH_COUNT || t1 - t0 > LONG_ATTEMPT_NS ||
        t1 - s.results.first_ns > FLUSH_AGE_NS) {
      send_results(&s);
    }
  }
}
