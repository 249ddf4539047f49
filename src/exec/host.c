/* SPDX-License-Identifier: BSD-3-Clause */
/* host.c -- a worker's task host: isolated attempts in a process of their
 * own, so that a task that crashes, exits or hangs costs one attempt, not
 * the job.
 *
 * The host is the same program, started with posix_spawn (a fork of an
 * MPI process is unsafe with InfiniBand registrations), which runs main()
 * like any rank, registers the same tasks, never initialises MPI, and
 * serves attempts over a socket pair (host_serve.c). It is started when
 * the first isolated attempt arrives and kept across attempts: attempts
 * travel to it in batches and it answers in batches, so an isolated empty
 * task costs a few microseconds, not a process.
 *
 * The host answers in batches, so when it dies the worker learns from a
 * page both processes map which attempt was running (and since when, for
 * time limits). That one ends crashed (killed by a signal, or an exit
 * without a result), timed-out (this side killed it past its limit) or
 * stopped (the job stops); the others it held, finished but unreported
 * ones included, go to the next host, not counted as attempts. Nothing
 * here blocks: writes are queued, reads take what is there, the child is
 * reaped with WNOHANG, so the worker's main thread stays free for rank 0.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np, sigabbrev_np */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Attempts with the host at once, beyond the one running: enough to keep
 * it busy between two looks of the worker, few enough to hand back fast. */
#define WINDOW 256
#define WINDOW_BYTES (4u << 20)
/* SIGTERM first; SIGKILL this long after, if it is still there. */
#define KILL_GRACE_NS 1000000000ull
/* How long a host that closed its socket may take to exit. */
#define REAP_GRACE_NS 2000000000ull

typedef struct {
  uint64_t id, key;
  uint32_t task, attempt;
  double timeout; /* seconds; 0: none */
  int cancelled;  /* before it was sent: answered here */
  uint8_t *arg;
  size_t arglen;
} hentry;

struct rf_host {
  rf_runtime *rt;
  pid_t pid;        /* 0: no host */
  rf_hostio io;
  rf_host_page *page; /* shared with the host (exec.h) */
  int page_fd;
  int hello;        /* the host said it serves */
  int blameless;    /* deaths in a row with no attempt running */
  hentry *q;        /* q[head .. head+n): sent first, then queued */
  size_t head, n, cap;
  size_t nsent;     /* the first nsent are with the host */
  size_t sent_bytes;
  uint64_t timed_id;      /* the running attempt whose limit is known */
  double timed_limit;     /* its limit in seconds (0: none) */
  /* Killing the host: why (the running attempt's outcome) and when the
   * SIGKILL follows the SIGTERM. */
  rf_outcome kill_outcome;
  char kill_msg[160];
  uint64_t kill_at_ns, closed_ns;
  int killing;
  uint64_t kill_id; /* the attempt a time limit killed it for (0: none) */
  int condemned;    /* being killed for what it sent: its outcomes are void */
  int garbled;      /* ... for bytes that no frame has: whose, unknown */
  size_t careful;   /* attempts to send one at a time (after garbage) */
  int reaped;       /* waitpid returned it: its pid is no longer ours */
  int stopped;      /* the job stops: no new host */
  rf_buf scratch;
};

int rf__attempt_isolated(const rf_runtime *rt, const rf_task *t, int forced) {
  if (t->opts.io || rf__task_width(t) > 1 || t->opts.isolate < 0) return 0;
  return forced || t->opts.isolate == 1 || rt->opts.isolate;
}

int rf__task_isolated(const rf_runtime *rt, const rf_task *t) {
  return rf__attempt_isolated(rt, t, 0);
}

double rf__task_timeout(const rf_runtime *rt, const rf_task *t) {
  return t->opts.timeout > 0 ? t->opts.timeout : rt->opts.task_timeout;
}

rf_status rf__host_create(rf_runtime *rt, rf_host **out) {
  rf_host *h = rf__calloc(1, sizeof *h);
  if (h == NULL) return rf__error(RF_ENOMEM, "creating a task host");
  h->rt = rt;
  h->io.fd = -1;
  h->page_fd = -1;
  *out = h;
  return RF_OK;
}

size_t rf__host_active(const rf_host *h) { return h ? h->n : 0; }

static hentry *at(rf_host *h, size_t i) { return &h->q[h->head + i]; }

static void entry_free(hentry *e) {
  rf__free(e->arg);
  e->arg = NULL;
}

/* ---- the process ----------------------------------------------------- */

/* The environment of a host: the worker's, without what would make the
 * host's MPI (it links it, never initialises it) think it is a rank of the
 * job, with the socket named. */
static char **host_environ(rf_host *h, int fd) {
  static const char *const drop[] = {"PMIX_", "PMI_", "OMPI_COMM_WORLD_",
                                     "OMPI_MCA_orte_", "OMPI_MCA_ess_",
                                     RF_HOST_ENV "="};
  size_t n = 0;
  while (environ[n] != NULL) n++;
  char **env = rf__calloc(n + 3, sizeof *env);
  if (env == NULL) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int keep = 1;
    for (size_t j = 0; j < sizeof drop / sizeof *drop; j++) {
      if (strncmp(environ[i], drop[j], strlen(drop[j])) == 0) keep = 0;
    }
    if (keep) env[k++] = environ[i];
  }
  static char isolated[] = "OMPI_MCA_ess_singleton_isolated=1";
  static char spec[96];
  snprintf(spec, sizeof spec, "%s=%d:%d:%d:%ld", RF_HOST_ENV, fd,
           h->rt->rank, h->rt->size, (long)getpid());
  env[k++] = isolated;
  env[k++] = spec;
  env[k] = NULL;
  return env;
}

/* The shared page, made once and reused by every host of this worker. */
static rf_status make_page(rf_host *h) {
  if (h->page != NULL) return RF_OK;
  int fd = memfd_create("rankflow-task-host", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, (off_t)sizeof *h->page) != 0) {
    rf_status st = rf__error(RF_EIO, "cannot start a task host: memfd: %s",
                             strerror(errno));
    if (fd >= 0) close(fd);
    return st;
  }
  void *p = mmap(NULL, sizeof *h->page, PROT_READ | PROT_WRITE, MAP_SHARED,
                 fd, 0);
  if (p == MAP_FAILED) {
    close(fd);
    return rf__error(RF_EIO, "cannot start a task host: mmap: %s",
                     strerror(errno));
  }
  /* Above the descriptors the host is given (3 and 4), so that placing
   * one there never overwrites the other. */
  int high = fcntl(fd, F_DUPFD_CLOEXEC, RF_HOST_PAGE_FD + 1);
  close(fd);
  if (high < 0) {
    (void)munmap(p, sizeof *h->page);
    return rf__error(RF_EIO, "cannot start a task host: fcntl: %s",
                     strerror(errno));
  }
  h->page = p;
  h->page_fd = high;
  return RF_OK;
}

static rf_status spawn(rf_host *h) {
  int sv[2];
  RF_ENSURE(h->rt->exe != NULL, RF_EIO,
            "cannot start a task host: this program's file is unknown");
  RF_CHECK(make_page(h));
  atomic_store(&h->page->running, 0);
  atomic_store(&h->page->started_ns, 0);
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return rf__error(RF_EIO, "cannot start a task host: socketpair: %s",
                     strerror(errno));
  }
  int high = fcntl(sv[1], F_DUPFD_CLOEXEC, RF_HOST_PAGE_FD + 1);
  if (high < 0) {
    rf_status st = rf__error(RF_EIO, "cannot start a task host: fcntl: %s",
                             strerror(errno));
    close(sv[0]);
    close(sv[1]);
    return st;
  }
  close(sv[1]);
  sv[1] = high;
  /* The host's end becomes its fd 3, the page its fd 4, and everything
   * above is closed, so it holds none of MPI's sockets or shared memory. */
  enum { HOST_FD = RF_HOST_SOCKET_FD };
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  char **env = host_environ(h, HOST_FD);
  int rc = env == NULL ? ENOMEM : posix_spawn_file_actions_init(&fa);
  if (rc == 0) {
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) posix_spawn_file_actions_destroy(&fa);
  }
  if (rc != 0) {
    rf__free(env);
    close(sv[0]);
    close(sv[1]);
    return rf__error(RF_ENOMEM, "cannot start a task host: %s", strerror(rc));
  }
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&fa, sv[1], HOST_FD);
  if (rc == 0) {
    rc = posix_spawn_file_actions_adddup2(&fa, h->page_fd, RF_HOST_PAGE_FD);
  }
  if (rc == 0) {
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  if (rc == 0) {
    rc = posix_spawn_file_actions_addclosefrom_np(&fa, RF_HOST_PAGE_FD + 1);
  }
  /* Default actions and an empty mask: the worker's handlers and blocked
   * signals are not the host's. Its own process group keeps a terminal's
   * Ctrl-C for the job; it dies with its worker (host_serve.c). */
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) {
    rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                             POSIX_SPAWN_SETSIGDEF |
                                             POSIX_SPAWN_SETPGROUP);
  }
  pid_t pid = 0;
  if (rc == 0) {
    rc = posix_spawn(&pid, h->rt->exe, &fa, &attr, h->rt->argv, env);
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  rf__free(env);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    return rf__error(RF_EIO, "cannot start a task host (%s): %s", h->rt->exe,
                     strerror(rc));
  }
  h->pid = pid;
  rf__hostio_init(&h->io, sv[0]);
  h->hello = 0;
  h->killing = 0;
  h->kill_id = 0;
  h->condemned = 0;
  h->garbled = 0;
  h->reaped = 0;
  h->closed_ns = 0;
  h->nsent = 0;
  h->sent_bytes = 0;
  rf__log(RF_LOG_DEBUG, NULL, "task host %d started", (int)pid);
  return RF_OK;
}

/* Ask the host to go: SIGTERM now, SIGKILL after a grace (timeouts), or
 * SIGKILL at once (a stop). */
static void kill_host(rf_host *h, rf_outcome outcome, const char *msg,
                      int now) {
  if (h->pid <= 0 || h->reaped) return;
  if (!h->killing) {
    h->killing = 1;
    h->kill_outcome = outcome;
    snprintf(h->kill_msg, sizeof h->kill_msg, "%s", msg);
  }
  /* Its process group: what a task started (a shell, a tool) goes too. */
  (void)kill(-h->pid, now ? SIGKILL : SIGTERM);
  h->kill_at_ns = now ? 0 : rf__mono_ns() + KILL_GRACE_NS;
}

/* How a host's death reads: "killed by SIGSEGV". */
static void describe_death(int status, int hello, char *buf, size_t len) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char *abbrev = sigabbrev_np(sig);
    snprintf(buf, len, "%skilled by SIG%s%s",
             hello ? "" : "the task host, before it served, was ",
             abbrev ? abbrev : "?",
             sig == SIGKILL ? " (perhaps by the out-of-memory killer)" : "");
  } else if (!hello) {
    snprintf(buf, len, "the task host exited with status %d before it "
             "served (see its messages above)", WEXITSTATUS(status));
  } else {
    snprintf(buf, len, "exited with status %d without a result",
             WEXITSTATUS(status));
  }
}

/* Take entry i out of the queue, keeping the others in order (the front
 * one by moving the head, in O(1)); its id. */
static uint64_t drop_at(rf_host *h, size_t i) {
  hentry *e = at(h, i);
  uint64_t id = e->id;
  if (i < h->nsent) {
    h->sent_bytes -= e->arglen;
    h->nsent--;
  }
  entry_free(e);
  if (i == 0) h->head++;
  else memmove(e, e + 1, (h->n - i - 1) * sizeof *e);
  h->n--;
  return id;
}

/* Take entry i out of the queue and hand fn its outcome: msg, and when
 * it ran (0, 0: unknown). */
static rf_status end_at(rf_host *h, size_t i, rf_outcome outcome,
                        const char *msg, double t0, double t1,
                        rf_attempt_done_fn fn, void *user, int *count) {
  uint64_t id = drop_at(h, i);
  (*count)++;
  rf_buf b = {0};
  rf__text_encode(&b, msg);
  rf_status st = b.oom ? rf__error(RF_ENOMEM, "recording an outcome")
                       : fn(user, id, outcome, b.data, b.len, t0, t1);
  rf__buf_free(&b);
  return st;
}

/* The host is gone (reaped with status, or never started: why). Its
 * running attempt ends; the others it held wait for the next host. */
static rf_status host_gone(rf_host *h, int status, rf_outcome why_outcome,
                           const char *why, rf_attempt_done_fn fn, void *user,
                           int *count) {
  char msg[256];
  rf_outcome outcome = RF_OUTCOME_KILLED;
  if (why != NULL) {
    outcome = why_outcome;
    snprintf(msg, sizeof msg, "%s", why);
  } else if (h->killing) {
    outcome = h->kill_outcome;
    snprintf(msg, sizeof msg, "%s", h->kill_msg);
  } else if (rf__signal_requested() == RF_SIGNAL_STOP ||
             (WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM ||
                                      WTERMSIG(status) == SIGINT ||
                                      WTERMSIG(status) == SIGHUP))) {
    /* scancel and srun signal every process of the step, task hosts
     * too: a job being stopped is no crash of the task (nor counted
     * against --crash-limit); its attempts run again. */
    outcome = RF_OUTCOME_STOPPED;
    describe_death(status, h->hello, msg, sizeof msg);
    size_t n = strlen(msg);
    snprintf(msg + n, sizeof msg - n, ": stopped");
  } else {
    /* Dead before it served: the program, not the task (its main()
     * failed before rf_run); not a crash to count or retry. */
    if (!h->hello) outcome = RF_OUTCOME_PERMANENT;
    describe_death(status, h->hello, msg, sizeof msg);
  }
  if (h->pid > 0) {
    rf__log(RF_LOG_DEBUG, NULL, "task host %d ended: %s", (int)h->pid, msg);
  }
  int killed = h->killing, garbled = h->garbled;
  uint64_t kill_id = h->kill_id;
  rf__hostio_free(&h->io);
  h->pid = 0;
  h->killing = h->garbled = 0;
  h->kill_id = 0;
  size_t nsent = h->nsent;
  uint64_t running = h->page ? atomic_load(&h->page->running) : 0;
  /* Killed past a time limit, or for garbage one attempt alone wrote:
   * that attempt, even if another started since. */
  if (killed && kill_id != 0) running = kill_id;
  if (killed && garbled) {
    /* Nobody to blame: all of them again, one at a time. */
    h->careful = nsent;
    h->nsent = 0;
    h->sent_bytes = 0;
    return RF_OK;
  }
  double t0 = 0;
  if (running != 0) {
    uint64_t since = atomic_load(&h->page->started_ns);
    t0 = rf__now() - (double)(rf__mono_ns() - since) * 1e-9;
  }
  h->nsent = 0;
  h->sent_bytes = 0;
  if (h->n == 0 || (nsent == 0 && why == NULL && h->hello)) return RF_OK;
  /* A stop ends every attempt the host held. Otherwise the one the page
   * names ends, and the rest run again in the next host. A host that
   * never started, or keeps dying between attempts, fails the first
   * attempt, so a broken build cannot loop. */
  size_t ending = outcome == RF_OUTCOME_STOPPED ? nsent : 1;
  size_t pick = 0;
  if (outcome != RF_OUTCOME_STOPPED && why == NULL) {
    while (running != 0 && pick < nsent && at(h, pick)->id != running) pick++;
    if (running == 0 || pick == nsent) {
      pick = 0;
      if (h->hello && ++h->blameless < 3) return RF_OK;
    }
  }
  if (nsent == 0) ending = 1; /* a host that could not start: the first */
  h->blameless = 0;
  for (size_t i = 0; i < ending && h->n > pick; i++) {
    RF_CHECK(end_at(h, pick, outcome, msg, t0, t0 > 0 ? rf__now() : 0, fn,
                    user, count));
  }
  return RF_OK;
}

/* ---- attempts to the host -------------------------------------------- */

rf_status rf__host_submit(rf_host *h, const rf_attempt *a) {
  if (h->head > 0 && h->head + h->n == h->cap) {
    memmove(h->q, h->q + h->head, h->n * sizeof *h->q);
    h->head = 0;
  }
  size_t used = h->head + h->n;
  RF_CHECK(rf__array_reserve(&h->q, sizeof *h->q, used, &h->cap, 64,
                             "queueing an isolated attempt"));
  hentry *e = &h->q[used];
  memset(e, 0, sizeof *e);
  e->arg = rf__malloc(a->arglen ? a->arglen : 1);
  if (e->arg == NULL) return rf__error(RF_ENOMEM, "queueing an isolated attempt");
  memcpy(e->arg, a->arg, a->arglen);
  e->arglen = a->arglen;
  e->id = a->id;
  e->key = a->key;
  e->task = a->task->index;
  e->attempt = (uint32_t)a->attempt;
  e->timeout = rf__task_timeout(h->rt, a->task);
  h->n++;
  return RF_OK;
}

void rf__host_cancel(rf_host *h, uint64_t id) {
  if (h == NULL) return;
  for (size_t i = 0; i < h->n; i++) {
    hentry *e = at(h, i);
    if (e->id != id) continue;
    if (i >= h->nsent) {
      e->cancelled = 1;
    } else if (h->pid > 0) {
      rf_buf b = {0};
      rf__msg_word(&b, id);
      if (b.oom || rf__hostio_put(&h->io, RF_HOSTMSG_CANCEL, b.data,
                                  b.len) != RF_OK) {
        /* No memory to tell it: the attempt runs to its end. */
        rf__log(RF_LOG_WARN, NULL, "cannot pass a cancel to the task host");
      }
      rf__buf_free(&b);
    }
  }
}

/* Send queued attempts while the host has room: one WORK frame. */
static rf_status feed(rf_host *h) {
  /* Nothing before the host said it registered the worker's tasks. */
  if (h->nsent >= h->n || h->pid <= 0 || h->killing || !h->hello) {
    return RF_OK;
  }
  rf_buf *b = &h->scratch;
  rf__msg_batch_begin(b);
  uint32_t k = 0;
  size_t window = h->careful > 0 ? 1 : WINDOW;
  while (h->nsent < h->n && h->nsent < window &&
         h->sent_bytes < WINDOW_BYTES) {
    hentry *e = at(h, h->nsent);
    if (e->cancelled) break; /* answered by collect, in order */
    rf_msg_task t = {e->id, e->key, e->task, e->attempt, 0, 1, e->arg,
                     e->arglen};
    rf__msg_work_add(b, &t);
    h->nsent++;
    h->sent_bytes += e->arglen;
    k++;
  }
  if (k == 0) return RF_OK;
  rf__msg_batch_end(b, k);
  if (b->oom) return rf__error(RF_ENOMEM, "sending attempts to a task host");
  RF_CHECK(rf__hostio_put(&h->io, RF_HOSTMSG_WORK, b->data, b->len));
  return rf__hostio_flush(&h->io, 0);
}

/* Queued attempts cancelled before they were sent, at the front. */
static rf_status answer_cancelled(rf_host *h, rf_attempt_done_fn fn,
                                  void *user, int *count) {
  while (h->n > h->nsent && h->nsent == 0 && at(h, 0)->cancelled) {
    RF_CHECK(end_at(h, 0, RF_OUTCOME_CANCELLED, "cancelled before it ran", 0,
                    0, fn, user, count));
  }
  return RF_OK;
}

rf_status rf__host_take_unstarted(rf_host *h, rf_attempt_id_fn fn,
                                  void *user) {
  if (h == NULL) return RF_OK;
  /* Not sent: answered now, from the back so the front stays in order. */
  while (h->n > h->nsent) {
    /* a cancelled one too: rank 0 waits for it */
    RF_CHECK(fn(user, drop_at(h, h->n - 1)));
  }
  if (h->nsent > 1 && h->pid > 0) {
    RF_CHECK(rf__hostio_put(&h->io, RF_HOSTMSG_HANDBACK, NULL, 0));
    RF_CHECK(rf__hostio_flush(&h->io, 0));
  }
  return RF_OK;
}

void rf__host_stop(rf_host *h) {
  if (h == NULL) return;
  h->stopped = 1;
  kill_host(h, RF_OUTCOME_STOPPED, "stopped: the job is stopping", 1);
}

/* ---- outcomes from the host ------------------------------------------ */

static rf_status on_results(rf_host *h, const uint8_t *body, size_t len,
                            rf_attempt_done_fn fn, void *user, int *count) {
  rf_reader r;
  uint32_t n;
  rf__reader_init(&r, body, len);
  RF_CHECK(rf__msg_results_read(&r, &n));
  for (uint32_t k = 0; k < n; k++) {
    rf_msg_outcome o;
    RF_CHECK(rf__msg_results_next(&r, &o));
    /* In order, except that a hand-back read while an attempt ran
     * answers the unstarted ones before it. */
    size_t i = 0;
    while (i < h->nsent && at(h, i)->id != o.id) i++;
    RF_ENSURE(i < h->nsent, RF_ECODEC,
              "malformed message from a task host: outcome of %llx",
              (unsigned long long)o.id);
    (void)drop_at(h, i);
    if (h->careful > 0) h->careful--;
    (*count)++;
    RF_CHECK(fn(user, o.id, o.outcome, o.payload, o.len, o.t0, o.t1));
  }
  return rf__msg_end(&r);
}

static rf_status read_host(rf_host *h, rf_attempt_done_fn fn, void *user,
                           int *count) {
  int got, kind;
  const uint8_t *body;
  size_t len;
  RF_CHECK(rf__hostio_fill(&h->io, &got));
  while (rf__hostio_next(&h->io, &kind, &body, &len)) {
    rf_status st = RF_OK;
    if (kind == RF_HOSTMSG_HELLO) {
      rf_reader r;
      uint64_t fp;
      rf__reader_init(&r, body, len);
      st = rf__msg_word_read(&r, RF_TAG_STARTED, &fp);
      if (st == RF_OK && fp != rf__registry_fingerprint(&h->rt->reg)) {
        /* The program file changed under the job (rebuilt?): nothing
         * it would run can be trusted, and retrying will not help. */
        h->condemned = 1;
        kill_host(h, RF_OUTCOME_PERMANENT, "the task host registered other "
                  "tasks than its worker (was the program rebuilt during "
                  "the run?)", 1);
        return RF_OK;
      }
      h->hello = 1;
    } else if (kind == RF_HOSTMSG_RESULTS) {
      if (h->condemned) continue;
      st = on_results(h, body, len, fn, user, count);
    } else if (kind < 0) {
      st = rf__error(RF_ECODEC, "malformed message from a task host: not a "
                     "frame rankflow writes (did the task write to its "
                     "descriptor 3?)");
    } else {
      st = rf__error(RF_ECODEC, "malformed message from a task host: "
                     "kind %d", kind);
    }
    if (st == RF_ECODEC) {
      /* Garbage on the socket (a task wrote to it): the host is killed.
       * Which attempt wrote it is known only when one attempt was out:
       * otherwise nobody is blamed, and the next host gets those attempts
       * one at a time, so that a second time names the writer. */
      h->condemned = 1;
      if (h->careful > 0 && h->nsent == 1) {
        h->kill_id = at(h, 0)->id;
      } else {
        h->garbled = 1;
      }
      kill_host(h, RF_OUTCOME_KILLED, rf_last_error(), 1);
      return RF_OK;
    }
    RF_CHECK(st);
  }
  return RF_OK;
}

/* A time limit passed, a kill's grace ran out, or the host closed. */
static rf_status watch(rf_host *h, rf_attempt_done_fn fn, void *user,
                       int *count) {
  uint64_t now = rf__mono_ns();
  if (h->killing && h->kill_at_ns != 0 && now >= h->kill_at_ns) {
    (void)kill(-h->pid, SIGKILL);
    h->kill_at_ns = 0;
  }
  uint64_t running = atomic_load(&h->page->running);
  if (!h->killing && running != 0 && running != h->timed_id) {
    /* The running attempt's limit, looked up when it changes. */
    h->timed_id = running;
    h->timed_limit = 0;
    for (size_t i = 0; i < h->nsent; i++) {
      if (at(h, i)->id == running) h->timed_limit = at(h, i)->timeout;
    }
  }
  if (!h->killing && running != 0 && h->timed_limit > 0 &&
      now - atomic_load(&h->page->started_ns) >
          (uint64_t)(h->timed_limit * 1e9)) {
    char msg[160];
    snprintf(msg, sizeof msg, "ran past its time limit of %g s",
             h->timed_limit);
    kill_host(h, RF_OUTCOME_TIMED_OUT, msg, 0);
    h->kill_id = running;
  }
  int status = 0;
  pid_t r = waitpid(h->pid, &status, WNOHANG);
  if (r == h->pid) {
    /* Outcomes it wrote before it died still count. Its pid may now be
     * anyone's: nothing signals it any more. */
    h->reaped = 1;
    (void)kill(-r, SIGKILL); /* what its tasks left in its group */
    RF_CHECK(read_host(h, fn, user, count));
    return host_gone(h, status, RF_OUTCOME_KILLED, NULL, fn, user, count);
  }
  if (r < 0 && errno != EINTR) {
    return rf__error(RF_EIO, "waiting for task host %d: %s", (int)h->pid,
                     strerror(errno));
  }
  if (h->io.eof) {
    /* Closed its socket but lives on (a task closed fd 3?): give it a
     * moment to exit, then make sure. */
    if (h->closed_ns == 0) h->closed_ns = now;
    else if (now - h->closed_ns > REAP_GRACE_NS) {
      kill_host(h, RF_OUTCOME_KILLED, "the task host closed its socket", 1);
    }
  }
  return RF_OK;
}

rf_status rf__host_collect(rf_host *h, rf_attempt_done_fn fn, void *user,
                           int *count) {
  *count = 0;
  if (h == NULL) return RF_OK;
  RF_CHECK(answer_cancelled(h, fn, user, count));
  if (h->pid > 0) {
    RF_CHECK(read_host(h, fn, user, count));
    RF_CHECK(rf__hostio_flush(&h->io, 0));
    RF_CHECK(watch(h, fn, user, count));
  }
  RF_CHECK(answer_cancelled(h, fn, user, count));
  if (h->n > 0 && h->pid <= 0) {
    if (h->stopped) {
      /* No new host while the job stops: what is left never ran. */
      while (h->n > 0) {
        RF_CHECK(end_at(h, 0, RF_OUTCOME_NOTRUN, "not started: stopping", 0,
                        0, fn, user, count));
      }
      return RF_OK;
    }
    rf_status st = spawn(h);
    if (st != RF_OK) {
      /* Cannot start one (no processes left, the file is gone): the
       * attempt fails transiently, not as a crash of the task. */
      char why[512];
      snprintf(why, sizeof why, "%s", rf_last_error());
      return host_gone(h, 0, RF_OUTCOME_TRANSIENT, why, fn, user, count);
    }
  }
  return feed(h);
}

void rf__host_wait(rf_host *h, uint64_t timeout_ns) {
  if (timeout_ns == 0) return;
  if (h == NULL || h->pid <= 0 || h->nsent == 0 || h->io.eof) {
    rf__sleep((double)timeout_ns * 1e-9);
    return;
  }
  (void)rf__hostio_wait(&h->io, timeout_ns);
}

void rf__host_destroy(rf_host *h) {
  if (h == NULL) return;
  if (h->pid > 0 && !h->reaped) {
    (void)kill(-h->pid, SIGKILL);
    int status;
    while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  rf__hostio_free(&h->io);
  if (h->page != NULL) (void)munmap(h->page, sizeof *h->page);
  if (h->page_fd >= 0) (void)close(h->page_fd);
  for (size_t i = 0; i < h->n; i++) entry_free(at(h, i));
  rf__free(h->q);
  rf__buf_free(&h->scratch);
  rf__free(h);
}
