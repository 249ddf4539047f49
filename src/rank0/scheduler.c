/* SPDX-License-Identifier: BSD-3-Clause */
/* scheduler.c -- what runs next: the ready queues, retries, batch sizes.
 *
 * Rank 0 keeps ready tasks in submission order (FIFO), in two lanes (CPU
 * tasks, and I/O tasks that run on a rank's I/O slots, so one kind never
 * waits behind the other), and tasks waiting to be retried in a min-heap
 * on their retry time. Every attempt's end, from
 * a worker or from the inline runner, comes through rf__sched_outcome,
 * which applies the task's retry policy (exponential back-off, capped,
 * with jitter) so that attempts in reports are the library's own. A queue
 * holds a task's live reference; a task cancelled while queued is dropped
 * when it reaches the front. Batch sizes come from measured durations.
 */
#include "coord.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define BATCH_TARGET_NS 1e6   /* work per batch message */
#define BATCH_MAX 4096        /* tasks per batch */
#define PREFETCH_MAX_NS 5e6   /* longer tasks are sent one at a time */

/* ---- retry heap ----------------------------------------------------------
 * A min-heap of (retry time, task). The time is the entry's own, not the
 * future's: a task cancelled while it waits ends (and gets an end time)
 * without disturbing the heap; it is dropped when its entry comes due. */

static void heap_push(rf_coord *co, rf_future *f, double at) {
  if (rf__array_reserve(&co->heap, sizeof *co->heap, co->nheap, &co->capheap,
                        64, "the retry heap") != RF_OK) {
    /* No room to wait: retry at once rather than lose the task. */
    rf__sched_ready(f);
    return;
  }
  f->flags |= RF_FUT_QUEUED;
  size_t i = co->nheap++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (co->heap[p].at <= at) break;
    co->heap[i] = co->heap[p];
    i = p;
  }
  co->heap[i] = (rf_retry){at, f};
}

static rf_future *heap_pop(rf_coord *co) {
  rf_future *top = co->heap[0].f;
  rf_retry last = co->heap[--co->nheap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= co->nheap) break;
    if (c + 1 < co->nheap && co->heap[c + 1].at < co->heap[c].at) c++;
    if (last.at <= co->heap[c].at) break;
    co->heap[i] = co->heap[c];
    i = c;
  }
  if (co->nheap > 0) co->heap[i] = last;
  top->flags &= (uint8_t)~RF_FUT_QUEUED;
  return top;
}

int rf__sched_release_retries(rf_coord *co) {
  int moved = 0;
  double now = co->nheap ? rf__now() : 0;
  while (co->nheap > 0 && co->heap[0].at <= now) {
    rf_future *f = heap_pop(co);
    if (rf__state_final((rf_state)f->state)) rf__future_unref(f);
    else rf__sched_ready(f);
    moved = 1;
  }
  return moved;
}

static double uniform01(rf_coord *co) {
  co->rng ^= co->rng >> 12;
  co->rng ^= co->rng << 25;
  co->rng ^= co->rng >> 27;
  return (double)((co->rng * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;
}

static double retry_delay(rf_coord *co, const rf_task_options *o, int n) {
  double backoff = o->retry_backoff > 0 ? o->retry_backoff : 2.0;
  double d = o->retry_delay * pow(backoff, n - 1);
  if (o->retry_max_delay > 0 && d > o->retry_max_delay) d = o->retry_max_delay;
  if (o->retry_jitter > 0) {
    d *= 1.0 + o->retry_jitter * (2.0 * uniform01(co) - 1.0);
  }
  if (!(d < 1e7)) d = 1e7; /* back-off without a cap must stay finite */
  return d > 0 ? d : 0;
}

uint64_t rf__sched_next_wake(rf_coord *co, uint64_t deadline) {
  if (co->nheap == 0) return deadline;
  double wait = co->heap[0].at - rf__now();
  if (wait > 3600) wait = 3600; /* a far retry: look again in an hour */
  uint64_t due = rf__mono_ns() + (wait > 0 ? (uint64_t)(wait * 1e9) : 0);
  return (deadline == 0 || due < deadline) ? due : deadline;
}

/* ---- ready queue -------------------------------------------------------- */

int rf__sched_lane(const rf_future *f) {
  const rf_task *t = f->task;
  if (t->opts.io) return RF_LANE_IO;
  return rf__task_width(t) > 1 ? RF_LANE_PAR : RF_LANE_CPU;
}

void rf__sched_ready(rf_future *f) {
  rf_coord *co = f->co;
  if (rf__nest_ready(co, f)) return; /* a subtask: under its parent */
  rf__sched_enqueue(&co->ready[rf__sched_lane(f)], f);
}

void rf__sched_enqueue(rf_lane *q, rf_future *f) {
  f->flags |= RF_FUT_QUEUED;
  f->next = NULL;
  if (q->tail) q->tail->next = f;
  else q->head = f;
  q->tail = f;
  q->n++;
}

static rf_future *unqueue(rf_lane *q) {
  rf_future *f = q->head;
  q->head = f->next;
  if (q->head == NULL) q->tail = NULL;
  q->n--;
  f->flags &= (uint8_t)~RF_FUT_QUEUED;
  return f;
}

void rf__sched_drop_q(rf_lane *q) {
  while (q->head != NULL) rf__future_unref(unqueue(q));
}

rf_future *rf__sched_peek_q(rf_coord *co, rf_lane *q) {
  (void)co;
  /* A task cancelled while queued is dropped when it comes to the front. */
  while (q->head != NULL && rf__state_final((rf_state)q->head->state)) {
    rf__future_unref(unqueue(q));
  }
  return q->head;
}

rf_future *rf__sched_peek(rf_coord *co, int lane) {
  return rf__sched_peek_q(co, &co->ready[lane]);
}

rf_status rf__sched_take(rf_coord *co, int lane, int rank, rf_state state,
                         rf_future **out) {
  return rf__sched_take_q(co, &co->ready[lane], rank, state, out);
}

rf_status rf__sched_take_q(rf_coord *co, rf_lane *q, int rank, rf_state state,
                           rf_future **out) {
  *out = NULL;
  for (;;) {
    rf_future *f = rf__sched_peek_q(co, q) ? unqueue(q) : NULL;
    if (f == NULL) return RF_OK;
    rf_status st = rf__sched_prepare(co, f);
    if (st == RF_ETASK) continue; /* too large: failed, not sent */
    RF_CHECK(st);
    f->state = (uint8_t)state;
    f->rank = rank;
    f->attempts++;
    f->t_start = state == RF_STATE_RUNNING ? rf__now() : 0;
    *out = f;
    return RF_OK;
  }
}

rf_status rf__sched_prepare(rf_coord *co, rf_future *f) {
  if (!(f->flags & RF_FUT_TREE)) return RF_OK;
  msgpack_packer pk;
  co->scratch.len = 0;
  rf__buf_packer(&co->scratch, &pk);
  RF_CHECK(rf__value_pack(&pk, f->u.live.tree, RF_PACK_RESOLVE, NULL));
  if (co->scratch.oom) return rf__error(RF_ENOMEM, "resolving an argument");
  if (co->scratch.len > RF_MAX_VALUE) {
    char msg[128];
    snprintf(msg, sizeof msg, "argument of %zu bytes is over the %zu-byte limit",
             co->scratch.len, (size_t)RF_MAX_VALUE);
    rf__future_end(f, RF_STATE_FAILED, msg, NULL);
    return RF_ETASK;
  }
  RF_CHECK(rf__blob_set(&f->u.live.arg, co->scratch.data, co->scratch.len));
  rf_value_free(f->u.live.tree);
  f->u.live.tree = NULL;
  f->flags &= (uint8_t)~RF_FUT_TREE;
  return RF_OK;
}

/* ---- batch sizes -------------------------------------------------------- */

uint32_t rf__sched_batch_size(rf_coord *co, uint32_t inflight,
                              uint32_t last_batch, size_t nready,
                              double avg_ns) {
  int prefetch = avg_ns > 0 && avg_ns < PREFETCH_MAX_NS;
  if (inflight > 0 && (!prefetch || inflight > last_batch)) return 0;
  double want = avg_ns > 0 ? BATCH_TARGET_NS / avg_ns : 1;
  if (want > BATCH_MAX) want = BATCH_MAX;
  if (want < 1) want = 1;
  size_t fair = (nready + (size_t)co->nworkers - 1) / (size_t)co->nworkers;
  if (fair < 1) fair = 1;
  return (uint32_t)(want < (double)fair ? want : (double)fair);
}

/* ---- outcomes ----------------------------------------------------------- */

static void measure(rf_future *f, double t0, double t1) {
  rf_task *t = f->task;
  double ns = (t1 - t0) * 1e9;
  if (!(ns >= 0)) ns = 0;
  t->avg_ns = t->avg_ns > 0 ? 0.8 * t->avg_ns + 0.2 * ns : (ns > 1 ? ns : 1);
}

int rf__sched_isolated(const rf_coord *co, const rf_future *f) {
  return rf__attempt_isolated(co->rt, f->task,
                              (f->flags & RF_FUT_ISOLATE) != 0);
}

rf_status rf__sched_started(rf_coord *co, rf_future *f) {
  if (co->journal == NULL || rf__sched_isolated(co, f)) return RF_OK;
  return rf__journal_mark(co->journal, RF_JOURNAL_STARTED, f->key);
}

/* A crash the task host contained: counted against --crash-limit across
 * attempts and runs. 1 when the limit is reached (the task ends crashed
 * for good, and a resume does not run it again). */
static rf_status count_crash(rf_coord *co, rf_future *f, int *final) {
  rf_mark *m;
  *final = 0;
  RF_CHECK(rf__marks_get(&co->marks, f->key, &m));
  if (m->crashes < UINT16_MAX) m->crashes++;
  RF_CHECK(rf__journal_mark(co->journal, RF_JOURNAL_CRASHED, f->key));
  if (m->crashes >= co->rt->opts.crash_limit) {
    *final = 1;
    m->final = 1;
    RF_CHECK(rf__journal_mark(co->journal, RF_JOURNAL_CRASHED_FINAL, f->key));
  }
  return RF_OK;
}

/* Outcomes retried while retries last: a transient failure, a crash the
 * task host contained, a time limit. */
static int retryable(rf_outcome outcome) {
  return outcome == RF_OUTCOME_TRANSIENT || outcome == RF_OUTCOME_KILLED ||
         outcome == RF_OUTCOME_TIMED_OUT;
}

rf_status rf__sched_outcome(rf_coord *co, rf_future *f, rf_outcome outcome,
                           const uint8_t *payload, size_t len, double t0,
                           double t1) {
  char msg[1024] = "";
  const rf_task *task = f->task;
  /* Not an attempt that ran to its end: no duration to learn from. */
  int ran = outcome != RF_OUTCOME_NOTRUN && outcome != RF_OUTCOME_STOPPED;
  f->t_start = t0;
  if (ran && !(t0 == 0 && t1 == 0)) measure(f, t0, t1);
  if (outcome != RF_OUTCOME_NOTRUN) rf__nest_attempt_ended(f);
  if (outcome != RF_OUTCOME_OK) {
    RF_CHECK(rf__text_decode(payload, len, msg, sizeof msg));
  }
  int cancelled = (f->flags & RF_FUT_CANCEL) != 0;
  int limit_reached = 0;
  if (outcome == RF_OUTCOME_KILLED && !cancelled) {
    RF_CHECK(count_crash(co, f, &limit_reached));
    if (limit_reached) {
      size_t n = strlen(msg);
      snprintf(msg + n, sizeof msg - n, " (crashed --crash-limit %d times: "
               "not run again, even by a resume, unless --retry-failed)",
               (int)co->rt->opts.crash_limit);
    }
  }
  int retry = retryable(outcome) && !cancelled && !limit_reached &&
              f->attempts <= task->opts.retries && co->stop == RF_SIGNAL_NONE;
  if (co->report != NULL && outcome != RF_OUTCOME_NOTRUN) {
    rf__report_attempt(co->report, rf__future_keytext(f), f->attempts, f->rank,
                       cancelled ? "cancelled" : rf__outcome_name(outcome),
                       retry, f->t_submit, t0, t1, msg);
  }
  if ((f->flags & RF_FUT_CANCEL) && outcome != RF_OUTCOME_NOTRUN) {
    rf__future_end(f, RF_STATE_CANCELLED, "cancelled while running", NULL);
    return RF_OK;
  }
  switch (outcome) {
    case RF_OUTCOME_OK: {
      rf_reader r;
      const uint8_t *raw;
      size_t rawlen;
      rf__reader_init(&r, payload, len);
      RF_CHECK(rf__read_raw(&r, &raw, &rawlen));
      RF_CHECK(rf__read_end(&r));
      rf_blob result = {0};
      RF_CHECK(rf__blob_set(&result, raw, rawlen));
      uint64_t key = f->key;
      rf__future_end(f, RF_STATE_COMPLETED, NULL, &result);
      /* Written when rank 0 learns of it: a rerun finds it done. */
      if (co->journal != NULL) {
        RF_CHECK(rf__journal_append(co->journal, key, raw, rawlen));
      }
      return RF_OK;
    }
    case RF_OUTCOME_TRANSIENT:
    case RF_OUTCOME_KILLED:
    case RF_OUTCOME_TIMED_OUT:
      if (retry) {
        double delay = retry_delay(co, &task->opts, f->attempts);
        rf__log(outcome == RF_OUTCOME_TRANSIENT ? RF_LOG_INFO : RF_LOG_WARN,
                rf__future_keytext(f), "attempt %d %s, retrying in %.3g s: %s",
                f->attempts, rf__outcome_name(outcome), delay, msg);
        rf__free(f->error);
        f->error = rf__strdup(msg);
        f->state = RF_STATE_PENDING;
        co->retried++;
        heap_push(co, f, rf__now() + delay);
        return RF_OK;
      }
      if (outcome != RF_OUTCOME_TRANSIENT) { /* a crash or a time limit */
        int crash = outcome == RF_OUTCOME_KILLED;
        rf__log(RF_LOG_WARN, rf__future_keytext(f), "%s after %d attempt%s: %s",
                crash ? "crashed" : "timed out", f->attempts,
                f->attempts == 1 ? "" : "s", msg);
        rf__future_end(f, crash ? RF_STATE_CRASHED : RF_STATE_TIMED_OUT, msg,
                       NULL);
        return RF_OK;
      }
      /* out of retries: a failure like a permanent one */
      __attribute__((fallthrough));
    case RF_OUTCOME_PERMANENT:
      rf__log(RF_LOG_WARN, rf__future_keytext(f), "failed after %d attempt%s: %s",
              f->attempts, f->attempts == 1 ? "" : "s", msg);
      rf__future_end(f, RF_STATE_FAILED, msg, NULL);
      return RF_OK;
    case RF_OUTCOME_CRASHED:
      rf__log(RF_LOG_WARN, rf__future_keytext(f), "crashed: %s", msg);
      rf__future_end(f, RF_STATE_CRASHED, msg, NULL);
      return RF_OK;
    case RF_OUTCOME_CANCELLED:
      rf__future_end(f, RF_STATE_CANCELLED, msg, NULL);
      return RF_OK;
    case RF_OUTCOME_STOPPED:
    case RF_OUTCOME_NOTRUN:
      /* Handed back unstarted (a drain, or a task waiting on subtasks),
       * or killed because the job stops: not an attempt that counts, and
       * a resume runs it again. Cancelled meanwhile: it never runs. */
      f->attempts--;
      f->state = RF_STATE_PENDING;
      f->rank = -1;
      if (f->flags & RF_FUT_CANCEL) {
        rf__future_end(f, RF_STATE_CANCELLED, "cancelled before it ran", NULL);
        return RF_OK;
      }
      /* Stopping: it stays pending (never runs) and keeps its live
       * reference, which a cancel or the tear-down releases; draining,
       * a subtask still runs (its parent waits for it). */
      if (co->stop == RF_SIGNAL_NONE ||
          (co->stop == RF_SIGNAL_DRAIN && f->nest != NULL &&
           f->nest->parent != NULL)) {
        rf__sched_ready(f);
      }
      return RF_OK;
    case RF_OUTCOME_COUNT_:
      break;
  }
  return rf__error(RF_ECODEC, "malformed message: outcome %d", (int)outcome);
}
