/* SPDX-License-Identifier: BSD-3-Clause */
/* parallel.c -- rank 0's side of parallel tasks: members, launch, outcome.
 *
 * A parallel task (width k > 1) needs k workers at once. The task at the
 * head of its lane gets its members reserved as soon as it is there: the
 * k workers chosen stop receiving CPU batches, and once all k are idle
 * the task goes to each (the worker side is group.c). Reserving as they
 * free up is what keeps a wide task from starving behind a stream of
 * narrow ones; the other workers go on with narrow work (backfill).
 * Members come from one node when one has enough candidates (the one with
 * the fewest that still fits, so several parallel tasks share a node when
 * they fit), else from the nodes with the most. Every member reports its
 * own outcome; rank 0 combines them here: the task's result is member 0's,
 * and a failure of any member fails the task with the lowest failing
 * member's message (retried as a whole when it is transient).
 */
#include "coord.h"

#include <stdio.h>
#include <stdlib.h>

static void release(rf_coord *co) {
  for (int i = 0; i < co->nworkers; i++) co->workers[i].reserved = 0;
  co->reserved_for = NULL;
}

/* Choose k members among workers not in a parallel task and mark them
 * reserved; 0 when fewer than k are free of parallel work. */
static int reserve(rf_coord *co, int k) {
  int n = 0, size = co->rt->size;
  int *count = rf__calloc((size_t)size, sizeof *count);
  int *cand = rf__calloc((size_t)co->nworkers, sizeof *cand);
  if (count == NULL || cand == NULL) { /* try again on the next round */
    rf__free(count);
    rf__free(cand);
    return 0;
  }
  for (int i = 0; i < co->nworkers; i++) {
    /* Not a worker whose task waits on subtasks: held, it would get no
     * subtasks and never be idle. */
    if (co->workers[i].par == 0 && co->workers[i].nblocked == 0) {
      cand[n++] = i;
      count[co->workers[i].node]++;
    }
  }
  int fit = -1;
  for (int node = 0; node < size; node++) {
    if (count[node] >= k && (fit < 0 || count[node] < count[fit])) fit = node;
  }
  /* Best first: the fitting node (or the fullest nodes), then the least
   * loaded workers, so the members are idle soonest. Selection by
   * repeated minimum: k and the worker count are small. */
  for (int picked = 0; picked < k && picked < n; picked++) {
    int best = -1;
    for (int j = picked; j < n; j++) {
      rf_worker_info *a = &co->workers[cand[j]];
      if (fit >= 0 && a->node != fit) continue;
      if (best < 0) {
        best = j;
        continue;
      }
      rf_worker_info *b = &co->workers[cand[best]];
      if (count[a->node] != count[b->node] ? count[a->node] > count[b->node]
          : a->node != b->node             ? a->node < b->node
                                           : a->inflight < b->inflight) {
        best = j;
      }
    }
    if (best < 0) break;
    int t = cand[picked];
    cand[picked] = cand[best];
    cand[best] = t;
  }
  int ok = n >= k;
  for (int i = 0; ok && i < k; i++) co->workers[cand[i]].reserved = 1;
  rf__free(count);
  rf__free(cand);
  return ok;
}

static int cmp_int(const void *a, const void *b) {
  return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static rf_status launch(rf_coord *co, int k) {
  size_t entry = 0;
  while (entry < co->npar && co->par[entry].f != NULL) entry++;
  if (entry == co->npar) {
    rf_par_run *p = rf__realloc(co->par, (co->npar + 1) * sizeof *p);
    if (p == NULL) return rf__error(RF_ENOMEM, "a parallel task");
    co->par = p;
    memset(&co->par[co->npar++], 0, sizeof *p);
  }
  rf_par_run *run = &co->par[entry];
  run->members = rf__malloc((size_t)k * sizeof *run->members);
  run->reported = rf__calloc((size_t)k, 1);
  if (run->members == NULL || run->reported == NULL) {
    rf__free(run->members);
    rf__free(run->reported);
    memset(run, 0, sizeof *run);
    return rf__error(RF_ENOMEM, "a parallel task");
  }
  int m = 0;
  for (int i = 0; i < co->nworkers && m < k; i++) {
    if (co->workers[i].reserved) run->members[m++] = co->workers[i].rank;
  }
  qsort(run->members, (size_t)k, sizeof *run->members, cmp_int);
  rf_future *f;
  RF_CHECK(rf__sched_take(co, RF_LANE_PAR, run->members[0], RF_STATE_RUNNING,
                          &f));
  if (f == NULL) { /* ended while reserved: nothing to launch */
    rf__free(run->members);
    rf__free(run->reported);
    memset(run, 0, sizeof *run);
    release(co);
    return RF_OK;
  }
  run->f = f;
  run->k = k;
  run->failed = -1;
  run->outcome = RF_OUTCOME_OK;
  co->nparlive++;
  release(co);
  rf_msg_task t = {rf__future_id(f), f->key, f->task->index, f->attempts, 0,
                   0, rf__blob_data(&f->u.live.arg), f->u.live.arg.len};
  for (int i = 0; i < k; i++) {
    rf_buf b = {0};
    rf__msg_par(&b, &t, (uint32_t)i, run->members, (uint32_t)k);
    co->workers[run->members[i] - 1].par = (int)entry + 1;
    RF_CHECK(rf__send(co->sendq, run->members[i], RF_TAG_PAR, &b));
  }
  return RF_OK;
}

rf_status rf__par_dispatch(rf_coord *co) {
  for (;;) {
    rf_future *head = rf__sched_peek(co, RF_LANE_PAR);
    if (head == NULL) {
      if (co->reserved_for != NULL) release(co);
      return RF_OK;
    }
    /* Resolved now (once): a head too large to send fails here, and the
     * task launched below is this one, of this width. */
    rf_status pst = rf__sched_prepare(co, head);
    if (pst == RF_ETASK) continue;
    RF_CHECK(pst);
    int k = rf__task_width(head->task);
    if (co->reserved_for != head) {
      release(co);
      if (!reserve(co, k)) return RF_OK; /* wait for parallel work to end */
      co->reserved_for = head;
    }
    for (int i = 0; i < co->nworkers; i++) {
      rf_worker_info *w = &co->workers[i];
      if (w->reserved && w->inflight > 0) return RF_OK; /* still draining */
    }
    RF_CHECK(launch(co, k));
  }
}

/* ---- outcomes ------------------------------------------------------------ */

static rf_par_run *run_of(rf_coord *co, const rf_future *f) {
  for (size_t i = 0; i < co->npar; i++) {
    if (co->par[i].f == f) return &co->par[i];
  }
  return NULL;
}

static void run_free(rf_coord *co, rf_par_run *run) {
  for (int i = 0; i < run->k; i++) {
    rf_worker_info *w = &co->workers[run->members[i] - 1];
    if (w->par == (int)(run - co->par) + 1) w->par = 0;
  }
  rf__free(run->members);
  rf__free(run->reported);
  rf__buf_free(&run->payload);
  memset(run, 0, sizeof *run);
  co->nparlive--;
}

/* The failing member's message, saying which member it was. */
static rf_status note_failure(rf_par_run *run, int member,
                              const uint8_t *payload, size_t len) {
  char msg[1024], text[1200];
  RF_CHECK(rf__text_decode(payload, len, msg, sizeof msg));
  snprintf(text, sizeof text, "member %d of %d (rank %d): %s", member, run->k,
           run->members[member], msg);
  rf__text_encode(&run->payload, text);
  return run->payload.oom ? rf__error(RF_ENOMEM, "a member's message") : RF_OK;
}

rf_status rf__par_on_done(rf_coord *co, int src, rf_reader *r) {
  rf_msg_outcome o;
  uint64_t member;
  RF_CHECK(rf__msg_par_done_read(r, &o, &member));
  rf_outcome outcome = o.outcome;
  const uint8_t *payload = o.payload;
  size_t len = o.len;
  double t0 = o.t0, t1 = o.t1;
  rf_future *f = rf__future_lookup(co, o.id);
  rf_par_run *run = f ? run_of(co, f) : NULL;
  RF_ENSURE(run != NULL && member < (uint64_t)run->k &&
                run->members[member] == src && !run->reported[member],
            RF_ECODEC, "malformed message: rank %d reported a member's "
            "outcome it does not hold", src);
  run->reported[member] = 1;
  if (run->nreported++ == 0 || t0 < run->t0) run->t0 = t0;
  if (t1 > run->t1) run->t1 = t1;
  if (outcome != RF_OUTCOME_OK && (run->failed < 0 || (int)member < run->failed)) {
    run->failed = (int)member;
    run->outcome = outcome;
    RF_CHECK(note_failure(run, (int)member, payload, len));
  } else if (outcome == RF_OUTCOME_OK && member == 0 && run->failed < 0) {
    run->payload.len = 0;
    RF_CHECK(rf__buf_append(&run->payload, payload, len));
  }
  if (run->nreported < run->k) return RF_OK;
  /* Every member has reported: one outcome for the task. */
  rf_buf out = run->payload;
  rf_outcome ended = run->outcome;
  t0 = run->t0;
  t1 = run->t1;
  memset(&run->payload, 0, sizeof run->payload);
  run_free(co, run);
  rf_status st = rf__sched_outcome(co, f, ended, out.data, out.len, t0, t1);
  rf__buf_free(&out);
  return st;
}

rf_status rf__par_cancel(rf_coord *co, rf_future *f) {
  rf_par_run *run = run_of(co, f);
  for (int i = 0; run != NULL && i < run->k; i++) {
    RF_CHECK(rf__coord_send_word(co, run->members[i], RF_TAG_CANCEL,
                                 rf__future_id(f)));
  }
  return RF_OK;
}

void rf__par_free(rf_coord *co) {
  for (size_t i = 0; i < co->npar; i++) {
    rf__free(co->par[i].members);
    rf__free(co->par[i].reported);
    rf__buf_free(&co->par[i].payload);
  }
  rf__free(co->par);
  co->par = NULL;
  co->npar = 0;
}
