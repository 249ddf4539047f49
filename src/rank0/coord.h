/* SPDX-License-Identifier: BSD-3-Clause */
/* coord.h -- rank 0's insides, shared by the files of this folder only.
 *
 * The coordinator's layout and every cross-file call between its parts:
 * futures and their edges (future.c), what runs next (scheduler.c), the
 * loop, the messages and the end of the flow (coordinator.c), parallel
 * tasks' members (parallel.c), the rank-0 half of subtasks (nest.c), the
 * inline runner of one rank (local.c) and the journal (journal.c). api/
 * sees only rank0.h; out/ is below and is handed numbers, not this.
 */
#ifndef RF_COORD_H
#define RF_COORD_H

#include "out/out.h"
#include "rank0.h"

typedef struct rf_journal rf_journal;
/* What rank 0 remembers of one task key (marks.c). */
typedef struct {
  uint64_t key;
  uint16_t crashes; /* attempts that killed their task host, all runs */
  uint8_t started;  /* an earlier run saw it start and not complete */
  uint8_t final;    /* crashed for good: the crash limit was reached */
  uint8_t parent;   /* it submits subtasks: never isolated by a resume */
  uint8_t used;
} rf_mark;
typedef struct {
  rf_mark *table;
  size_t cap, count; /* cap is a power of two */
} rf_marks;

/* ---- future.c: futures, states, dependency edges ------------------------ */
struct rf_deps {
  uint32_t n, cap;
  rf_future *items[];
};
typedef struct rf_retry {
  double at; /* when the task may run again (wall clock) */
  rf_future *f;
} rf_retry;
struct rf_ending {
  rf_future *f;
  struct rf_deps *deps;
};
uint64_t rf__future_id(const rf_future *f);
void rf__future_ref(rf_future *f);
void rf__future_unref(rf_future *f);
/* Look up a future by wire id; NULL if no such live future. */
rf_future *rf__future_lookup(rf_coord *co, uint64_t id);
/* The task ended in final state st (error: message or NULL; result: the
 * encoded result of a completed task, moved in, else NULL). Wakes
 * dependents, counts the state, drops the live reference: f may be freed
 * on return. */
void rf__future_end(rf_future *f, rf_state st, const char *error,
                    rf_blob *result);
void rf__futures_free_all(rf_coord *co);
/* Submit a subtask of parent: from a value (one rank), or from encoded
 * bytes a worker sent (client: its rank, token: its name for the handle). */
rf_status rf__submit_from(rf_coord *co, const rf_task *task, rf_value *arg,
                          rf_future *parent, rf_future **out);
rf_status rf__submit_encoded(rf_coord *co, const rf_task *task,
                             const uint8_t *bytes, size_t len,
                             rf_future *parent, int client, uint64_t token,
                             rf_future **out);
/* The flow's operations on rank 0's futures, shared with a task's flow at
 * one rank (nest.c). */
rf_status rf__coord_wait(rf_future *f, uint64_t deadline_ns);
rf_status rf__coord_cancel(rf_future *f);
void rf__coord_release(rf_future *f);
rf_status rf__coord_as_completed(rf_flow *flow, rf_future **futures, size_t n,
                                 rf_as_completed **out);

/* ---- the coordinator's layout ------------------------------------------- */
/* Rank 0's view of one worker. */
typedef struct {
  int rank;
  uint32_t inflight;      /* tasks sent and not reported */
  uint32_t batch;         /* size of the last batch sent */
  uint32_t io_inflight;   /* I/O tasks sent and not reported */
  int node;               /* from the start-up layout */
  int par;                /* member of parallel run par - 1; 0: none */
  int reserved;           /* held for the parallel task at its lane's head */
  int nblocked;           /* tasks on it waiting on subtasks */
  rf_future *blocked[RF_NEST_MAX]; /* innermost last (each holds a ref) */
} rf_worker_info;

/* Ready tasks wait in one of three lanes: CPU tasks go out in batches
 * sized by duration, I/O tasks as many as a rank has free I/O slots,
 * parallel tasks (width > 1) when their members are gathered. */
enum { RF_LANE_CPU, RF_LANE_IO, RF_LANE_PAR, RF_LANES };
typedef struct {
  rf_future *head, *tail;
  size_t n;
} rf_lane;

/* A parallel task running on its members (parallel.c). */
typedef struct {
  rf_future *f;        /* NULL: a free entry */
  int *members;        /* world ranks, ascending; member i has rank i */
  uint8_t *reported;   /* per member */
  int k, nreported;
  int failed;          /* lowest failing member, -1: none */
  rf_outcome outcome;  /* the failing member's, or OK */
  rf_buf payload;      /* member 0's result, or the failure's message */
  double t0, t1;
} rf_par_run;

struct rf_coord {
  rf_runtime *rt;
  rf_registry *reg;
  int nworkers;
  rf_worker_info *workers;
  rf_sendq *sendq;
  rf_buf rbuf, scratch;
  /* every live future by index; wire ids carry index and generation. A
   * free entry holds (next free index << 1 | 1), so they need no list. */
  rf_future **table;
  uint32_t nentries, capentries, free_head, gen;
  /* ready queues (FIFO), one per lane, and the retry heap (by time) */
  rf_lane ready[RF_LANES];
  struct rf_retry *heap;
  size_t nheap, capheap;
  /* futures whose end is being propagated to dependents */
  struct rf_ending *ending;
  size_t nending, capending;
  uint64_t totals[RF_STATE_COUNT]; /* tasks per final state */
  uint64_t submitted, unfinished, retried;
  int stop;          /* RF_SIGNAL_* acted on */
  int told_workers;  /* STOP/DRAIN sent */
  rf_status fatal;   /* an error that ends the job */
  rf_progress progress;
  rf_report *report; /* --report, or NULL */
  rf_iopool *io;      /* I/O slots when there is one rank, else NULL */
  rf_host *host;      /* the task host when there is one rank, else NULL */
  rf_journal *journal; /* --journal, or NULL */
  rf_marks marks;      /* crashes and starts by task key */
  rf_par_run *par;     /* parallel tasks running, by index */
  size_t npar, nparlive;
  rf_future *reserved_for; /* the parallel task workers are held for */
  rf_future **nest_parents; /* parents with ready subtasks (each a ref) */
  size_t nnest_parents, capnest_parents;
  rf_future *local[RF_NEST_MAX]; /* one rank: tasks running inline */
  int nlocal;
  uint64_t from_journal; /* tasks resolved from it */
  uint64_t rng;
  unsigned since_poll;
  double t0;
};

/* ---- coordinator.c: the loop, the messages, the end of the flow -------- */
/* Make progress: dispatch, receive, run inline at 1 rank. Returns RF_OK
 * when done(user) is true (NULL: after one round without waiting),
 * RF_ETIMEDOUT at deadline_ns (0: none), RF_ESTOPPED on a signal, or the
 * error that ends the job. */
typedef int (*rf_done_fn)(void *user);
rf_status rf__coord_progress(rf_coord *co, rf_done_fn done, void *user,
                             uint64_t deadline_ns);
/* Send a cancel for a dispatched task to the rank(s) running it. */
rf_status rf__coord_cancel_remote(rf_coord *co, rf_future *f);
/* Send a message of one number (proto.h's word) to rank dest. */
rf_status rf__coord_send_word(rf_coord *co, int dest, int tag, uint64_t v);
/* The flow's collective step (rf_flow_step on rank 0). */
rf_status rf__coord_step(rf_flow *flow, const rf_step *step,
                         const rf_value *arg);

/* ---- parallel.c: rank 0's side of parallel tasks ------------------------ */
/* Gather members for the parallel tasks at the head of their lane and
 * launch those whose members are all idle. */
rf_status rf__par_dispatch(rf_coord *co);
/* A member's outcome (PAR_DONE from src). */
rf_status rf__par_on_done(rf_coord *co, int src, rf_reader *r);
/* Cancel a running parallel task on every member. */
rf_status rf__par_cancel(rf_coord *co, rf_future *f);
void rf__par_free(rf_coord *co);

/* ---- scheduler.c: ready queue, retries, batch sizes --------------------- */
/* The task may run now: append it to the ready queue (which takes over
 * its live reference until it is popped). */
void rf__sched_ready(rf_future *f);
/* The next ready task of a lane that has not ended, left at its head;
 * NULL if none. The _q form takes a queue (a lane, or a parent's ready
 * subtasks). */
rf_future *rf__sched_peek(rf_coord *co, int lane);
rf_future *rf__sched_peek_q(rf_coord *co, rf_lane *q);
/* Empty queue q, dropping the references it held. */
void rf__sched_drop_q(rf_lane *q);
/* Append f to queue q (the queue holds f's live reference). */
void rf__sched_enqueue(rf_lane *q, rf_future *f);
/* The next task of a queue (or of a lane), its argument resolved
 * (rf__sched_prepare), marked as an attempt on rank in state (scheduled,
 * or running with its start time); *out = NULL when it is empty. */
rf_status rf__sched_take_q(rf_coord *co, rf_lane *q, int rank, rf_state state,
                           rf_future **out);
rf_status rf__sched_take(rf_coord *co, int lane, int rank, rf_state state,
                         rf_future **out);
/* The lane of a task (RF_LANE_*). */
int rf__sched_lane(const rf_future *f);
/* 1 when f's attempts run in a task host: its task is isolated, or an
 * earlier run saw it start and die (RF_FUT_ISOLATE). */
int rf__sched_isolated(const rf_coord *co, const rf_future *f);
/* f's attempt started, running alone: the journal records it (plain
 * attempts only; an isolated one cannot take its rank down). */
rf_status rf__sched_started(rf_coord *co, rf_future *f);
/* Tasks longer than this are recorded as started at one rank. */
#define RF_LONG_TASK_NS 1000000.0
/* Move due retries to the ready queue; 1 if any moved. */
int rf__sched_release_retries(rf_coord *co);
/* The earlier of deadline (0: none) and the next retry's due time. */
uint64_t rf__sched_next_wake(rf_coord *co, uint64_t deadline);
/* Replace the futures in f's argument by their results, once, before the
 * first dispatch. RF_ETASK: the resolved argument is too large to send;
 * the task has been failed (and may be freed): skip it. */
rf_status rf__sched_prepare(rf_coord *co, rf_future *f);
/* How many tasks the next batch for a worker may hold (0: none now), from
 * the head task's measured duration avg_ns (0: unknown). */
uint32_t rf__sched_batch_size(rf_coord *co, uint32_t inflight,
                              uint32_t last_batch, size_t nready,
                              double avg_ns);
/* An attempt ended (from a worker or inline): complete, retry after the
 * policy's delay, or fail the task. payload is the encoded result or
 * text. */
rf_status rf__sched_outcome(rf_coord *co, rf_future *f, rf_outcome outcome,
                            const uint8_t *payload, size_t len, double t0,
                            double t1);

/* ---- local.c: one rank, tasks run inline -------------------------------- */
/* Run the next ready CPU task in this process; *ran = 0 if none was
 * ready. */
rf_status rf__local_run_one(rf_coord *co, int *ran);
/* Take back ended I/O attempts and start ready I/O tasks on free slots;
 * *moved = 1 if anything ended or started. */
rf_status rf__local_io(rf_coord *co, int *moved);
/* A drain at one rank: attempts queued on the I/O slots and in the task
 * host, not started, go back to pending (they run on a resume). */
rf_status rf__local_drain(rf_coord *co);

/* ---- nest.c: the rank-0 half of tasks that submit tasks ----------------- */
/* Rank 0's record of a subtask and of a parent of subtasks. */
typedef struct rf_nest {
  rf_future *parent;  /* the task that submitted it (weak), or NULL */
  uint64_t token;     /* the submitter's handle of it */
  int client;         /* rank holding that handle (0: rank 0 itself) */
  rf_future **kids;   /* its subtasks not ended (each holds a reference) */
  size_t nkids, capkids;
  rf_lane ready;      /* its ready CPU subtasks */
  int listed;         /* in the coordinator's list of parents with ready kids */
  int journaled;      /* the journal knows it submits subtasks */
  rf_future **handles; /* one rank: the handles it was given (each a ref) */
  size_t nhandles, caphandles;
} rf_nest;
/* Room for f as parent's subtask (before anything can fail), then f's
 * parent set (client: rank holding the handle, token its name there) once
 * the submission can no longer fail, before f is queued. */
rf_status rf__nest_reserve(rf_future *parent, rf_future *f);
void rf__nest_adopt(rf_future *parent, rf_future *f, int client,
                    uint64_t token);
/* Queue a ready subtask under its parent (1), or 0 when f is not one. */
int rf__nest_ready(rf_coord *co, rf_future *f);
/* The queue a worker takes CPU work from: its innermost blocked parent's
 * subtasks, else the flow's ready tasks, else any parent's subtasks. */
rf_lane *rf__nest_queue_for(rf_coord *co, const rf_worker_info *w);
/* An attempt of f ended: its subtasks of that attempt are cancelled. */
void rf__nest_attempt_ended(rf_future *f);
/* f has ended: tell the rank holding its handle, leave the parent. */
void rf__nest_ended(rf_coord *co, rf_future *f);
void rf__nest_free(rf_future *f);
/* Messages from workers: SUBMIT, SUBCANCEL, BLOCK, UNBLOCK. */
rf_status rf__nest_on_message(rf_coord *co, int src, int tag, rf_reader *r);
/* One rank: f ran inline and returned; drop the handles it still holds. */
void rf__nest_local_done(rf_future *f);
/* The operations of a task's own flow at one rank: its subtasks are rank
 * 0's futures, run inline when it waits. */
extern const rf_flow_ops rf__local_task_flow_ops;

/* ---- marks.c: facts about a task key that outlive its futures --------- */
/* Find the entry of key (NULL: nothing remembered). */
rf_mark *rf__marks_find(const rf_marks *m, uint64_t key);
/* The entry of key, made when missing. */
rf_status rf__marks_get(rf_marks *m, uint64_t key, rf_mark **out);
void rf__marks_free(rf_marks *m);

/* ---- journal.c: finished tasks on disk, for resuming ----------------- */
/* Open (or create) the journal at path for flow with identity (a map);
 * *records says how many task records it holds; the marks of earlier runs
 * (starts, crashes) go into marks. RF_EUSAGE (exit 2): not a journal,
 * another flow or identity, a newer version, damaged; RF_EIO, RF_ENOMEM. */
rf_status rf__journal_open(const char *path, const char *flow,
                           const rf_value *identity, rf_marks *marks,
                           uint64_t *records, rf_journal **out);
/* Record a mark of key: RF_JOURNAL_STARTED (an attempt started, running
 * alone), RF_JOURNAL_CRASHED (an attempt killed its task host),
 * RF_JOURNAL_CRASHED_FINAL (the crash limit was reached), RF_JOURNAL_PARENT
 * (it submits subtasks, which a task host cannot). */
enum { RF_JOURNAL_STARTED = 'S', RF_JOURNAL_CRASHED = 'C',
       RF_JOURNAL_CRASHED_FINAL = 'X', RF_JOURNAL_PARENT = 'P' };
rf_status rf__journal_mark(rf_journal *j, int kind, uint64_t key);
/* 1 and the recorded result in *out when key is in the journal; 0 when
 * not (or on an error, in *err). */
int rf__journal_lookup(rf_journal *j, uint64_t key, rf_blob *out,
                       rf_status *err);
/* Record a completed task (once per key); fsyncs at most a second apart. */
rf_status rf__journal_append(rf_journal *j, uint64_t key,
                             const uint8_t *result, size_t len);
rf_status rf__journal_sync(rf_journal *j);
/* Sync when records wait and a second has passed (the progress loop). */
rf_status rf__journal_tick(rf_journal *j);
/* Sync and close (j may be NULL). */
rf_status rf__journal_close(rf_journal *j);

#endif /* RF_COORD_H */
