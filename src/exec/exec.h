/* SPDX-License-Identifier: BSD-3-Clause */
/* exec.h -- the exec layer: a program's tasks and how one attempt runs.
 *
 * What rank 0 and the workers share sits here, below both of them: the
 * registry of tasks and steps (registry.c), the runtime record and the
 * library's options, the flow handle with its table of operations, the
 * record of a submitted task that rank 0's futures and a worker's handles
 * both are, running one attempt with its context (context.c), the I/O
 * slots that run attempts on threads (iopool.c), and running a collective
 * step on this rank (step.c). Nothing here knows the coordinator or the
 * worker loop: what differs between them comes in as arguments (a cancel
 * probe, the subtask operations of a task's flow).
 * Included by rank0/, worker/ and api/; includes the wire layer.
 */
#ifndef RF_EXEC_H
#define RF_EXEC_H

#include <stdatomic.h>

#include "wire/proto.h"
#include "wire/wire.h"

/* Tasks waiting inside one another's waits, per rank (subtasks). */
#define RF_NEST_MAX 32

/* ---- registry.c: tasks and steps by name and index ---------------------- */
struct rf_task {
  char *name;
  rf_task_fn fn;
  rf_task_options opts; /* tags deep-copied */
  uint32_t index;
  uint64_t name_hash; /* seeds the key hash of its submissions */
  double avg_ns;      /* measured duration, moving average; 0 = unknown */
};
struct rf_step {
  char *name;
  rf_step_fn fn;
  uint32_t index;
};
typedef struct {
  rf_task **tasks;
  size_t count, cap;
  rf_step **steps;
  size_t nsteps, capsteps;
  int closed; /* rf_run started: no more registrations */
} rf_registry;
void rf__registry_free(rf_registry *reg);
/* Hash of every name and option, in order: equal on all ranks iff the
 * registries match. */
uint64_t rf__registry_fingerprint(const rf_registry *reg);
/* The task or step at index, NULL when there is none (a wire index). */
rf_task *rf__registry_at(const rf_registry *reg, uint64_t index);
rf_step *rf__registry_step_at(const rf_registry *reg, uint64_t index);
/* Width of a task: the members it runs on (1 for all but parallel
 * tasks). */
int rf__task_width(const rf_task *t);
/* A task key as people read it, "name-0123456789abcdef", into buf (at
 * least 80 bytes). */
void rf__key_format(const char *name, uint64_t key, char *buf, size_t len);

/* ---- the library's options (parsed by api/options.c) -------------------- */
/* How progress is shown (--progress). */
typedef enum {
  RF_PROGRESS_AUTO,  /* tty when rank 0's stderr is a terminal, else off */
  RF_PROGRESS_TTY,   /* one line redrawn in place */
  RF_PROGRESS_LINES, /* a status line every interval, and a summary */
  RF_PROGRESS_OFF
} rf_progress_mode;

typedef struct {
  rf_log_level log_level;
  int log_level_set;
  int progress;             /* rf_progress_mode */
  double progress_interval; /* seconds between lines */
  int quiet;                /* no progress, no totals line */
  const char *report;       /* --report FILE, or NULL */
  const char *timeline;     /* --timeline FILE, or NULL */
  int64_t io_slots;         /* --io-slots: I/O tasks at once per rank */
  const char *journal;      /* --journal FILE, or NULL */
  double drain_grace;       /* --drain-grace: seconds a drain waits */
  int isolate;              /* --isolate: plain tasks run in a task host */
  double task_timeout;      /* --task-timeout: default limit (0: none) */
  int64_t crash_limit;      /* --crash-limit: host crashes before giving up */
  int retry_failed;         /* --retry-failed: run crashed-for-good again */
} rf_lib_options;
#define RF_CRASH_LIMIT_DEFAULT 3
#define RF_IO_SLOTS_DEFAULT 8

/* ---- the runtime (api/runtime.c makes it) ------------------------------- */
struct rf_flow {
  rf_runtime *rt;
  const struct rf_flow_ops *ops;
  rf_ctx *ctx; /* a task's own flow (rf_ctx_flow); NULL: the flow's */
};

struct rf_runtime {
  int rank, size;
  MPI_Comm comm;       /* rank 0 <-> workers (transport.c) */
  int thread_level;
  int mpi_ok;          /* MPI is initialised and usable */
  const char *prog;
  rf_registry reg;
  rf_flow flow;        /* the flow's, on rank 0 */
  struct rf_coord *co; /* rank 0 */
  MPI_Comm step_comm;  /* collective steps' own communicator */
  MPI_Comm group_comm; /* parallel tasks' members meet and split here */
  int node;            /* this rank's node (see wire/group.c) */
  int *nodes;          /* rank 0: each rank's node */
  rf_lib_options opts; /* the library's flags as parsed */
  rf_value *identity;  /* for the journal (rank 0, with --journal) */
  int journal_reset;   /* rf_journal_reset() was called */
  int argc;            /* the command line, for the report */
  char **argv;
  int ran;
  char *exe;           /* this program's file, which task hosts run */
  int host_fd;         /* in a task host: the socket to its worker; else -1 */
};

/* ---- a submitted task ----------------------------------------------------
 * One record serves rank 0's futures (rank0/future.c: the coordinator's
 * table, states, dependency edges) and the handles a task on a worker
 * holds of its subtasks (worker/nest_client.c: co is NULL). The public
 * reads (state, result, error, key, times) are the same for both. */
enum {
  RF_FUT_HELD = 1u << 0,      /* the flow holds a reference */
  RF_FUT_QUEUED = 1u << 1,    /* in the ready queue or the retry heap */
  RF_FUT_CANCEL = 1u << 2,    /* cancel requested */
  RF_FUT_TREE = 1u << 3,      /* arg is a tree holding futures */
  RF_FUT_JOURNAL = 1u << 4,   /* resolved from the journal */
  RF_FUT_ISOLATE = 1u << 5    /* run in a task host: it may have killed a
                               * rank in an earlier run */
};

struct rf_future {
  struct rf_coord *co;    /* rank 0's, or NULL for a worker's handle */
  uint32_t index, gen;    /* wire id = gen << 32 | index (in co's table) */
  uint32_t refs;          /* flow hold + value refs + dependents' + live */
  uint32_t waiting;       /* upstream futures not ended yet */
  uint8_t state;          /* rf_state */
  uint8_t flags;          /* RF_FUT_* */
  uint16_t attempts;
  int32_t rank;           /* rank of the last attempt, -1 if none */
  rf_task *task;
  uint64_t key;
  double t_submit, t_start, t_end;
  /* What a task needs until it ends and what it has after never coexist,
   * so they share storage: a million finished tasks stay small. */
  union {
    struct {
      rf_blob arg;           /* encoded argument (futures resolved) */
      rf_value *tree;        /* argument holding futures, until dispatch */
      struct rf_deps *deps;  /* waiting dependents (each holds a ref) */
    } live;                  /* until the task ends */
    struct {
      rf_blob result;        /* encoded result when completed */
      rf_value *decoded;     /* decoded on first rf_future_result */
    } done;                  /* once it has ended */
  } u;
  char *error;            /* why the last attempt did not complete */
  char *keytext;          /* "name-hex", built on first rf_future_key */
  rf_future *next;        /* ready queue link */
  rf_as_completed *watcher;
  struct rf_nest *nest;   /* subtask or parent of subtasks (rank0/nest.c) */
};
/* "name-0123456789abcdef", built once and kept (registry.c). */
const char *rf__future_keytext(rf_future *f);

/* ---- a flow's operations ---------------------------------------------------
 * rank 0's flow, a task's flow at one rank (its subtasks are rank 0's own
 * futures) and a task's flow on a worker (its subtasks are handles, and
 * rank 0 runs them) submit and wait differently. api/flow.c makes every
 * public call through these; futures choose theirs by kind. An operation
 * that a flow cannot do is NULL there. */
typedef struct rf_flow_ops {
  const char *kind; /* whose flow, for messages ("a task on a worker") */
  rf_status (*submit)(rf_flow *flow, const rf_task *task, rf_value *arg,
                      rf_future **out);
  /* Wait until f has ended or deadline_ns (monotonic; 0: none). */
  rf_status (*wait)(rf_future *f, uint64_t deadline_ns);
  rf_status (*cancel)(rf_future *f);
  void (*release)(rf_future *f);   /* the flow's reference */
  void (*unref)(rf_future *f);     /* a value's reference */
  rf_status (*as_completed)(rf_flow *flow, rf_future **futures, size_t n,
                            rf_as_completed **out);
  rf_status (*step)(rf_flow *flow, const rf_step *step, const rf_value *arg);
} rf_flow_ops;

/* ---- context.c: running one attempt (workers, one rank, I/O slots) ------- */
/* What to run: an attempt of a task on its encoded argument. */
typedef struct {
  const rf_task *task;
  uint64_t id, key;
  int attempt;
  const uint8_t *arg;
  size_t arglen;
} rf_attempt;
/* How it ended: the outcome and its payload (the encoded result, or the
 * text saying why), and when it ran. */
typedef struct {
  rf_outcome outcome;
  rf_buf payload;
  double t0, t1;
} rf_attempt_result;
/* The ranks an attempt runs on: its communicator, this member's rank in
 * it, and its size (NULL: MPI_COMM_SELF alone, as for every task of
 * width 1; no MPI call is made to find out, so I/O slots may use it). */
typedef struct {
  MPI_Comm comm;
  int rank, size;
} rf_team;
/* Asked now and then by rf_ctx_cancelled: 1 when the attempt of task id
 * is cancelled or the job is stopping. */
typedef int (*rf_cancel_probe_fn)(void *user, uint64_t id);
/* Run attempt a. subtasks: the operations of the task's own flow (NULL,
 * and for I/O and parallel tasks always: it cannot submit subtasks).
 * probe (may be NULL) learns of a cancel or a stop. An error returned is
 * the run's (a malformed argument, no memory), not the task's: that ends
 * the job. */
rf_status rf__attempt_run(rf_runtime *rt, const rf_attempt *a,
                          const rf_team *team, const rf_flow_ops *subtasks,
                          rf_cancel_probe_fn probe, void *probe_user,
                          rf_attempt_result *res);
/* An outcome that carries only a message (no attempt ran): RF_ENOMEM if
 * it cannot be encoded. */
rf_status rf__attempt_note(rf_attempt_result *res, rf_outcome outcome,
                           const char *msg);
/* The running attempt's future id. */
uint64_t rf__ctx_id(const rf_ctx *ctx);

/* ---- iopool.c: I/O slots, threads for tasks registered with io --------- */
typedef struct rf_iopool rf_iopool;
/* An ended attempt, handed to the collector on the main thread. */
typedef rf_status (*rf_attempt_done_fn)(void *user, uint64_t id,
                                       rf_outcome outcome,
                                       const uint8_t *payload, size_t len,
                                       double t0, double t1);
typedef rf_status (*rf_attempt_id_fn)(void *user, uint64_t id);
/* How long cancelled I/O attempts get to end when a rank stops. */
#define RF_IO_STOP_GRACE_S 0.3
/* A pool of nslots slots; threads start as work arrives. */
rf_status rf__iopool_create(rf_runtime *rt, int nslots, rf_iopool **out);
/* Slots not holding an attempt (queued, running, or ended uncollected). */
int rf__iopool_free_slots(const rf_iopool *p);
/* Attempts submitted and not yet collected. */
size_t rf__iopool_active(const rf_iopool *p);
/* Queue attempt a (its argument is copied); it runs when a slot is free. */
rf_status rf__iopool_submit(rf_iopool *p, const rf_attempt *a);
/* Set the cancelled flag of the attempt of task id (p may be NULL). */
void rf__iopool_cancel(rf_iopool *p, uint64_t id);
/* Take back every attempt not started yet, calling fn with each id. */
rf_status rf__iopool_take_unstarted(rf_iopool *p, rf_attempt_id_fn fn,
                                    void *user);
/* Hand every ended attempt to fn (main thread); *count says how many. An
 * error of the run itself (a malformed argument) ends the job. */
rf_status rf__iopool_collect(rf_iopool *p, rf_attempt_done_fn fn, void *user,
                             int *count);
/* Cancel everything, wait up to grace seconds for the threads to leave,
 * and free the pool. Returns how many threads were still running (their
 * pool is then left to the process exit), 0 normally. */
int rf__iopool_destroy(rf_iopool *p, double grace);
/* 1 when some pool was left with threads still running a task. */
int rf__iopool_stuck(void);

/* ---- task hosts: isolated attempts in a process of their own -------------
 * hostio.c frames the socket between a worker and its host; host.c is the
 * worker's side (start, feed, watch, kill, restart); host_serve.c is the
 * host's (rf_run in a host serves attempts). */
/* Set in a task host's environment: "FD:RANK:SIZE:PARENT" (its socket,
 * the rank and job size of the worker that started it, and its pid). */
#define RF_HOST_ENV "RANKFLOW_TASK_HOST"
/* The host's descriptors: the socket, and a page both map, where the host
 * says which attempt runs and since when. Outcomes travel in batches, so
 * after a crash only this page says which attempt it was; time limits
 * are measured from it too. */
enum { RF_HOST_SOCKET_FD = 3, RF_HOST_PAGE_FD = 4 };
typedef struct {
  _Atomic uint64_t running;    /* the attempt's task id; 0: none */
  _Atomic uint64_t started_ns; /* its start, CLOCK_MONOTONIC */
} rf_host_page;
enum { /* frame kinds */
  RF_HOSTMSG_HELLO = 1, /* host -> worker: registry fingerprint (a word) */
  RF_HOSTMSG_WORK,      /* worker -> host: a WORK batch */
  RF_HOSTMSG_CANCEL,    /* worker -> host: a task id (a word) */
  RF_HOSTMSG_HANDBACK,  /* worker -> host: answer NOTRUN for the unstarted */
  RF_HOSTMSG_RESULTS    /* host -> worker: a RESULTS batch */
};
typedef struct {
  int fd;
  int eof;        /* the other side closed, or died */
  rf_buf out;     /* frames queued; out_off of them sent */
  size_t out_off;
  rf_buf in;      /* bytes read; in_off of them cut into frames */
  size_t in_off;
} rf_hostio;
void rf__hostio_init(rf_hostio *io, int fd);
void rf__hostio_free(rf_hostio *io); /* closes the socket */
rf_status rf__hostio_put(rf_hostio *io, int kind, const uint8_t *body,
                         size_t len);
size_t rf__hostio_unsent(const rf_hostio *io);
/* Send what is queued; block: until all of it is. */
rf_status rf__hostio_flush(rf_hostio *io, int block);
/* Read what is there without waiting; *got is 1 if bytes came. */
rf_status rf__hostio_fill(rf_hostio *io, int *got);
/* Cut the next whole frame out (1), or 0 when none is complete; body is
 * valid until the next fill. Kind -1: a frame no code writes. */
int rf__hostio_next(rf_hostio *io, int *kind, const uint8_t **body,
                    size_t *len);
/* Wait up to timeout_ns for the socket to be readable (or writable with
 * bytes queued): 1 if it is. */
int rf__hostio_wait(const rf_hostio *io, uint64_t timeout_ns);

typedef struct rf_host rf_host;
/* A worker's host; the process starts with the first attempt. */
rf_status rf__host_create(rf_runtime *rt, rf_host **out);
/* Kill the host (if any) and free everything; attempts are dropped. */
void rf__host_destroy(rf_host *h);
/* Attempts submitted and not yet collected (h may be NULL). */
size_t rf__host_active(const rf_host *h);
/* Queue attempt a (copied); it goes to the host when the host has room. */
rf_status rf__host_submit(rf_host *h, const rf_attempt *a);
/* Cancel the attempt of task id (h may be NULL). */
void rf__host_cancel(rf_host *h, uint64_t id);
/* Hand back every attempt not started: fn for those still here; those
 * with the host come back NOTRUN through collect. */
rf_status rf__host_take_unstarted(rf_host *h, rf_attempt_id_fn fn,
                                  void *user);
/* Kill the host now: its attempts end stopped (the job stops or drains). */
void rf__host_stop(rf_host *h);
/* Move attempts along: send queued ones, read outcomes, notice a host
 * that died or ran past a time limit (and start another), and hand every
 * ended attempt to fn; *count says how many. */
rf_status rf__host_collect(rf_host *h, rf_attempt_done_fn fn, void *user,
                           int *count);
/* Wait up to timeout_ns for the host to have something for collect (a
 * plain sleep when it has nothing in flight; h may be NULL). */
void rf__host_wait(rf_host *h, uint64_t timeout_ns);
/* 1 when attempts of task t run in a task host (--isolate, or its
 * isolate option; never io or parallel tasks, nor RF_ISOLATE_NEVER). */
int rf__task_isolated(const rf_runtime *rt, const rf_task *t);
/* The same for one attempt, which rank 0 may ask to isolate (forced: a
 * resume's choice for a task that may have killed its rank). */
int rf__attempt_isolated(const rf_runtime *rt, const rf_task *t, int forced);
/* The time limit of an attempt of t in seconds (0: none). */
double rf__task_timeout(const rf_runtime *rt, const rf_task *t);
/* In a task host: serve attempts until the worker goes; never returns. */
_Noreturn void rf__host_serve(rf_runtime *rt);

/* ---- watch.c: the plain attempt this rank's main thread runs ------------ */
/* Around a plain attempt on the main thread (limit: seconds, 0: none). */
void rf__watch_begin(const char *key, int attempt, double limit);
void rf__watch_end(void);
/* The fatal-signal line and the drain's alarm (after MPI_Init, whose own
 * handlers these replace). */
rf_status rf__watch_install(int rank, double drain_grace);
/* Start the watchdog that ends the process when a plain attempt runs
 * --drain-grace past its time limit (once; only when limits exist). */
rf_status rf__watch_limits(void);

/* ---- step.c: a collective step on this rank ------------------------------ */
/* Run step index with arg (encoded bytes) on this rank; every rank calls
 * it. *agreed receives what all ranks agreed: RF_OK, or the failing
 * rank's status (it logged why). The return value is this rank's own
 * trouble taking part (MPI, a malformed message): that ends the job. */
rf_status rf__step_run(rf_runtime *rt, uint32_t index, const uint8_t *arg,
                       size_t len, rf_status *agreed);

#endif /* RF_EXEC_H */
