/* SPDX-License-Identifier: BSD-3-Clause */
/* coordinator.c -- rank 0: hand ready tasks to workers, take results back.
 *
 * The flow runs on rank 0's main thread and the coordinator makes progress
 * inside the flow's blocking calls (and now and then inside rf_submit), so
 * rank 0 needs no second thread and MPI stays on one thread. Scheduling is
 * pull-based: a worker holds at most two batches; when one is reported,
 * the next goes out. Parallel tasks gather their members first
 * (parallel.c); members and workers held for one get no CPU batches. How
 * big a batch is, and what comes next, is the scheduler's call
 * (scheduler.c); with one rank the same loop hands tasks to the inline
 * runner (local.c) instead of to workers. This file owns the loop, what
 * rank 0 sends and receives (the layouts are wire/proto.c's), signals,
 * collective steps, and the end of the flow.
 */
#include "coord.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define POLL_MESSAGES 64      /* messages taken per round before dispatch */

/* ---- set-up ------------------------------------------------------------- */

rf_status rf__coord_create(rf_runtime *rt, rf_coord **out) {
  rf_coord *co = rf__calloc(1, sizeof *co);
  if (co == NULL) return rf__error(RF_ENOMEM, "coordinator");
  co->rt = rt;
  co->reg = &rt->reg;
  co->free_head = UINT32_MAX; /* no free entry in the future table yet */
  co->nworkers = rt->size - 1;
  co->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)rf__mono_ns();
  co->t0 = rf__now();
  rf__progress_start(&co->progress, &rt->opts);
  rf_status st = RF_OK;
  if (rt->opts.report != NULL || rt->opts.timeline != NULL) {
    RF_CHECK_GOTO(rf__report_open(rt->opts.report, rt->opts.timeline,
                                  &co->report), st, fail);
  }
  if (co->nworkers > 0) {
    co->workers = rf__calloc((size_t)co->nworkers, sizeof *co->workers);
    if (co->workers == NULL) {
      st = rf__error(RF_ENOMEM, "coordinator workers");
      goto fail;
    }
    for (int i = 0; i < co->nworkers; i++) co->workers[i].rank = i + 1;
    RF_CHECK_GOTO(rf__sendq_create(rt->comm, &co->sendq), st, fail);
  } else {
    RF_CHECK_GOTO(rf__iopool_create(rt, (int)rt->opts.io_slots, &co->io), st,
                  fail);
    RF_CHECK_GOTO(rf__host_create(rt, &co->host), st, fail);
  }
  if (rt->opts.journal != NULL) {
    uint64_t records;
    if (rt->journal_reset && unlink(rt->opts.journal) != 0 && errno != ENOENT) {
      st = rf__error(RF_EUSAGE, "--journal: cannot start '%s' afresh: %s",
                     rt->opts.journal, strerror(errno));
      goto fail;
    }
    RF_CHECK_GOTO(rf__journal_open(rt->opts.journal, rt->prog, rt->identity,
                                   &co->marks, &records, &co->journal),
                  st, fail);
    if (records > 0) {
      rf__log(RF_LOG_INFO, NULL,
              "journal %s: %" PRIu64 " finished task%s; resuming",
              rt->opts.journal, records, records == 1 ? "" : "s");
    }
  }
  *out = co;
  return RF_OK;
fail:
  rf__coord_free(co);
  return st;
}

void rf__coord_set_nodes(rf_coord *co, const int *nodes) {
  for (int i = 0; i < co->nworkers; i++) co->workers[i].node = nodes[i + 1];
}

void rf__coord_free(rf_coord *co) {
  if (co == NULL) return;
  /* Slots still running after a stop see their cancelled flag; an attempt
   * that ignores it keeps its thread until the process exits. */
  rf__host_destroy(co->host);
  co->host = NULL;
  if (rf__iopool_destroy(co->io, RF_IO_STOP_GRACE_S) != 0) return;
  rf__futures_free_all(co);
  rf__par_free(co);
  rf__free(co->nest_parents); /* their references went with the futures */
  (void)rf__journal_close(co->journal); /* closed before, unless failing */
  rf__marks_free(&co->marks);
  rf__report_free(co->report);
  rf__sendq_free(co->sendq);
  rf__buf_free(&co->rbuf);
  rf__buf_free(&co->scratch);
  rf__free(co->workers);
  rf__free(co->table);
  rf__free(co->heap);
  rf__free(co->ending);
  rf__free(co);
}

/* An error that ends the job: logged once, here, where it is known. */
static rf_status fatal(rf_coord *co, rf_status st) {
  if (co->fatal == RF_OK) {
    char msg[1200];
    co->fatal = st;
    rf__log(RF_LOG_ERROR, NULL, "%s", rf__describe(st, msg, sizeof msg));
  }
  return co->fatal;
}

/* ---- many ranks: messages ------------------------------------------------ */

rf_status rf__coord_send_word(rf_coord *co, int dest, int tag, uint64_t v) {
  rf_buf b = {0};
  rf__msg_word(&b, v);
  return rf__send(co->sendq, dest, tag, &b);
}

/* STOP (with the exit code, once) or DRAIN to every worker. */
static rf_status tell_workers(rf_coord *co, int tag, int code) {
  if (tag == RF_TAG_STOP) {
    if (co->told_workers) return RF_OK; /* each worker hears STOP once */
    co->told_workers = 1;
  }
  for (int i = 0; i < co->nworkers; i++) {
    if (tag == RF_TAG_STOP) {
      RF_CHECK(rf__coord_send_word(co, co->workers[i].rank, tag,
                                   (uint64_t)code));
    } else {
      rf_buf b = {0};
      rf__msg_drain(&b);
      RF_CHECK(rf__send(co->sendq, co->workers[i].rank, tag, &b));
    }
  }
  return RF_OK;
}

rf_status rf__coord_cancel_remote(rf_coord *co, rf_future *f) {
  if (co->nworkers == 0) {
    rf__iopool_cancel(co->io, rf__future_id(f)); /* running on a slot */
    rf__host_cancel(co->host, rf__future_id(f)); /* or in the task host */
    return RF_OK;
  }
  if (f->rank < 1) return RF_OK;
  if (rf__sched_lane(f) == RF_LANE_PAR) {
    rf_status pst = rf__par_cancel(co, f);
    return pst == RF_OK ? RF_OK : fatal(co, pst);
  }
  rf_status st = rf__coord_send_word(co, f->rank, RF_TAG_CANCEL,
                                     rf__future_id(f));
  return st == RF_OK ? RF_OK : fatal(co, st);
}

/* Send worker w up to max tasks of queue q (of lane) in one message. */
static rf_status send_batch(rf_coord *co, rf_worker_info *w, uint32_t max,
                            rf_lane *q, int lane) {
  rf_buf b = {0};
  uint32_t count = 0;
  rf__msg_batch_begin(&b);
  /* A CPU task sent alone reports its start (long tasks show running). */
  int report_start = lane == RF_LANE_CPU && max == 1;
  while (count < max && b.len < RF_BATCH_BYTES) {
    rf_future *f;
    rf_status st = rf__sched_take_q(co, q, w->rank, RF_STATE_SCHEDULED, &f);
    if (st != RF_OK) {
      rf__buf_free(&b);
      return st;
    }
    if (f == NULL) break;
    rf_msg_task t = {rf__future_id(f), f->key, f->task->index, f->attempts,
                     report_start, (f->flags & RF_FUT_ISOLATE) != 0,
                     rf__blob_data(&f->u.live.arg), f->u.live.arg.len};
    rf__msg_work_add(&b, &t);
    count++;
  }
  if (count == 0) {
    rf__buf_free(&b);
    return RF_OK;
  }
  rf__msg_batch_end(&b, count);
  if (lane == RF_LANE_IO) {
    w->io_inflight += count;
  } else {
    w->inflight += count;
    w->batch = count;
  }
  return rf__send(co->sendq, w->rank, RF_TAG_WORK, &b);
}

static rf_status dispatch(rf_coord *co) {
  if (co->stop == RF_SIGNAL_DRAIN) {
    /* Draining: nothing new starts, but a running task that waits on its
     * subtasks gets them, or it could never finish. */
    for (int i = 0; i < co->nworkers; i++) {
      rf_worker_info *w = &co->workers[i];
      rf_lane *q = w->nblocked > 0 ? rf__nest_queue_for(co, w) : NULL;
      while (q != NULL && rf__sched_peek_q(co, q) != NULL &&
             w->inflight - (uint32_t)w->nblocked == 0) {
        RF_CHECK(send_batch(co, w, 1, q, RF_LANE_CPU));
      }
    }
    return RF_OK;
  }
  if (co->stop != RF_SIGNAL_NONE) return RF_OK;
  /* I/O tasks are spread evenly: each worker takes its share of what is
   * ready now, up to its free slots. */
  size_t nio = co->ready[RF_LANE_IO].n;
  uint32_t io_share = (uint32_t)((nio + (size_t)co->nworkers - 1) /
                                 (size_t)co->nworkers);
  uint32_t slots = (uint32_t)co->rt->opts.io_slots;
  RF_CHECK(rf__par_dispatch(co));
  for (int i = 0; i < co->nworkers; i++) {
    rf_worker_info *w = &co->workers[i];
    /* Members of a parallel task, or held for one, take no CPU work. A
     * worker whose task waits on subtasks has that capacity back, for
     * those subtasks only (nest.c picks the queue). */
    for (; w->par == 0 && !w->reserved;) {
      rf_lane *q = rf__nest_queue_for(co, w);
      rf_future *head = q ? rf__sched_peek_q(co, q) : NULL;
      if (head == NULL) break;
      uint32_t n = rf__sched_batch_size(
          co, w->inflight - (uint32_t)w->nblocked, w->batch, q->n,
          head->task->avg_ns);
      if (n == 0) break;
      RF_CHECK(send_batch(co, w, n, q, RF_LANE_CPU));
    }
    uint32_t n = w->io_inflight < slots ? slots - w->io_inflight : 0;
    if (n > io_share) n = io_share;
    if (n > 0 && rf__sched_peek(co, RF_LANE_IO) != NULL) {
      RF_CHECK(send_batch(co, w, n, &co->ready[RF_LANE_IO], RF_LANE_IO));
    }
  }
  return RF_OK;
}

static rf_worker_info *worker_of(rf_coord *co, int rank) {
  return (rank >= 1 && rank <= co->nworkers) ? &co->workers[rank - 1] : NULL;
}

/* A reported task must be one this worker holds. */
static rf_status owned(rf_coord *co, int src, uint64_t id, rf_future **out) {
  rf_future *f = rf__future_lookup(co, id);
  if (f == NULL || f->rank != src ||
      (f->state != RF_STATE_SCHEDULED && f->state != RF_STATE_RUNNING)) {
    return rf__error(RF_ECODEC,
                     "malformed message: rank %d reported task id %" PRIx64
                     " it does not hold",
                     src, id);
  }
  *out = f;
  return RF_OK;
}

static rf_status on_results(rf_coord *co, int src, rf_reader *r) {
  rf_worker_info *w = worker_of(co, src);
  uint32_t n;
  RF_CHECK(rf__msg_results_read(r, &n));
  for (uint32_t i = 0; i < n; i++) {
    rf_msg_outcome o;
    rf_future *f = NULL;
    RF_CHECK(rf__msg_results_next(r, &o));
    RF_CHECK(owned(co, src, o.id, &f));
    int lane = rf__sched_lane(f);
    RF_ENSURE(lane != RF_LANE_PAR, RF_ECODEC, "malformed message: rank %d "
              "reported a parallel task as a plain one", src);
    if (lane == RF_LANE_IO) w->io_inflight--;
    else w->inflight--;
    RF_CHECK(rf__sched_outcome(co, f, o.outcome, o.payload, o.len, o.t0,
                               o.t1));
  }
  return rf__msg_end(r);
}

/* One message of src's, by tag. */
static rf_status on_message(rf_coord *co, int src, int tag) {
  rf_reader r;
  uint64_t v;
  rf__reader_init(&r, co->rbuf.data, co->rbuf.len);
  RF_ENSURE(worker_of(co, src) != NULL, RF_ECODEC,
            "malformed message: from rank %d", src);
  switch (tag) {
    case RF_TAG_RESULTS:
      return on_results(co, src, &r);
    case RF_TAG_PAR_DONE:
      return rf__par_on_done(co, src, &r);
    case RF_TAG_SUBMIT:
    case RF_TAG_SUBCANCEL:
    case RF_TAG_BLOCK:
    case RF_TAG_UNBLOCK:
      return rf__nest_on_message(co, src, tag, &r);
    case RF_TAG_STARTED: {
      rf_future *f = NULL;
      RF_CHECK(rf__msg_word_read(&r, tag, &v));
      RF_CHECK(owned(co, src, v, &f));
      f->state = RF_STATE_RUNNING;
      f->t_start = rf__now();
      return rf__sched_started(co, f);
    }
    case RF_TAG_FATAL: {
      char msg[1024];
      RF_CHECK(rf__msg_fatal_read(&r, msg, sizeof msg));
      return rf__error(RF_EPEER, "rank %d: %s", src, msg);
    }
    case RF_TAG_SIGNAL: {
      RF_CHECK(rf__msg_word_read(&r, tag, &v));
      uint64_t kind = v;
      RF_ENSURE(kind == RF_SIGNAL_DRAIN || kind == RF_SIGNAL_STOP, RF_ECODEC,
                "malformed message: signal %" PRIu64, kind);
      if ((int)kind > co->stop) {
        rf__log(RF_LOG_WARN, NULL, "rank %d got %s: %s", src,
                kind == RF_SIGNAL_STOP ? "SIGTERM/SIGINT" : "SIGUSR1",
                kind == RF_SIGNAL_STOP ? "stopping" : "draining");
        co->stop = (int)kind;
        RF_CHECK(tell_workers(co, kind == RF_SIGNAL_STOP ? RF_TAG_STOP
                                                         : RF_TAG_DRAIN,
                              RF_EXIT_STOPPED));
      }
      return RF_OK;
    }
    default:
      return rf__error(RF_ECODEC, "malformed message: tag %d from rank %d",
                       tag, src);
  }
}

/* Take what has arrived; *got counts messages. */
static rf_status poll_messages(rf_coord *co, int *got) {
  *got = 0;
  for (int i = 0; i < POLL_MESSAGES; i++) {
    int any = 0, src = -1, tag = -1;
    RF_CHECK(rf__recv_any(co->rt->comm, MPI_ANY_SOURCE, MPI_ANY_TAG,
                          &co->rbuf, &any, &src, &tag));
    if (!any) break;
    (*got)++;
    RF_CHECK(on_message(co, src, tag));
  }
  return rf__sendq_progress(co->sendq);
}

/* ---- signals ------------------------------------------------------------ */

static rf_status check_signals(rf_coord *co) {
  int sig = rf__signal_requested();
  if (sig > co->stop) {
    co->stop = sig;
    rf__log(RF_LOG_WARN, NULL, "%s",
            sig == RF_SIGNAL_STOP
                ? "SIGTERM/SIGINT: stopping now"
                : "SIGUSR1: draining (no new tasks; running ones finish)");
    if (co->nworkers > 0) {
      rf_status st = tell_workers(
          co, sig == RF_SIGNAL_STOP ? RF_TAG_STOP : RF_TAG_DRAIN,
          RF_EXIT_STOPPED);
      if (st != RF_OK) return fatal(co, st);
    } else if (sig == RF_SIGNAL_STOP) {
      rf__host_stop(co->host); /* its attempts end stopped */
    } else {
      rf_status st = rf__local_drain(co); /* nothing new starts */
      if (st != RF_OK) return fatal(co, st);
    }
  }
  return RF_OK;
}

/* ---- the progress loop -------------------------------------------------- */

/* Tasks that ended without completing through no cancel: exit 1. */
static uint64_t failed_total(const rf_coord *co) {
  return co->totals[RF_STATE_FAILED] + co->totals[RF_STATE_CRASHED] +
         co->totals[RF_STATE_TIMED_OUT] + co->totals[RF_STATE_UPSTREAM_FAILED];
}

/* What the progress line shows. */
static void progress_counts(const rf_coord *co, rf_progress_counts *c) {
  memset(c, 0, sizeof *c);
  for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) {
    c->done += co->totals[s];
  }
  for (int i = 0; i < co->nworkers; i++) c->running += co->workers[i].inflight;
  c->failed = failed_total(co);
  c->submitted = co->submitted;
  c->retried = co->retried;
}


rf_status rf__coord_progress(rf_coord *co, rf_done_fn done, void *user,
                             uint64_t deadline_ns) {
  rf_backoff bo;
  rf__backoff_reset(&bo);
  for (;;) {
    if (co->fatal != RF_OK) return co->fatal;
    RF_CHECK(check_signals(co));
    if (rf__progress_due(&co->progress)) {
      rf_progress_counts c;
      progress_counts(co, &c);
      rf__progress_show(&co->progress, &c);
    }
    if (co->journal != NULL) {
      rf_status jst = rf__journal_tick(co->journal);
      if (jst != RF_OK) return fatal(co, jst);
    }
    int progressed = rf__sched_release_retries(co);
    if (co->nworkers == 0) {
      if (co->stop != RF_SIGNAL_NONE) return rf__error(RF_ESTOPPED, "stopping");
      if (done == NULL || done(user)) return RF_OK;
      int moved, ran = 0;
      rf_status st = rf__local_io(co, &moved);
      if (st == RF_OK && !moved) st = rf__local_run_one(co, &ran);
      if (st != RF_OK) return fatal(co, st);
      if (ran) {
        /* A timeout holds between tasks too, as with many ranks. */
        if (deadline_ns != 0 && rf__mono_ns() >= deadline_ns &&
            !done(user)) {
          return rf__error(RF_ETIMEDOUT, "timed out");
        }
        continue;
      }
      progressed |= moved;
      if (!moved && co->nheap == 0 && rf__iopool_active(co->io) == 0 &&
          rf__host_active(co->host) == 0) {
        return rf__error(RF_ESTATE, "waiting on a task that cannot run");
      }
    } else {
      int got;
      rf_status st = dispatch(co);
      if (st == RF_OK) st = poll_messages(co, &got);
      if (st != RF_OK) return fatal(co, st);
      if (co->fatal != RF_OK) return co->fatal;
      progressed |= got > 0;
      if (co->stop != RF_SIGNAL_NONE) return rf__error(RF_ESTOPPED, "stopping");
      if (done == NULL || done(user)) return RF_OK;
    }
    if (deadline_ns != 0 && rf__mono_ns() >= deadline_ns) {
      return rf__error(RF_ETIMEDOUT, "timed out");
    }
    if (progressed) {
      rf__backoff_reset(&bo);
    } else {
      /* With isolated attempts out, their outcomes wake the wait. */
      rf__host_wait(co->host,
                    rf__backoff_step(&bo, rf__sched_next_wake(co, deadline_ns)));
    }
  }
}

/* ---- the end of the flow ------------------------------------------------ */

static int all_ended(void *user) { return ((rf_coord *)user)->unfinished == 0; }

static size_t in_flight(const rf_coord *co) {
  size_t n = co->nparlive + (co->io ? rf__iopool_active(co->io) : 0) +
             rf__host_active(co->host);
  for (int i = 0; i < co->nworkers; i++) {
    n += co->workers[i].inflight + co->workers[i].io_inflight;
  }
  return n;
}

/* Drain: running tasks finish (up to the grace), nothing new starts. */
static void drain(rf_coord *co) {
  rf_backoff bo;
  uint64_t until = rf__mono_ns() + (uint64_t)(co->rt->opts.drain_grace * 1e9);
  rf__backoff_reset(&bo);
  while (co->fatal == RF_OK && in_flight(co) > 0 && rf__mono_ns() < until &&
         rf__signal_requested() != RF_SIGNAL_STOP &&
         co->stop != RF_SIGNAL_STOP) {
    int got = 0;
    rf_status st = co->nworkers > 0 ? dispatch(co) : RF_OK;
    if (st == RF_OK) {
      st = co->nworkers > 0 ? poll_messages(co, &got) : rf__local_io(co, &got);
    }
    if (st != RF_OK) {
      (void)fatal(co, st);
      return;
    }
    if (got) rf__backoff_reset(&bo);
    else rf__host_wait(co->host, rf__backoff_step(&bo, until));
  }
  if (rf__signal_requested() == RF_SIGNAL_STOP) co->stop = RF_SIGNAL_STOP;
  if (rf__host_active(co->host) > 0) {
    /* The grace is over: the task host's attempts end stopped, and are
     * reported so (workers do the same with theirs). */
    int got;
    rf__host_stop(co->host);
    uint64_t give_up = rf__mono_ns() + 500000000ull;
    while (rf__host_active(co->host) > 0 && rf__mono_ns() < give_up &&
           rf__local_io(co, &got) == RF_OK) {
      if (!got) rf__host_wait(co->host, 1000000); /* its end wakes it */
    }
  }
}

static void print_totals(rf_coord *co) {
  char line[1024];
  int n = snprintf(line, sizeof line, "flow ended in %.2f s: %" PRIu64 " task%s",
                   rf__now() - co->t0, co->submitted,
                   co->submitted == 1 ? "" : "s");
  for (int s = RF_STATE_COMPLETED; s < RF_STATE_COUNT; s++) {
    if (co->totals[s] == 0 && s != RF_STATE_COMPLETED) continue;
    n += snprintf(line + n, sizeof line - (size_t)n, ", %" PRIu64 " %s",
                  co->totals[s], rf_state_name((rf_state)s));
  }
  if (co->unfinished > 0) {
    n += snprintf(line + n, sizeof line - (size_t)n, ", %" PRIu64 " not ended",
                  co->unfinished);
  }
  if (co->retried > 0) {
    n += snprintf(line + n, sizeof line - (size_t)n, " (%" PRIu64 " retr%s)",
                  co->retried, co->retried == 1 ? "y" : "ies");
  }
  if (co->from_journal > 0) {
    snprintf(line + n, sizeof line - (size_t)n, ", %" PRIu64 " from the journal",
             co->from_journal);
  }
  rf__log(RF_LOG_INFO, NULL, "%s", line);
}

static int exit_code(rf_coord *co, rf_status flow_status) {
  if (co->stop != RF_SIGNAL_NONE || flow_status == RF_ESTOPPED) {
    return RF_EXIT_STOPPED;
  }
  if (co->fatal != RF_OK) return RF_EXIT_INTERNAL;
  uint64_t bad = failed_total(co);
  if (flow_status == RF_OK) return bad ? RF_EXIT_TASKS : RF_EXIT_OK;
  if (flow_status == RF_ETASK || flow_status == RF_EUPSTREAM ||
      flow_status == RF_ECANCELLED) {
    return RF_EXIT_TASKS;
  }
  if (flow_status == RF_EUSAGE) return RF_EXIT_USAGE;
  return RF_EXIT_INTERNAL;
}

int rf__coord_finish_flow(rf_coord *co, rf_status flow_status) {
  int waitable = flow_status == RF_OK || flow_status == RF_ETASK ||
                 flow_status == RF_EUPSTREAM || flow_status == RF_ECANCELLED;
  if (waitable && co->fatal == RF_OK && co->stop == RF_SIGNAL_NONE) {
    /* Tasks the flow did not wait for still run (deferred ones too). */
    rf_status st = rf__coord_progress(co, all_ended, co, 0);
    if (st != RF_OK && st != RF_ESTOPPED && co->fatal == RF_OK) {
      (void)fatal(co, st);
    }
  }
  if (co->stop == RF_SIGNAL_DRAIN) drain(co);
  int code = exit_code(co, flow_status);
  if (code == RF_EXIT_INTERNAL && co->fatal == RF_OK) {
    char msg[1200];
    rf__log(RF_LOG_ERROR, NULL, "flow failed: %s",
            rf__describe(flow_status, msg, sizeof msg));
  } else if (code == RF_EXIT_USAGE && rf_last_error()[0] != '\0') {
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
  }
  /* What finished is on disk before anyone leaves (stop, drain, end). */
  rf_status jst = rf__journal_close(co->journal);
  co->journal = NULL;
  if (jst != RF_OK) {
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
    if (code == RF_EXIT_OK || code == RF_EXIT_TASKS) code = RF_EXIT_INTERNAL;
  }
  rf_progress_counts c;
  progress_counts(co, &c);
  rf__progress_end(&co->progress, &c);
  if (!co->rt->opts.quiet) print_totals(co);
  if (co->report != NULL &&
      rf__report_finish(co->report, co->rt->argc, co->rt->argv, co->rt->size,
                        co->totals, co->submitted, co->unfinished,
                        code) != RF_OK) {
    /* The run itself is done: a report that cannot be written is said,
     * and makes the job fail, but not before the ranks leave together. */
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
    if (code == RF_EXIT_OK || code == RF_EXIT_TASKS) code = RF_EXIT_INTERNAL;
  }
  if (co->nworkers > 0) {
    /* Every worker leaves with rank 0's code; after a stop they already
     * have 75 and wait in the final barrier. */
    rf_status st = tell_workers(co, RF_TAG_STOP, code);
    if (st != RF_OK) {
      rf__log(RF_LOG_ERROR, NULL, "telling workers to stop: %s",
              rf_last_error());
      return -RF_EXIT_INTERNAL; /* the ranks cannot leave together */
    }
    rf_backoff bo;
    rf__backoff_reset(&bo);
    while (rf__sendq_pending(co->sendq) > 0) {
      int got, src, tag;
      if (rf__sendq_progress(co->sendq) != RF_OK) return -RF_EXIT_INTERNAL;
      /* Take and drop late results so large sends can complete. */
      if (rf__recv_any(co->rt->comm, MPI_ANY_SOURCE, MPI_ANY_TAG, &co->rbuf,
                       &got, &src, &tag) != RF_OK) {
        return -RF_EXIT_INTERNAL;
      }
      rf__backoff_wait(&bo, 0);
    }
  }
  return code;
}

/* ---- collective steps ----------------------------------------------------- */

rf_status rf__coord_step(rf_flow *flow, const rf_step *step,
                         const rf_value *arg) {
  rf_runtime *rt = flow->rt;
  rf_coord *co = rt->co;
  if (co->fatal != RF_OK) return co->fatal; /* a rank is broken */
  if (co->stop != RF_SIGNAL_NONE || rf__signal_requested() != RF_SIGNAL_NONE) {
    return rf__error(RF_ESTOPPED, "the job is stopping; step '%s' not run",
                     step->name);
  }
  rf_buf enc = {0};
  rf_status st = arg != NULL ? rf__value_encode(arg, &enc) : RF_OK;
  /* Every worker enters the step between its tasks; rank 0 runs it here. */
  for (int i = 0; st == RF_OK && i < co->nworkers; i++) {
    rf_buf b = {0};
    rf__msg_step(&b, step->index, enc.data, enc.len);
    st = rf__send(co->sendq, co->workers[i].rank, RF_TAG_STEP, &b);
    if (st != RF_OK) st = fatal(co, st);
  }
  rf_status agreed = RF_OK;
  if (st == RF_OK) {
    st = rf__step_run(rt, step->index, enc.data, enc.len, &agreed);
  }
  rf__buf_free(&enc);
  if (st != RF_OK) return st;
  if (agreed != RF_OK) {
    /* rf__error kept the message; say it again for this thread. */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rf_last_error());
    return rf__error(agreed, "%s", msg);
  }
  return RF_OK;
}
