/* SPDX-License-Identifier: BSD-3-Clause */
/* iopool.c -- I/O slots: threads that run I/O-bound tasks side by side.
 *
 * A task registered with the io option waits on the network or a disk, not
 * on a CPU; run one at a time, a rank would sit idle for a round trip per
 * task. So each rank that runs tasks (every worker, and rank 0 when it is
 * alone) hands such attempts to this pool, which runs up to --io-slots of
 * them at once, one per thread. The threads never call MPI or HDF5 (the
 * threading rules): they run the attempt through rf__attempt_run, like any
 * attempt, and leave the encoded outcome on a done list that the rank's
 * main thread collects between its own work and reports the usual way.
 *
 * A cancel reaches a running attempt through an atomic flag that its
 * rf_ctx_cancelled() reads; a stop signal through the signal flag every
 * context checks anyway. Threads start when work needs them, up to the
 * slot count, and sleep on a condition variable when idle: no spinning.
 * They block every signal, so handlers run on the main thread.
 */
#include "exec.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct rf_iojob rf_iojob;
struct rf_iojob {
  rf_iojob *next;
  rf_attempt a;                /* a.arg points at arg below */
  atomic_int cancelled;
  rf_status status;            /* of running it (decoding, memory) */
  char error[512];             /* rf_last_error of the thread, if not OK */
  rf_attempt_result res;
  uint8_t arg[];
};

struct rf_iopool {
  rf_runtime *rt;
  pthread_mutex_t mu;
  pthread_cond_t work;         /* a job was queued, or stopping */
  pthread_cond_t gone;         /* a thread left */
  rf_iojob *queue_head, *queue_tail; /* waiting for a slot */
  rf_iojob *done_head, *done_tail;   /* ended, not collected */
  rf_iojob **running;          /* by slot, for cancels */
  pthread_t *threads;          /* joined once every one has left */
  int nslots, nthreads, idle, alive;
  size_t queued, active;       /* active: submitted and not collected */
  int stopping;
};

typedef struct {
  rf_iopool *pool;
  int slot;
} slot_arg;

static void append(rf_iojob **head, rf_iojob **tail, rf_iojob *job) {
  job->next = NULL;
  if (*tail) (*tail)->next = job;
  else *head = job;
  *tail = job;
}

static int job_cancelled(void *user, uint64_t id) {
  (void)id;
  return atomic_load(&((rf_iojob *)user)->cancelled);
}

static void run_job(rf_iopool *p, rf_iojob *job) {
  if (atomic_load(&job->cancelled)) {
    job->status = rf__attempt_note(&job->res, RF_OUTCOME_CANCELLED,
                                   "cancelled before it ran");
  } else {
    job->status = rf__attempt_run(p->rt, &job->a, NULL, NULL, job_cancelled,
                                  job, &job->res);
  }
  if (job->status != RF_OK) {
    snprintf(job->error, sizeof job->error, "%s", rf_last_error());
  }
}

static void *slot_main(void *argp) {
  slot_arg a = *(slot_arg *)argp;
  rf_iopool *p = a.pool;
  rf__free(argp);
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->queue_head == NULL && !p->stopping) {
      p->idle++;
      pthread_cond_wait(&p->work, &p->mu);
      p->idle--;
    }
    if (p->stopping) break; /* queued jobs are dropped by the destroyer */
    rf_iojob *job = p->queue_head;
    p->queue_head = job->next;
    if (p->queue_head == NULL) p->queue_tail = NULL;
    p->queued--;
    p->running[a.slot] = job;
    pthread_mutex_unlock(&p->mu);
    run_job(p, job);
    pthread_mutex_lock(&p->mu);
    p->running[a.slot] = NULL;
    append(&p->done_head, &p->done_tail, job);
  }
  p->alive--;
  pthread_cond_broadcast(&p->gone);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

rf_status rf__iopool_create(rf_runtime *rt, int nslots, rf_iopool **out) {
  RF_ENSURE(nslots >= 1, RF_EINVAL, "I/O slots: %d (at least 1)", nslots);
  rf_iopool *p = rf__calloc(1, sizeof *p);
  if (p == NULL) return rf__error(RF_ENOMEM, "I/O slots");
  p->running = rf__calloc((size_t)nslots, sizeof *p->running);
  p->threads = rf__calloc((size_t)nslots, sizeof *p->threads);
  if (p->running == NULL || p->threads == NULL) {
    rf__free(p->running);
    rf__free(p->threads);
    rf__free(p);
    return rf__error(RF_ENOMEM, "I/O slots");
  }
  p->rt = rt;
  p->nslots = nslots;
  pthread_condattr_t ca;
  int rc = pthread_mutex_init(&p->mu, NULL);
  if (rc == 0) rc = pthread_condattr_init(&ca);
  if (rc == 0) {
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&p->work, &ca);
    if (rc == 0) rc = pthread_cond_init(&p->gone, &ca);
    pthread_condattr_destroy(&ca);
  }
  if (rc != 0) {
    rf__free(p->running);
    rf__free(p->threads);
    rf__free(p);
    return rf__error(RF_ESYS, "I/O slots: %s", strerror(rc));
  }
  *out = p;
  return RF_OK;
}

/* Start one more slot thread (mutex held), with every signal blocked. */
static rf_status start_thread(rf_iopool *p) {
  slot_arg *a = rf__malloc(sizeof *a);
  if (a == NULL) return rf__error(RF_ENOMEM, "starting an I/O slot");
  a->pool = p;
  a->slot = p->nthreads;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&p->threads[p->nthreads], NULL, slot_main, a);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    rf__free(a);
    return rf__error(RF_ESYS, "starting an I/O slot: %s", strerror(rc));
  }
  p->nthreads++;
  p->alive++;
  return RF_OK;
}

int rf__iopool_free_slots(const rf_iopool *p) {
  size_t busy = p->active; /* the main thread alone changes active */
  return busy >= (size_t)p->nslots ? 0 : p->nslots - (int)busy;
}

size_t rf__iopool_active(const rf_iopool *p) { return p->active; }

rf_status rf__iopool_submit(rf_iopool *p, const rf_attempt *a) {
  rf_iojob *job = rf__malloc(sizeof *job + a->arglen);
  if (job == NULL) return rf__error(RF_ENOMEM, "queueing an I/O task");
  memset(job, 0, sizeof *job);
  job->a = *a;
  job->a.arg = job->arg;
  atomic_init(&job->cancelled, 0);
  if (a->arglen) memcpy(job->arg, a->arg, a->arglen);
  pthread_mutex_lock(&p->mu);
  rf_status st = RF_OK;
  if ((size_t)p->idle <= p->queued && p->nthreads < p->nslots) {
    st = start_thread(p);
  }
  if (st != RF_OK && p->alive == 0) {
    pthread_mutex_unlock(&p->mu);
    rf__free(job);
    return st; /* no thread could ever run it */
  }
  append(&p->queue_head, &p->queue_tail, job);
  p->queued++;
  p->active++;
  pthread_cond_signal(&p->work);
  pthread_mutex_unlock(&p->mu);
  return RF_OK;
}

void rf__iopool_cancel(rf_iopool *p, uint64_t id) {
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  for (rf_iojob *j = p->queue_head; j != NULL; j = j->next) {
    if (j->a.id == id) atomic_store(&j->cancelled, 1);
  }
  for (int s = 0; s < p->nslots; s++) {
    if (p->running[s] != NULL && p->running[s]->a.id == id) {
      atomic_store(&p->running[s]->cancelled, 1);
    }
  }
  pthread_mutex_unlock(&p->mu);
}

static void cancel_all_locked(rf_iopool *p) {
  for (rf_iojob *j = p->queue_head; j != NULL; j = j->next) {
    atomic_store(&j->cancelled, 1);
  }
  for (int s = 0; s < p->nslots; s++) {
    if (p->running[s] != NULL) atomic_store(&p->running[s]->cancelled, 1);
  }
}

rf_status rf__iopool_take_unstarted(rf_iopool *p, rf_attempt_id_fn fn,
                                    void *user) {
  pthread_mutex_lock(&p->mu);
  rf_iojob *list = p->queue_head;
  p->queue_head = p->queue_tail = NULL;
  p->active -= p->queued;
  p->queued = 0;
  pthread_mutex_unlock(&p->mu);
  rf_status st = RF_OK;
  while (list != NULL) {
    rf_iojob *j = list;
    list = j->next;
    if (st == RF_OK) st = fn(user, j->a.id);
    rf__buf_free(&j->res.payload);
    rf__free(j);
  }
  return st;
}

rf_status rf__iopool_collect(rf_iopool *p, rf_attempt_done_fn fn, void *user,
                             int *count) {
  *count = 0;
  if (p == NULL || p->active == 0) return RF_OK;
  pthread_mutex_lock(&p->mu);
  rf_iojob *list = p->done_head;
  p->done_head = p->done_tail = NULL;
  pthread_mutex_unlock(&p->mu);
  rf_status st = RF_OK;
  while (list != NULL) {
    rf_iojob *j = list;
    list = j->next;
    p->active--;
    (*count)++;
    if (st == RF_OK && j->status != RF_OK) {
      st = rf__error(j->status, "%s", j->error);
    }
    if (st == RF_OK) {
      st = fn(user, j->a.id, j->res.outcome, j->res.payload.data,
              j->res.payload.len, j->res.t0, j->res.t1);
    }
    rf__buf_free(&j->res.payload);
    rf__free(j);
  }
  return st;
}

static void free_list(rf_iojob *list) {
  while (list != NULL) {
    rf_iojob *j = list;
    list = j->next;
    rf__buf_free(&j->res.payload);
    rf__free(j);
  }
}

/* Set once a pool was left with running threads: what they may still
 * read (the runtime, the registry) must outlive them. */
static atomic_int stuck_threads;

int rf__iopool_stuck(void) { return atomic_load(&stuck_threads); }

int rf__iopool_destroy(rf_iopool *p, double grace) {
  if (p == NULL) return 0;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += (time_t)grace;
  until.tv_nsec += (long)((grace - (double)(time_t)grace) * 1e9);
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&p->mu);
  p->stopping = 1;
  cancel_all_locked(p);
  pthread_cond_broadcast(&p->work);
  int rc = 0;
  while (p->alive > 0 && rc != ETIMEDOUT) {
    rc = pthread_cond_timedwait(&p->gone, &p->mu, &until);
  }
  int stuck = p->alive;
  pthread_mutex_unlock(&p->mu);
  if (stuck > 0) {
    atomic_store(&stuck_threads, 1);
    /* A task that ignores its cancelled flag: leave its thread and the
     * pool to the process exit rather than free what it still uses. */
    rf__log(RF_LOG_WARN, NULL,
            "%d I/O task%s did not stop within %.1f s of being cancelled",
            stuck, stuck == 1 ? "" : "s", grace);
    return stuck;
  }
  for (int t = 0; t < p->nthreads; t++) (void)pthread_join(p->threads[t], NULL);
  free_list(p->queue_head);
  free_list(p->done_head);
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->gone);
  pthread_mutex_destroy(&p->mu);
  rf__free(p->running);
  rf__free(p->threads);
  rf__free(p);
  return 0;
}
