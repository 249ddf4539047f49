/* SPDX-License-Identifier: BSD-3-Clause */
/* worker.c -- the loop of every rank but 0: run tasks, report outcomes.
 *
 * A worker receives batches, runs their tasks one after another on its
 * main thread (the one that calls MPI), and sends the outcomes back in one
 * message per batch, or sooner when a long task holds results back. I/O
 * tasks skip the line: they go to the worker's I/O slots (exec/iopool.c)
 * as they arrive, and isolated ones to its task host (exec/host.c), a
 * process of its own; their outcomes are collected whenever the main
 * thread looks for messages. A parallel task arrives when rank 0 has made
 * this worker idle for it; it runs between tasks, as one member
 * (wire/group.c gives the communicator), and this member's outcome goes
 * back alone. Steps run between tasks too, in the order rank 0 sent them.
 * While a task runs, rf_ctx_cancelled() lets the worker peek for a cancel
 * or a stop from rank 0, so cancelling a running task needs no second
 * thread; a task waiting on subtasks re-enters this loop (nest_client.c).
 * Idle, it waits with back-off, never spinning. A worker never exits on
 * its own: on an error it tells rank 0 and waits for the word to leave, so
 * every rank leaves together with the same code. What it sends and
 * receives is laid out by wire/proto.c.
 */
#include "worker.h"

#include <inttypes.h>
#include <string.h>

#define RESULT_MAX_AGE_NS 1000000ull  /* hold outcomes at most this long */
#define POLL_INTERVAL_NS 100000ull    /* look for messages between tasks */
#define HOST_WAIT_NS 50000ull         /* a wait while the task host works */

/* A task rank 0 sent, as the message holds it (t.arg points into it). */
typedef struct {
  rf_msg_task t;
  int cancelled;
} wtask;

/* A task running on this rank: a copy (its batch may be freed while a
 * task waiting on subtasks lets others run), linked to the one it runs
 * inside, if any: the stack of tasks waiting inside one another. */
typedef struct running_task {
  rf_msg_task t;
  int cancelled; /* rank 0 cancelled it */
  int blocked;   /* it waited on subtasks: rank 0 was told (BLOCK) */
  struct running_task *prev;
} running_task;

typedef struct batch {
  struct batch *next;
  rf_buf data;     /* the message the tasks' arguments point into */
  wtask *tasks;
  uint32_t n, next_task;
} batch;

/* A parallel task this rank runs as one member, run between tasks. */
typedef struct pending_par {
  struct pending_par *next;
  uint64_t seq; /* arrival order among steps and parallel tasks */
  wtask t;
  uint32_t member, k;
  int *ranks;
  rf_buf data; /* the message, which t.arg points into */
} pending_par;

/* A step rank 0 asked for, run between tasks. */
typedef struct pending_step {
  struct pending_step *next;
  uint64_t seq; /* arrival order among steps and parallel tasks */
  uint32_t index;
  size_t len;
  uint8_t arg[];
} pending_step;

typedef struct {
  rf_runtime *rt;
  rf_sendq *sendq;
  rf_iopool *io;
  rf_host *host;      /* isolated attempts run there */
  uint64_t drain_ns;  /* when the drain began (0: none) */
  pending_step *steps, *steps_tail;
  pending_par *pars, *pars_tail;
  uint64_t arrivals; /* steps and parallel tasks run in the order sent */
  batch *head, *tail;
  rf_buf rbuf;
  rf_results results;  /* outcomes not yet sent */
  uint64_t last_poll_ns;
  rf_attempt_result res;
  running_task *running; /* the task running, innermost of a stack */
  int depth;             /* tasks waiting on subtasks, on this stack */
  rf_status probe_error; /* met while a task was running */
  int stop_code;      /* -1 until rank 0 says leave */
  int signalled;      /* signal kind already reported to rank 0 */
  int broken;         /* an error was reported; run nothing more */
  int draining;
} worker;

static void batch_free(batch *b) {
  if (b == NULL) return;
  rf__buf_free(&b->data);
  rf__free(b->tasks);
  rf__free(b);
}

/* ---- outcomes ----------------------------------------------------------- */

static rf_status add_result(worker *w, uint64_t id, rf_outcome outcome,
                            const uint8_t *payload, size_t len, double t0,
                            double t1) {
  return rf__results_add(&w->results, id, outcome, payload, len, t0, t1);
}

static rf_status add_note(worker *w, uint64_t id, rf_outcome outcome,
                          const char *msg) {
  return rf__results_note(&w->results, id, outcome, msg);
}

static rf_status flush(worker *w) {
  if (w->results.n == 0) return RF_OK;
  rf__results_end(&w->results);
  return rf__send(w->sendq, 0, RF_TAG_RESULTS, &w->results.buf);
}

/* A message of one number to rank 0: a task id or a signal kind. */
static rf_status send_word(worker *w, int tag, uint64_t v) {
  rf_buf b = {0};
  rf__msg_word(&b, v);
  return rf__send(w->sendq, 0, tag, &b);
}

/* ---- messages from rank 0 ----------------------------------------------- */

static rf_status on_work(worker *w, rf_reader *r) {
  uint32_t n;
  RF_CHECK(rf__msg_work_read(r, &n));
  batch *b = rf__calloc(1, sizeof *b);
  if (b == NULL) return rf__error(RF_ENOMEM, "receiving a batch");
  b->tasks = rf__calloc(n ? n : 1, sizeof *b->tasks);
  if (b->tasks == NULL) {
    batch_free(b);
    return rf__error(RF_ENOMEM, "receiving a batch of %u", n);
  }
  rf_status st = RF_OK;
  uint32_t kept = 0; /* CPU tasks stay in the batch; I/O tasks go to slots */
  for (uint32_t i = 0; i < n && st == RF_OK; i++) {
    wtask *t = &b->tasks[kept];
    st = rf__msg_work_next(r, &t->t);
    const rf_task *task = st == RF_OK ? rf__registry_at(&w->rt->reg, t->t.task)
                                      : NULL;
    if (st == RF_OK && task == NULL) {
      st = rf__error(RF_ENOTASK, "task index %" PRIu64 " is not registered",
                     t->t.task);
    }
    if (st != RF_OK) break;
    int isolated = rf__attempt_isolated(w->rt, task, t->t.isolate);
    if (!task->opts.io && !isolated) {
      kept++;
    } else if (w->draining) {
      st = add_note(w, t->t.id, RF_OUTCOME_NOTRUN, "not started: draining");
    } else {
      /* I/O tasks to the slots, isolated ones to the task host: both run
       * beside this thread, which stays free for rank 0. */
      rf_attempt a = {task, t->t.id, t->t.key, (int)t->t.attempt, t->t.arg,
                      t->t.arglen};
      st = isolated ? rf__host_submit(w->host, &a) : rf__iopool_submit(w->io, &a);
      if (st == RF_OK && isolated && t->t.report_start) {
        st = send_word(w, RF_TAG_STARTED, t->t.id);
      }
    }
  }
  if (st == RF_OK) st = rf__msg_end(r);
  if (st != RF_OK) {
    batch_free(b);
    return st;
  }
  /* The batch keeps the received bytes; the next receive gets a new
   * buffer. */
  b->data = w->rbuf;
  memset(&w->rbuf, 0, sizeof w->rbuf);
  if (kept == 0) { /* I/O tasks only: nothing left to hold */
    batch_free(b);
    return RF_OK;
  }
  b->n = kept;
  if (w->tail) w->tail->next = b;
  else w->head = b;
  w->tail = b;
  return RF_OK;
}

/* Mark a queued or running task cancelled. A task already finished is
 * left alone: rank 0 drops its result. */
static void on_cancel(worker *w, uint64_t id) {
  rf__iopool_cancel(w->io, id);
  rf__host_cancel(w->host, id);
  for (pending_par *p = w->pars; p != NULL; p = p->next) {
    if (p->t.t.id == id) p->t.cancelled = 1;
  }
  for (running_task *run = w->running; run != NULL; run = run->prev) {
    if (run->t.id == id) run->cancelled = 1;
  }
  for (batch *b = w->head; b != NULL; b = b->next) {
    for (uint32_t i = b->next_task; i < b->n; i++) {
      if (b->tasks[i].t.id == id) b->tasks[i].cancelled = 1;
    }
  }
}

static rf_status not_started(void *user, uint64_t id) {
  return add_note(user, id, RF_OUTCOME_NOTRUN, "not started: draining");
}

/* Hand back every task not started yet (drain). */
static rf_status give_back(worker *w) {
  if (w->drain_ns == 0) w->drain_ns = rf__mono_ns();
  RF_CHECK(rf__iopool_take_unstarted(w->io, not_started, w));
  RF_CHECK(rf__host_take_unstarted(w->host, not_started, w));
  for (batch *b = w->head; b != NULL; b = b->next) {
    for (; b->next_task < b->n; b->next_task++) {
      RF_CHECK(add_note(w, b->tasks[b->next_task].t.id, RF_OUTCOME_NOTRUN,
                        "not started: draining"));
    }
  }
  return flush(w);
}

static rf_status on_step(worker *w, rf_reader *r) {
  uint64_t index;
  const uint8_t *arg;
  size_t len;
  RF_CHECK(rf__msg_step_read(r, &index, &arg, &len));
  RF_ENSURE(rf__registry_step_at(&w->rt->reg, index) != NULL, RF_ECODEC,
            "malformed message: step %llu", (unsigned long long)index);
  pending_step *s = rf__malloc(sizeof *s + len);
  if (s == NULL) return rf__error(RF_ENOMEM, "queueing a step");
  s->next = NULL;
  s->seq = ++w->arrivals;
  s->index = (uint32_t)index;
  s->len = len;
  memcpy(s->arg, arg, len);
  if (w->steps_tail) w->steps_tail->next = s;
  else w->steps = s;
  w->steps_tail = s;
  return RF_OK;
}

/* Run the steps rank 0 asked for (never from inside a task: the cancel
 * probe only queues them). A step that failed here was logged and is
 * known to rank 0 through the step's agreement; only MPI errors stop us. */
static rf_status run_step(worker *w) {
  pending_step *s = w->steps;
  w->steps = s->next;
  if (w->steps == NULL) w->steps_tail = NULL;
  RF_CHECK(flush(w)); /* outcomes first: rank 0 may be waiting on them */
  rf_status agreed; /* rank 0 reports it; this rank only takes part */
  rf_status st = rf__step_run(w->rt, s->index, s->arg, s->len, &agreed);
  rf__free(s);
  return st;
}

static void par_free(pending_par *p) {
  if (p == NULL) return;
  rf__free(p->ranks);
  rf__buf_free(&p->data);
  rf__free(p);
}

static rf_status on_par(worker *w, rf_reader *r) {
  pending_par *p = rf__calloc(1, sizeof *p);
  if (p == NULL) return rf__error(RF_ENOMEM, "queueing a parallel task");
  rf_status st = rf__msg_par_read(r, w->rt->size, &p->t.t, &p->member,
                                  &p->ranks, &p->k);
  if (st == RF_OK && (rf__registry_at(&w->rt->reg, p->t.t.task) == NULL ||
                      p->ranks[p->member] != w->rt->rank)) {
    st = rf__error(RF_ECODEC, "malformed message: parallel task");
  }
  if (st != RF_OK) {
    par_free(p);
    return st;
  }
  p->seq = ++w->arrivals;
  p->data = w->rbuf; /* t.arg points into it */
  memset(&w->rbuf, 0, sizeof w->rbuf);
  if (w->pars_tail) w->pars_tail->next = p;
  else w->pars = p;
  w->pars_tail = p;
  return RF_OK;
}

static rf_status on_message(worker *w, int src, int tag) {
  uint64_t v;
  rf_reader r;
  rf__reader_init(&r, w->rbuf.data, w->rbuf.len);
  RF_ENSURE(src == 0, RF_ECODEC, "malformed message: from rank %d", src);
  switch (tag) {
    case RF_TAG_WORK:
      return on_work(w, &r);
    case RF_TAG_CANCEL:
      RF_CHECK(rf__msg_word_read(&r, tag, &v));
      on_cancel(w, v);
      return RF_OK;
    case RF_TAG_STOP:
      RF_CHECK(rf__msg_word_read(&r, tag, &v));
      RF_ENSURE(v <= 255, RF_ECODEC, "malformed message: exit code %llu",
                (unsigned long long)v);
      w->stop_code = (int)v;
      return RF_OK;
    case RF_TAG_DRAIN:
      RF_CHECK(rf__msg_drain_read(&r));
      w->draining = 1;
      return give_back(w);
    case RF_TAG_STEP:
      return on_step(w, &r);
    case RF_TAG_PAR:
      return on_par(w, &r);
    case RF_TAG_SUBDONE:
      return rf__client_on_done(&r);
    default:
      return rf__error(RF_ECODEC, "malformed message: tag %d", tag);
  }
}

static rf_status io_ended(void *user, uint64_t id, rf_outcome outcome,
                          const uint8_t *payload, size_t len, double t0,
                          double t1) {
  return add_result(user, id, outcome, payload, len, t0, t1);
}

static rf_status poll(worker *w, int *got) {
  int ended, hosted;
  *got = 0;
  w->last_poll_ns = rf__mono_ns();
  /* A drain's grace is over: the task host's attempts end stopped. */
  if (w->drain_ns != 0 && rf__host_active(w->host) > 0 &&
      w->last_poll_ns - w->drain_ns > (uint64_t)(w->rt->opts.drain_grace * 1e9)) {
    rf__host_stop(w->host);
  }
  /* I/O and isolated outcomes go out at once: a slot is free again only
   * when rank 0 hears of it. */
  RF_CHECK(rf__iopool_collect(w->io, io_ended, w, &ended));
  RF_CHECK(rf__host_collect(w->host, io_ended, w, &hosted));
  if (ended + hosted > 0) {
    *got += ended + hosted;
    RF_CHECK(flush(w));
  }
  for (;;) {
    int any, src, tag;
    RF_CHECK(rf__recv_any(w->rt->comm, MPI_ANY_SOURCE, MPI_ANY_TAG, &w->rbuf,
                          &any, &src, &tag));
    if (!any) break;
    (*got)++;
    RF_CHECK(on_message(w, src, tag));
    if (w->stop_code >= 0) break;
  }
  return rf__sendq_progress(w->sendq);
}

/* Called by a running task's rf_ctx_cancelled(): take every message from
 * rank 0 in the order sent, so a cancel never overtakes the batch holding
 * its task (work is queued for later; a stop or drain is noted). An error
 * is kept for the main loop to report, and stops the task. */
static int cancel_probe(void *user, uint64_t id) {
  worker *w = user;
  int got, cancelled = 0;
  if (w->probe_error == RF_OK) w->probe_error = poll(w, &got);
  for (running_task *run = w->running; run != NULL; run = run->prev) {
    if (run->t.id == id) cancelled = run->cancelled;
  }
  return cancelled || w->stop_code >= 0 || w->probe_error != RF_OK;
}

/* ---- running ------------------------------------------------------------ */

static const wtask *next_task(worker *w) {
  while (w->head != NULL) {
    batch *b = w->head;
    if (b->next_task < b->n) return &b->tasks[b->next_task++];
    w->head = b->next;
    if (w->head == NULL) w->tail = NULL;
    batch_free(b);
  }
  return NULL;
}

static int batch_done(const worker *w) {
  return w->head == NULL || w->head->next_task == w->head->n;
}

/* The attempt of t, as exec/ runs it. */
static rf_attempt attempt_of(const worker *w, const rf_msg_task *t) {
  rf_attempt a = {rf__registry_at(&w->rt->reg, t->task), t->id, t->key,
                  (int)t->attempt, t->arg, t->arglen};
  return a;
}

static rf_status run_one(worker *w, const wtask *t) {
  if (t->cancelled) {
    return add_note(w, t->t.id, RF_OUTCOME_CANCELLED,
                    "cancelled before it ran");
  }
  if (t->t.report_start) {
    RF_CHECK(send_word(w, RF_TAG_STARTED, t->t.id));
  }
  running_task me = {t->t, 0, 0, w->running};
  rf_attempt a = attempt_of(w, &me.t);
  /* One result buffer serves every attempt; one run inside another's
   * wait gets its own, so the outer attempt's times survive. */
  rf_attempt_result own = {0}, *res = me.prev ? &own : &w->res;
  w->running = &me;
  rf_status st = rf__attempt_run(w->rt, &a, NULL, &rf__worker_flow_ops,
                                 cancel_probe, w, res);
  w->running = me.prev;
  rf__client_task_done(me.t.id); /* handles of subtasks it left behind */
  /* It stopped waiting for good: rank 0 may send this rank any work. */
  if (st == RF_OK && me.blocked) st = send_word(w, RF_TAG_UNBLOCK, me.t.id);
  if (st == RF_OK && w->probe_error != RF_OK) {
    st = w->probe_error;
    w->probe_error = RF_OK;
  }
  if (st == RF_OK) {
    st = add_result(w, me.t.id, res->outcome, res->payload.data,
                    res->payload.len, res->t0, res->t1);
  }
  rf__buf_free(&own.payload);
  return st;
}

/* Run the parallel tasks rank 0 sent, one member's share each: meet the
 * other members, run, report this member's outcome. A cancelled one
 * still meets the others (they would wait), then reports at once. */
/* While members meet: give up when rank 0 says stop, or this rank broke
 * (the others then get the same word; nobody waits forever). */
static int meet_abort(void *user) {
  worker *w = user;
  int got;
  if (w->probe_error == RF_OK) w->probe_error = poll(w, &got);
  return w->stop_code >= 0 || w->broken || w->probe_error != RF_OK;
}

static rf_status run_par(worker *w) {
  {
    pending_par *p = w->pars;
    w->pars = p->next;
    if (w->pars == NULL) w->pars_tail = NULL;
    RF_CHECK(flush(w));
    rf_team team;
    team.size = (int)p->k;
    team.rank = (int)p->member;
    /* The members agree on a cancel in their meeting: all run or none. */
    int cancelled = p->t.cancelled;
    rf_status st = rf__group_comm(w->rt->group_comm, w->rt->rank, p->ranks,
                                  (int)p->k, p->t.t.id, meet_abort, w,
                                  &cancelled, &team.comm);
    if (st == RF_OK && w->probe_error != RF_OK) {
      st = w->probe_error;
      w->probe_error = RF_OK;
    }
    if (st == RF_OK && cancelled) {
      st = rf__attempt_note(&w->res, RF_OUTCOME_CANCELLED,
                            "cancelled before it ran");
    } else if (st == RF_OK) {
      running_task me = {p->t.t, 0, 0, w->running};
      rf_attempt a = attempt_of(w, &me.t);
      w->running = &me;
      st = rf__attempt_run(w->rt, &a, &team, NULL, cancel_probe, w, &w->res);
      w->running = me.prev;
      rf__client_task_done(me.t.id);
      if (st == RF_OK && w->probe_error != RF_OK) {
        st = w->probe_error;
        w->probe_error = RF_OK;
      }
    }
    if (st == RF_OK) {
      rf_buf b = {0};
      rf_msg_outcome o = {p->t.t.id, w->res.outcome, w->res.payload.data,
                          w->res.payload.len, w->res.t0, w->res.t1};
      rf__msg_par_done(&b, &o, p->member);
      st = rf__send(w->sendq, 0, RF_TAG_PAR_DONE, &b);
    }
    par_free(p);
    return st;
  }
}

/* Report an error to rank 0 once; afterwards only wait to be told to go. */
static int report(worker *w, rf_status st) {
  if (w->broken) return 0;
  w->broken = 1;
  char msg[1200];
  rf__describe(st, msg, sizeof msg);
  rf_buf b = {0};
  rf__msg_fatal(&b, msg);
  if (rf__send(w->sendq, 0, RF_TAG_FATAL, &b) != RF_OK) {
    rf__log(RF_LOG_ERROR, NULL, "%s (and rank 0 cannot be told: %s)", msg,
            rf_last_error());
    return -1;
  }
  return 0;
}

static void check_signal(worker *w) {
  int sig = rf__signal_requested();
  if (sig <= w->signalled) return;
  w->signalled = sig;
  /* Rank 0 usually got the same signal; telling it anyway covers a signal
   * sent to one rank only. */
  if (send_word(w, RF_TAG_SIGNAL, (uint64_t)sig) != RF_OK) {
    (void)report(w, RF_EMPI);
  }
  if (sig == RF_SIGNAL_STOP) rf__host_stop(w->host);
  if (sig == RF_SIGNAL_DRAIN && !w->draining) {
    w->draining = 1;
    rf_status st = give_back(w);
    if (st != RF_OK) (void)report(w, st);
  }
}

/* One round of the worker's loop: signals, steps, parallel tasks, one
 * task, or a look for messages and a short wait. Returns -1 when the
 * worker cannot go on (an error rank 0 cannot be told of). */
static int round_once(worker *w, rf_backoff *bo) {
  rf_status st;
  int got = 0;
  check_signal(w);
  /* Steps run even on a rank that reported an error: every rank must
   * meet in them, or rank 0 would wait forever. */
  /* Steps and parallel tasks run in the order rank 0 sent them, which is
   * the same on every rank (else two ranks could wait for each other in
   * different ones). Parallel tasks run even while draining (their
   * members would wait for this one), but not after an error or a stop;
   * a rank that skips one still makes its members give up (STOP). */
  int par_ok = w->pars != NULL && !w->broken && w->signalled != RF_SIGNAL_STOP;
  if (w->steps != NULL && (!par_ok || w->steps->seq < w->pars->seq)) {
    st = run_step(w);
    if (st != RF_OK && report(w, st) != 0) return -1;
    rf__backoff_reset(bo);
    return 0;
  }
  if (par_ok) {
    st = run_par(w);
    if (st != RF_OK && report(w, st) != 0) return -1;
    rf__backoff_reset(bo);
    return 0;
  }
  const wtask *t = NULL;
  /* Draining, a task waiting on subtasks still gets them run here. */
  if (!w->broken && (!w->draining || w->depth > 0) &&
      w->signalled != RF_SIGNAL_STOP && w->depth < RF_NEST_MAX) {
    t = next_task(w);
  }
  if (t != NULL) {
    st = run_one(w, t);
    uint64_t now = rf__mono_ns();
    if (st == RF_OK &&
        (batch_done(w) || now - w->results.first_ns > RESULT_MAX_AGE_NS ||
         w->results.buf.len >= RF_BATCH_BYTES || w->depth > 0)) {
      st = flush(w); /* a waiting task's subtasks report at once */
    }
    if (st == RF_OK && (batch_done(w) ||
                        now - w->last_poll_ns > POLL_INTERVAL_NS)) {
      st = poll(w, &got);
    }
    if (st != RF_OK && report(w, st) != 0) return -1;
    rf__backoff_reset(bo);
    return 0;
  }
  st = flush(w);
  if (st == RF_OK) st = poll(w, &got);
  if (st != RF_OK && report(w, st) != 0) return -1;
  if (got) rf__backoff_reset(bo);
  else if (rf__host_active(w->host) > 0) {
    /* The host holds the next attempts: sleep on its socket, which wakes
     * this rank at its next outcome, without the probing burst (it would
     * take the core from the host). Rank 0's messages wait at most this. */
    rf__host_wait(w->host, HOST_WAIT_NS);
  } else {
    rf__backoff_wait(bo, 0);
  }
  return 0;
}

/* The worker of this process, for tasks that wait on subtasks. */
static worker *current;

rf_status rf__worker_send(int tag, rf_buf *msg) {
  if (current == NULL) {
    rf__buf_free(msg);
    return rf__error(RF_ESTATE, "not on a worker");
  }
  return rf__send(current->sendq, 0, tag, msg);
}

/* Unstarted tasks go back to rank 0 when a task starts waiting: they may
 * be anyone's, and must not sit behind the wait. */
static rf_status hand_back(worker *w) {
  for (batch *b = w->head; b != NULL; b = b->next) {
    for (; b->next_task < b->n; b->next_task++) {
      RF_CHECK(add_note(w, b->tasks[b->next_task].t.id, RF_OUTCOME_NOTRUN,
                        "handed back: a task waits on subtasks"));
    }
  }
  return RF_OK;
}

rf_status rf__worker_wait(uint64_t parent, int (*done)(void *), void *user,
                          uint64_t deadline) {
  worker *w = current;
  RF_ENSURE(w != NULL && w->running != NULL && w->running->t.id == parent,
            RF_ESTATE, "waiting on a subtask outside its task");
  RF_ENSURE(w->depth < RF_NEST_MAX, RF_ESTATE,
            "tasks wait inside one another more than %d deep", RF_NEST_MAX);
  /* This rank's capacity goes back to rank 0 for the subtasks: it runs
   * them here while the task waits (a loop inside the task's call, so
   * MPI stays on this thread). Told once per task: between its waits it
   * keeps the subtasks rank 0 sends, and runs them at its next wait. */
  if (!w->running->blocked) {
    RF_CHECK(hand_back(w));
    RF_CHECK(send_word(w, RF_TAG_BLOCK, parent));
    RF_CHECK(flush(w));
    w->running->blocked = 1;
  }
  w->depth++;
  rf_backoff bo;
  rf__backoff_reset(&bo);
  rf_status st = RF_OK;
  running_task *me = w->running;
  while (!done(user)) {
    /* One round first: a wait with no time left still lets the subtask
     * this rank was sent run. */
    if (round_once(w, &bo) != 0) {
      st = rf__error(RF_EMPI, "this rank cannot reach rank 0");
      break;
    }
    if (done(user)) break;
    if (w->stop_code >= 0 || rf__signal_requested() == RF_SIGNAL_STOP) {
      st = rf__error(RF_ESTOPPED, "the job is stopping");
      break;
    }
    if (me->cancelled) {
      st = rf__error(RF_ECANCELLED, "the waiting task was cancelled");
      break;
    }
    if (w->broken) {
      st = rf__error(RF_EPEER, "this rank failed while a task waited");
      break;
    }
    if (deadline != 0 && rf__mono_ns() >= deadline) {
      st = rf__error(RF_ETIMEDOUT, "timed out");
      break;
    }
  }
  w->depth--;
  return st;
}

int rf__worker_run(rf_runtime *rt) {
  worker w;
  memset(&w, 0, sizeof w);
  w.rt = rt;
  w.stop_code = -1;
  rf_backoff bo;
  rf__backoff_reset(&bo);
  if (rf__sendq_create(rt->comm, &w.sendq) != RF_OK ||
      rf__iopool_create(rt, (int)rt->opts.io_slots, &w.io) != RF_OK ||
      rf__host_create(rt, &w.host) != RF_OK) {
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
    (void)rf__iopool_destroy(w.io, 0);
    rf__sendq_free(w.sendq);
    return -RF_EXIT_INTERNAL;
  }
  current = &w;
  while (w.stop_code < 0) {
    if (round_once(&w, &bo) != 0) break;
  }
  /* Running I/O tasks are cancelled, a task host killed (a normal end
   * has none left). */
  rf__host_destroy(w.host);
  int stuck = rf__iopool_destroy(w.io, RF_IO_STOP_GRACE_S);
  /* Let the last sends complete (rank 0 drains while it waits). */
  rf__backoff_reset(&bo);
  while (rf__sendq_pending(w.sendq) > 0 &&
         rf__sendq_progress(w.sendq) == RF_OK) {
    rf__backoff_wait(&bo, 0);
  }
  while (w.head != NULL) {
    batch *b = w.head;
    w.head = b->next;
    batch_free(b);
  }
  while (w.steps != NULL) {
    pending_step *s = w.steps;
    w.steps = s->next;
    rf__free(s);
  }
  while (w.pars != NULL) {
    pending_par *p = w.pars;
    w.pars = p->next;
    par_free(p);
  }
  rf__sendq_free(w.sendq);
  rf__buf_free(&w.rbuf);
  rf__buf_free(&w.results.buf);
  rf__buf_free(&w.res.payload);
  current = NULL;
  rf__client_task_done(0); /* every handle left */
  (void)stuck; /* a stuck slot's thread ends with the process */
  return w.stop_code >= 0 ? w.stop_code : -RF_EXIT_INTERNAL;
}
