/* rf_internal.h -- declarations shared between the library's source files.
 *
 * Naming: rf_ is public, rf__ is internal across files, statics are short.
 * Nothing here is part of the API; jobs include only rankflow.h. Each
 * section below belongs to the file named in its banner.
 */
#ifndef RF_INTERNAL_H
#define RF_INTERNAL_H

#include "rankflow.h"

#include <mpi.h>
#include <msgpack.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- alloc.c: every allocation of the library goes through here -------- */
void *rf__malloc(size_t size);
void *rf__calloc(size_t n, size_t size);
void *rf__realloc(void *ptr, size_t size);
void rf__free(void *ptr);
char *rf__strdup(const char *s);
char *rf__strndup(const char *s, size_t len);
/* Fault injection (all builds, used by tests): the next `n` allocations
 * succeed, then one fails (or all fail when persistent). n < 0 disables. */
RF_API void rf__alloc_fail_after(long n, int persistent);
RF_API long rf__alloc_count(void);
/* Blocks the library has allocated and not freed (tests of bounded
 * memory count these: unlike RSS they do not depend on the allocator). */
RF_API long rf__alloc_live(void);

/* ---- status.c: error details and traces ---------------------------------
 * rf__error() records a formatted message for rf_last_error() and returns
 * the status, so callers write `return rf__error(RF_EINVAL, "...", ...)`. */
rf_status rf__error(rf_status st, const char *fmt, ...) RF_PRINTF(2, 3);
rf_status rf__error_mpi(int mpi_rc, const char *what);
void rf__error_clear(void);
/* "<what the status means>: <details>" for one-line messages, without
 * repeating the meaning when the details begin with it. Returns buf. */
const char *rf__describe(rf_status st, char *buf, size_t len);

#define RF_CHECK(expr)                                                       \
  do {                                                                       \
    rf_status rf_st_ = (expr);                                               \
    if (rf_st_ != RF_OK) return rf_st_;                                      \
  } while (0)

#define RF_CHECK_GOTO(expr, st, label)                                       \
  do {                                                                       \
    (st) = (expr);                                                           \
    if ((st) != RF_OK) goto label;                                           \
  } while (0)

#define RF_CHECK_MPI(call)                                                   \
  do {                                                                       \
    int rf_rc_ = (call);                                                     \
    if (rf_rc_ != MPI_SUCCESS) return rf__error_mpi(rf_rc_, #call);          \
  } while (0)

#define RF_ENSURE(cond, st, ...)                                             \
  do {                                                                       \
    if (!(cond)) return rf__error((st), __VA_ARGS__);                        \
  } while (0)

/* ---- log.c -------------------------------------------------------------- */
void rf__log_setup(int rank, rf_log_level level);
rf_log_level rf__log_level(void);
int rf__log_enabled(rf_log_level level);
void rf__logv(rf_log_level level, const char *key, const char *fmt,
              va_list ap);
void rf__log(rf_log_level level, const char *key, const char *fmt, ...)
    RF_PRINTF(3, 4);
rf_status rf__log_level_parse(const char *text, rf_log_level *out);

/* ---- clock.c: time and waiting without spinning ------------------------- */
void rf__clock_setup(void);    /* tighten sleep precision (timer slack) */
double rf__now(void);          /* wall clock, seconds since the epoch */
uint64_t rf__mono_ns(void);    /* monotonic nanoseconds */
void rf__sleep(double seconds);

/* A waiting phase: a short burst of probes, then sleeps that grow to
 * about a millisecond. Reset it whenever something happened. */
typedef struct {
  unsigned rounds;
  uint64_t idle_since;
} rf_backoff;
void rf__backoff_reset(rf_backoff *b);
/* Wait a little; never longer than until `deadline_ns` (0: none). */
void rf__backoff_wait(rf_backoff *b, uint64_t deadline_ns);

/* ---- signals.c ---------------------------------------------------------- */
enum { RF_SIGNAL_NONE = 0, RF_SIGNAL_DRAIN = 1, RF_SIGNAL_STOP = 2 };
rf_status rf__signals_install(void);
/* Back to the default actions (after the ranks have left together). */
void rf__signals_default(void);
/* The strongest request received so far (RF_SIGNAL_*). Any thread. */
int rf__signal_requested(void);
void rf__signals_reset(void);

/* ---- buf.c: a growable byte buffer -------------------------------------- */
typedef struct {
  uint8_t *data;
  size_t len, cap;
  int oom; /* sticky: an append failed */
} rf_buf;
rf_status rf__buf_reserve(rf_buf *b, size_t extra);
rf_status rf__buf_append(rf_buf *b, const void *data, size_t len);
void rf__buf_free(rf_buf *b);
/* A msgpack_packer whose writes append to b (failures set b->oom). */
void rf__buf_packer(rf_buf *b, msgpack_packer *pk);

/* ---- blob.c: small byte strings stored inline --------------------------- */
typedef struct {
  uint32_t len;
  union {
    uint8_t inl[12];
    uint8_t *ptr;
  } u;
} rf_blob;
#define RF_BLOB_INLINE 12
rf_status rf__blob_set(rf_blob *blob, const uint8_t *data, size_t len);
const uint8_t *rf__blob_data(const rf_blob *blob);
void rf__blob_free(rf_blob *blob);

/* ---- value.c ------------------------------------------------------------ */
struct rf_value {
  uint8_t type;
  uint32_t count; /* items of a list / entries of a map */
  uint32_t cap;
  union {
    int b;
    int64_t i;
    double d;
    struct {
      char *ptr;
      size_t len;
    } str; /* strings and bytes; data stored after the struct */
    struct {
      rf_value **items;
      char **keys; /* maps only */
    } c;
    rf_future *future;
    rf_frame *frame;
  } u;
};
/* Room for one more item (and key) in a list or map, doubling the arrays
 * but never past limit items. */
rf_status rf__value_reserve(rf_value *c, uint32_t limit);
/* Visit every future in value (depth first, in order). */
typedef rf_status (*rf_future_visit_fn)(rf_future *f, void *user);
rf_status rf__value_visit_futures(const rf_value *v, rf_future_visit_fn fn,
                                  void *user);

/* ---- codec.c: values and messages to bytes and back --------------------- */
/* Largest message a rank accepts, and the deepest nesting of values. */
#define RF_MAX_MESSAGE ((size_t)1 << 30)
/* Largest single encoded argument or result (room left for the framing),
 * and the size at which a batch of tasks or outcomes is sent as it is. */
#define RF_MAX_VALUE (RF_MAX_MESSAGE - 4096)
#define RF_BATCH_BYTES ((size_t)8 << 20)
#define RF_MAX_DEPTH 64

/* msgpack extension types: a future's key (hashed only, never decoded)
 * and a frame. */
#define RF__EXT_FUTURE_KEY 1
#define RF__EXT_FRAME 2

/* ---- frame.c: the frame extension ---------------------------------------- */
#define RF_FRAME_MAX_COLUMNS 4096 /* on the wire; frames are summaries */
rf_status rf__frame_pack(msgpack_packer *pk, const rf_frame *f);
/* Decode an extension body (untrusted) into a new frame. */
rf_status rf__frame_unpack(const uint8_t *p, size_t len, rf_frame **out);

/* How futures inside a value are written. */
typedef enum {
  RF_PACK_PLAIN,   /* a future is an error (RF_EINVAL) */
  RF_PACK_KEY,     /* a future is written as its task key (for hashing) */
  RF_PACK_RESOLVE  /* a future is written as its result (for dispatch) */
} rf_pack_mode;
/* Write v; *nfutures (may be NULL) counts futures met. */
rf_status rf__value_pack(msgpack_packer *pk, const rf_value *v,
                         rf_pack_mode mode, size_t *nfutures);
rf_status rf__value_encode(const rf_value *v, rf_buf *out);

/* A strict reader over untrusted bytes: every read checks the type and
 * the bytes left, and a container's count is checked against the bytes
 * left before anything is allocated. */
typedef struct {
  const uint8_t *p, *end;
} rf_reader;
void rf__reader_init(rf_reader *r, const void *data, size_t len);
rf_status rf__read_array(rf_reader *r, uint32_t *n);
rf_status rf__read_uint(rf_reader *r, uint64_t *out);
rf_status rf__read_int(rf_reader *r, int64_t *out);
rf_status rf__read_double(rf_reader *r, double *out);
rf_status rf__read_str(rf_reader *r, const char **s, size_t *len);
rf_status rf__read_bin(rf_reader *r, const char **s, size_t *len);
/* Read one value into a new tree (caller frees). */
rf_status rf__read_value(rf_reader *r, rf_value **out);
/* Skip one well-formed value, giving its bytes (for copying raw). */
rf_status rf__read_raw(rf_reader *r, const uint8_t **start, size_t *len);
/* Decode a whole buffer holding exactly one value. */
rf_status rf__value_decode(const void *data, size_t len, rf_value **out);

/* ---- stats.c: mergeable moments, bins, exact selection ----------------- */
typedef struct {
  int64_t count;
  double mean, m2, min, max;
} rf_moments;
/* Add n values (a chunk) to m; merge b into a (order matters bitwise:
 * merge in a fixed order for reproducible results). */
void rf__moments_add(rf_moments *m, const double *v, size_t n);
void rf__moments_merge(rf_moments *a, const rf_moments *b);
/* Standard deviation with ddof = 1 (NaN below two values). */
double rf__moments_std(const rf_moments *m);

/* Order-preserving bin of a value: v <= w implies bin(v) <= bin(w). The
 * bits are flipped so that the unsigned order of keys is the order of the
 * values (negatives reversed, positives above them); equal values always
 * share a bin. Inline: it runs once per value per pass. */
#define RF_STATS_BIN_BITS 20
static inline uint32_t rf__stats_bin(double v) {
  uint64_t u;
  v += 0.0; /* -0.0 + 0.0 is 0.0: one bin for both, without a branch */
  memcpy(&u, &v, sizeof u);
  u = (u >> 63) ? ~u : (u | 0x8000000000000000ull);
  return (uint32_t)(u >> (64 - RF_STATS_BIN_BITS));
}

/* A run of equal values, for second-pass selection. */
typedef struct {
  double value;
  int64_t count;
} rf_valrun;
/* Sort runs by value and merge equal ones; returns the new count. */
size_t rf__runs_sort(rf_valrun *runs, size_t n);
/* The value at 0-based position offset within sorted runs; 0 if past. */
int rf__runs_pick(const rf_valrun *runs, size_t n, int64_t offset, double *out);
/* numpy's linear interpolation between order statistics a and b. */
double rf__quantile_lerp(double a, double b, double t);

/* ---- registry.c --------------------------------------------------------- */
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
  uint32_t count, cap;
  rf_step **steps;
  uint32_t nsteps, capsteps;
  int closed; /* rf_run started: no more registrations */
} rf_registry;
void rf__registry_free(rf_registry *reg);
/* Hash of every name and option, in order: equal on all ranks iff the
 * registries match. */
uint64_t rf__registry_fingerprint(const rf_registry *reg);
rf_task *rf__registry_at(const rf_registry *reg, uint64_t index);
/* Room for one more entry in an array of pointers (items points
 * at the array, e.g. &reg->tasks), doubling it. RF_ENOMEM naming what. */
rf_status rf__registry_reserve(void *items, uint32_t count, uint32_t *cap,
                               const char *what);

/* ---- options.c ---------------------------------------------------------- */
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
} rf_lib_options;
/* The run's identity for the journal: a map from each flag named in
 * cli->identity to its value as text. NULL on a bad name (a job's bug). */
rf_value *rf__options_identity(const rf_cli *cli);
#define RF_IO_SLOTS_DEFAULT 8
/* Parse argv; returns -1 to go on, else an exit code (help, usage). */
int rf__options_parse(int argc, char **argv, const rf_cli *cli,
                      rf_lib_options *lib, int print);

/* ---- future.c: futures, states, dependency edges ------------------------ */
/* How an attempt ended, as reported by whoever ran it. */
typedef enum {
  RF_OUTCOME_OK,
  RF_OUTCOME_TRANSIENT,
  RF_OUTCOME_PERMANENT,
  RF_OUTCOME_CRASHED,
  RF_OUTCOME_CANCELLED, /* dropped before running, or ran while cancelled */
  RF_OUTCOME_NOTRUN,    /* handed back unstarted (drain) */
  RF_OUTCOME_COUNT_
} rf_outcome;

enum {
  RF_FUT_HELD = 1u << 0,      /* the flow holds a reference */
  RF_FUT_QUEUED = 1u << 1,    /* in the ready queue or the retry heap */
  RF_FUT_CANCEL = 1u << 2,    /* cancel requested */
  RF_FUT_STARTED = 1u << 3,   /* ask the worker to report the start */
  RF_FUT_TREE = 1u << 4,      /* arg is a tree holding futures */
  RF_FUT_JOURNAL = 1u << 5    /* resolved from the journal */
};

typedef struct rf_coord rf_coord;
typedef struct rf_iopool rf_iopool;
typedef struct rf_journal rf_journal;
typedef struct rf_report rf_report;
typedef struct rf_sendq rf_sendq;

struct rf_future {
  rf_coord *co;
  uint32_t slot, gen;     /* wire id = gen << 32 | slot */
  uint32_t refs;          /* flow hold + value refs + dependents' + live */
  uint32_t task;          /* registry index */
  uint8_t state;          /* rf_state */
  uint8_t flags;          /* RF_FUT_* */
  uint16_t attempts;
  int32_t rank;           /* rank of the last attempt, -1 if none */
  uint32_t waiting;       /* upstream futures not ended yet */
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
  struct rf_nest *nest;   /* subtask or parent of subtasks (nested.c) */
};
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
uint64_t rf__future_key(rf_future *f);
rf_status rf__future_result_bytes(rf_future *f, const uint8_t **data,
                                  size_t *len);
/* Look up a future by wire id; NULL if no such live future. */
rf_future *rf__future_lookup(rf_coord *co, uint64_t id);
/* The task ended in final state st (error: message or NULL; result: the
 * encoded result of a completed task, moved in, else NULL). Wakes
 * dependents, counts the state, drops the live reference: f may be freed
 * on return. */
void rf__future_end(rf_future *f, rf_state st, const char *error,
                    rf_blob *result);
int rf__state_final(rf_state s);
void rf__futures_free_all(rf_coord *co);

/* ---- progress.c: what the flow is doing, on rank 0's stderr ---------- */
typedef struct {
  int mode;           /* rf_progress_mode, auto resolved */
  double interval, t0;
  uint64_t next_ns;   /* when the next line or redraw is due */
  int drawn;          /* a tty line is on screen */
} rf_progress;
void rf__progress_start(rf_progress *p, const rf_lib_options *o);
/* Cheap when nothing is due: one clock read. */
void rf__progress_tick(rf_progress *p, const rf_coord *co);
/* The final line (lines and tty modes). */
void rf__progress_end(rf_progress *p, const rf_coord *co);

/* ---- timeline.c: the static HTML timeline (--timeline) ------------------ */
/* Write the page to path atomically (path.tmp.<pid>, fsync, rename) from
 * the report's spools (each one complete JSON array, read from its start
 * and streamed into the page) and the run's facts. RF_OK, RF_ENOMEM,
 * RF_EIO (nothing left behind), RF_EINVAL (a spool is not an array of
 * objects). */
rf_status rf__timeline_write(const char *path, FILE *attempts, FILE *tasks,
                             int ranks, double start, double end,
                             const uint64_t totals[RF_STATE_COUNT],
                             uint64_t submitted, int exit_code);

/* ---- report.c: the JSON run report and the timeline's spools ------------ */
/* Spool attempts and tasks for a JSON report at report and/or an HTML
 * timeline at timeline (either may be NULL, not both). */
rf_status rf__report_open(const char *report, const char *timeline,
                          rf_report **out);
void rf__report_free(rf_report *r);
/* An attempt ended (r may be NULL: no report). retry: another follows. */
void rf__report_attempt(rf_report *r, const char *key, int attempt, int rank,
                        const char *state, int retry, double submitted,
                        double started, double ended, const char *error);
/* A task ended in its final state. */
void rf__report_task(rf_report *r, const char *key, const char *name,
                     const char *state, int attempts, int from_journal,
                     const char *error);
/* Write the report and/or the timeline (each atomically) from the spools
 * and the totals. */
rf_status rf__report_finish(rf_report *r, const rf_runtime *rt,
                            const uint64_t totals[RF_STATE_COUNT],
                            uint64_t submitted, uint64_t not_ended,
                            int exit_code);

/* ---- coordinator.c: rank 0 ---------------------------------------------- */
#define RF_NEST_MAX 32 /* tasks waiting inside one another's waits, per rank */
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
} rf_worker_slot;

/* Ready tasks wait in one of three lanes: CPU tasks go out in batches
 * sized by duration, I/O tasks as many as a rank has free I/O slots,
 * parallel tasks (width > 1) when their members are gathered. */
enum { RF_LANE_CPU, RF_LANE_IO, RF_LANE_PAR, RF_LANES };

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
typedef struct {
  rf_future *head, *tail;
  size_t n;
} rf_lane;

struct rf_flow {
  rf_runtime *rt;
  rf_ctx *ctx; /* a task's own flow (rf_ctx_flow): submits subtasks */
};

struct rf_coord {
  rf_runtime *rt;
  rf_registry *reg;
  int nworkers;
  rf_worker_slot *workers;
  rf_sendq *sendq;
  rf_buf rbuf, scratch;
  /* every live future by slot; wire ids carry slot and generation. A free
   * slot holds (next free slot << 1 | 1), so free slots need no list. */
  rf_future **slots;
  uint32_t nslots, capslots, free_head, gen;
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
  rf_journal *journal; /* --journal, or NULL */
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

rf_status rf__coord_create(rf_runtime *rt, rf_coord **out);
/* Where the workers live (by world rank), learned at start-up. */
void rf__coord_set_nodes(rf_coord *co, const int *nodes);
void rf__coord_free(rf_coord *co);
/* Make progress: dispatch, receive, run inline at 1 rank. Returns RF_OK
 * when done(user) is true (NULL: after one round without waiting),
 * RF_ETIMEDOUT at deadline_ns (0: none), RF_ESTOPPED on a signal, or the
 * error that ends the job. */
typedef int (*rf_done_fn)(void *user);
rf_status rf__coord_progress(rf_coord *co, rf_done_fn done, void *user,
                             uint64_t deadline_ns);
/* Tell every worker to run step index with the encoded arg. */
rf_status rf__coord_send_step(rf_coord *co, uint32_t index,
                              const uint8_t *arg, size_t len);
/* Send a cancel for a dispatched task to its worker. */
rf_status rf__coord_cancel_remote(rf_coord *co, rf_future *f);
/* A control message [] or [arg] to rank dest. */
rf_status rf__coord_send_small(rf_coord *co, int dest, int tag, uint64_t arg,
                               int has_arg);

/* ---- parallel.c: rank 0's side of parallel tasks ------------------------ */
/* Gather members for the parallel tasks at the head of their lane and
 * launch those whose members are all idle. */
rf_status rf__par_dispatch(rf_coord *co);
/* A member's outcome [id, member, outcome, payload, t0, t1]. */
rf_status rf__par_on_done(rf_coord *co, int src, rf_reader *r);
/* Cancel a running parallel task on every member. */
rf_status rf__par_cancel(rf_coord *co, rf_future *f);
/* Width of a task: its members (1 for all but parallel tasks). */
int rf__task_width(const rf_task *t);
void rf__par_free(rf_coord *co);
/* After the flow returned: wait for unfinished tasks (unless stopping),
 * then tell every worker to leave with the exit code returned. */
int rf__coord_finish_flow(rf_coord *co, rf_status flow_status);

/* ---- scheduler.c: ready queue, retries, batch sizes --------------------- */
/* The task may run now: append it to the ready queue (which takes over
 * its live reference until it is popped). */
void rf__sched_ready(rf_future *f);
/* The next ready task of a lane that has not ended, taken off the queue
 * (pop) or left at its head (peek); NULL if none. The _q forms take a
 * queue (a lane, or a parent's ready subtasks). */
rf_future *rf__sched_pop(rf_coord *co, int lane);
rf_future *rf__sched_peek(rf_coord *co, int lane);
rf_future *rf__sched_peek_q(rf_coord *co, rf_lane *q);
/* Empty queue q, dropping the references it held. */
void rf__sched_drop_q(rf_lane *q);
/* Append f to queue q (the queue holds f's live reference). */
void rf__sched_enqueue(rf_lane *q, rf_future *f);
rf_status rf__sched_take_q(rf_coord *co, rf_lane *q, int rank, rf_state state,
                           rf_future **out);
/* The next task of a lane, its argument resolved (rf__sched_prepare),
 * marked as an attempt on rank in state (scheduled, or running with its
 * start time); *out = NULL when the lane is empty. */
rf_status rf__sched_take(rf_coord *co, int lane, int rank, rf_state state,
                         rf_future **out);
/* The lane of a task (RF_LANE_*). */
int rf__sched_lane(const rf_coord *co, const rf_future *f);
/* Move due retries to the ready queue; 1 if any moved. */
int rf__sched_release_retries(rf_coord *co);
/* The earlier of deadline (0: none) and the next retry's due time. */
uint64_t rf__sched_next_wake(rf_coord *co, uint64_t deadline);
/* Replace the futures in f's argument by their results, once, before the
 * first dispatch. RF_ETASK: the resolved argument is too large to send;
 * the task has been failed (and may be freed): skip it. */
rf_status rf__sched_prepare(rf_coord *co, rf_future *f);
/* How many tasks the next batch for worker w may hold (0: none now), from
 * the head task's measured duration avg_ns (0: unknown). */
uint32_t rf__sched_batch_size(rf_coord *co, uint32_t inflight,
                              uint32_t last_batch, size_t nready,
                              double avg_ns);
/* An attempt ended (from a worker or inline): complete, retry after the
 * policy's delay, or fail the task. payload is the encoded result or
 * message. */
rf_status rf__sched_outcome(rf_coord *co, rf_future *f, rf_outcome outcome,
                           const uint8_t *payload, size_t len, double t0,
                           double t1);
/* Decode a payload holding one string into out (truncated to outlen). */
rf_status rf__read_message(const uint8_t *p, size_t len, char *out,
                           size_t outlen);

/* ---- local.c: one rank, tasks run inline -------------------------------- */
/* Run the next ready CPU task in this process; *ran = 0 if none was
 * ready. */
rf_status rf__local_run_one(rf_coord *co, int *ran);
/* Take back ended I/O attempts and start ready I/O tasks on free slots;
 * *moved = 1 if anything ended or started. */
rf_status rf__local_io(rf_coord *co, int *moved);

/* ---- context.c: running one attempt (workers and inline) ---------------- */
typedef struct {
  rf_outcome outcome;
  rf_buf payload;   /* encoded result, or the error message as a string */
  double t0, t1;
} rf_attempt_result;
/* The ranks an attempt runs on: its communicator, this member's rank in
 * it, and its size (NULL: MPI_COMM_SELF alone, as for every task of
 * width 1; no MPI call is made to find out, so I/O slots may use it). */
typedef struct {
  MPI_Comm comm;
  int rank, size;
} rf_team;
/* Run task on arg (encoded bytes). cancel_probe (may be NULL) is called
 * now and then by rf_ctx_cancelled to learn of a cancel or stop. */
typedef int (*rf_cancel_probe_fn)(void *user, uint64_t id);
rf_status rf__attempt_run(rf_runtime *rt, const rf_task *task, uint64_t id,
                          uint64_t key, int attempt, const uint8_t *arg,
                          size_t arglen, const rf_team *team,
                          rf_cancel_probe_fn probe, void *probe_user,
                          rf_attempt_result *res);
/* An outcome that carries only a message (no attempt ran): RF_ENOMEM if
 * it cannot be encoded. */
rf_status rf__attempt_note(rf_attempt_result *res, rf_outcome outcome,
                           const char *msg);
/* The running attempt's future id; whether it may submit subtasks (not
 * an I/O task, not a parallel one). */
uint64_t rf__ctx_id(const rf_ctx *ctx);
int rf__ctx_may_nest(const rf_ctx *ctx);
/* "name-0123456789abcdef" into buf (at least 80 bytes). */
void rf__key_format(const char *name, uint64_t key, char *buf, size_t len);

/* ---- nested.c: tasks that submit tasks -------------------------------- */
/* Rank 0's record of a subtask and of a parent of subtasks. */
typedef struct rf_nest {
  rf_future *parent;  /* the task that submitted it (weak), or NULL */
  uint64_t token;     /* the submitter's handle of it */
  int client;         /* rank holding that handle (0: rank 0 itself) */
  rf_future **kids;   /* its subtasks not ended (each holds a reference) */
  uint32_t nkids, capkids;
  rf_lane ready;      /* its ready CPU subtasks */
  int listed;         /* in the coordinator's list of parents with ready kids */
  rf_future **handles; /* one rank: the handles it was given (each a ref) */
  uint32_t nhandles, caphandles;
} rf_nest;
/* Rank 0: submit a subtask of parent (future.c): from a value (one rank),
 * or from encoded bytes a worker sent (client: its rank, token: its name
 * for the handle). */
rf_status rf__submit_from(rf_coord *co, const rf_task *task, rf_value *arg,
                          rf_future *parent, rf_future **out);
rf_status rf__submit_encoded(rf_coord *co, const rf_task *task,
                             const uint8_t *bytes, size_t len,
                             rf_future *parent, int client, uint64_t token,
                             rf_future **out);
/* Rank 0: room for f as parent's subtask (before anything can fail),
 * then f's parent set (client: rank holding the handle, token its name
 * there) once the submission can no longer fail, before f is queued. */
rf_status rf__nest_reserve(rf_future *parent, rf_future *f);
void rf__nest_adopt(rf_future *parent, rf_future *f, int client,
                    uint64_t token);
/* Queue a ready subtask under its parent (1), or 0 when f is not one. */
int rf__nest_ready(rf_coord *co, rf_future *f);
/* The queue a worker takes CPU work from: its innermost blocked parent's
 * subtasks, else the flow's ready tasks, else any parent's subtasks. */
rf_lane *rf__nest_queue_for(rf_coord *co, const rf_worker_slot *w);
/* An attempt of f ended: its subtasks of that attempt are cancelled. */
void rf__nest_attempt_ended(rf_coord *co, rf_future *f);
/* f has ended: tell the rank holding its handle, leave the parent. */
void rf__nest_ended(rf_coord *co, rf_future *f);
void rf__nest_free(rf_future *f);
/* Messages from workers: SUBMIT, SUBCANCEL, BLOCK, UNBLOCK. */
rf_status rf__nest_on_message(rf_coord *co, int src, int tag, rf_reader *r);
/* Worker and inline side: submit from a task's flow; wait in a task. */
rf_status rf__nest_submit(rf_flow *flow, const rf_task *task, rf_value *arg,
                          rf_future **out);
rf_status rf__nest_wait(rf_future *f, uint64_t deadline);
/* One rank: f ran inline and returned; drop the handles it still holds. */
void rf__nest_local_done(rf_future *f);
/* Worker: a subtask's end [token, state, attempts, key, payload]. */
rf_status rf__nest_on_done(rf_runtime *rt, rf_reader *r);
/* Worker: drop the handles a finished task left (task id). */
void rf__nest_task_done(uint64_t task_id);
void rf__nest_client_release(rf_future *f);
rf_status rf__nest_client_cancel(rf_future *f);
const rf_registry *rf__nest_registry(void);
/* Worker (worker.c): the loop a task waiting on subtasks re-enters, and
 * a message to rank 0 from inside a task. task 0 in rf__nest_task_done
 * drops every handle. */
rf_status rf__worker_wait(rf_runtime *rt, uint64_t parent, int (*done)(void *),
                          void *user, uint64_t deadline);
rf_status rf__worker_send(int tag, rf_buf *msg);

/* ---- journal.c: finished tasks on disk, for resuming ----------------- */
/* Open (or create) the journal at path for flow with identity (a map);
 * *records says how many task records it holds. RF_EUSAGE (exit 2): not
 * a journal, another flow or identity, damaged; RF_EIO, RF_ENOMEM. */
rf_status rf__journal_open(const char *path, const char *flow,
                           const rf_value *identity, uint64_t *records,
                           rf_journal **out);
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

/* ---- group.c: parallel tasks' communicators, and the node layout ------ */
/* The communicator of the n members ranks (sorted world ranks) for task
 * id: every member calls it; reused when all members still hold it.
 * *cancelled: in, whether this member saw a cancel; out, whether any did
 * (then no communicator: nobody runs the task). abort(user) is asked
 * while waiting for the others (rank 0 said stop: give up). */
rf_status rf__group_comm(rf_runtime *rt, const int *ranks, int n, uint64_t id,
                         int (*abort)(void *), void *user, int *cancelled,
                         MPI_Comm *out);
/* Free the cached communicators (before MPI_Finalize). */
void rf__group_cache_free(void);
/* Communicators this rank holds for task groups (tests count them). */
RF_API long rf__group_comms_live(void);
/* This rank's node: the lowest world rank sharing its memory, or a
 * pretend node from RANKFLOW_FAKE_NODES. Collective, at start-up. */
rf_status rf__group_node(rf_runtime *rt, int *node);

/* ---- iopool.c: I/O slots, threads for tasks registered with io --------- */
typedef struct rf_iojob rf_iojob;
/* An ended attempt, handed to the collector on the main thread. */
typedef rf_status (*rf_iopool_done_fn)(void *user, uint64_t id,
                                       rf_outcome outcome,
                                       const uint8_t *payload, size_t len,
                                       double t0, double t1);
typedef rf_status (*rf_iopool_id_fn)(void *user, uint64_t id);
/* How long cancelled I/O attempts get to end when a rank stops. */
#define RF_IO_STOP_GRACE_S 0.3
/* A pool of nslots slots; threads start as work arrives. */
rf_status rf__iopool_create(rf_runtime *rt, int nslots, rf_iopool **out);
/* Slots not holding an attempt (queued, running, or ended uncollected). */
int rf__iopool_free_slots(const rf_iopool *p);
/* Attempts submitted and not yet collected. */
size_t rf__iopool_active(const rf_iopool *p);
/* Queue an attempt (arg is copied); it runs when a slot is free. */
rf_status rf__iopool_submit(rf_iopool *p, const rf_task *task, uint64_t id,
                            uint64_t key, int attempt, const uint8_t *arg,
                            size_t arglen);
/* Set the cancelled flag of the attempt of task id (p may be NULL). */
void rf__iopool_cancel(rf_iopool *p, uint64_t id);
void rf__iopool_cancel_all(rf_iopool *p);
/* Take back every attempt not started yet, calling fn with each id. */
rf_status rf__iopool_take_unstarted(rf_iopool *p, rf_iopool_id_fn fn,
                                    void *user);
/* Hand every ended attempt to fn (main thread); *count says how many. An
 * error of the run itself (a malformed argument) ends the job. */
rf_status rf__iopool_collect(rf_iopool *p, rf_iopool_done_fn fn, void *user,
                             int *count);
/* Cancel everything, wait up to grace seconds for the threads to leave,
 * and free the pool. Returns how many threads were still running (their
 * pool is then left to the process exit), 0 normally. */
int rf__iopool_destroy(rf_iopool *p, double grace);
/* 1 when some pool was left with threads still running a task. */
int rf__iopool_stuck(void);

/* ---- worker.c ----------------------------------------------------------- */
/* The worker loop of ranks > 0: returns the exit code rank 0 sent. */
int rf__worker_run(rf_runtime *rt);

/* ---- transport.c: the only file with MPI point-to-point ----------------- */
enum {
  RF_TAG_WORK = 1,     /* 0 -> w: batch of tasks */
  RF_TAG_RESULTS = 2,  /* w -> 0: batch of outcomes */
  RF_TAG_STARTED = 3,  /* w -> 0: a task started */
  RF_TAG_CANCEL = 4,   /* 0 -> w: cancel a task */
  RF_TAG_STOP = 5,     /* 0 -> w: leave with an exit code */
  RF_TAG_FATAL = 6,    /* w -> 0: this rank hit an error */
  RF_TAG_SIGNAL = 7,   /* w -> 0: this rank got a signal */
  RF_TAG_DRAIN = 8,    /* 0 -> w: hand back unstarted tasks */
  RF_TAG_STEP = 9,     /* 0 -> w: run a collective step */
  RF_TAG_PAR = 10,     /* 0 -> w: run a parallel task as one member */
  RF_TAG_PAR_DONE = 11, /* w -> 0: a member's outcome */
  RF_TAG_SUBMIT = 12,  /* w -> 0: a running task submits a subtask */
  RF_TAG_SUBDONE = 13, /* 0 -> w: a subtask ended */
  RF_TAG_SUBCANCEL = 14, /* w -> 0: cancel a subtask */
  RF_TAG_BLOCK = 15,   /* w -> 0: a task waits on subtasks (capacity back) */
  RF_TAG_UNBLOCK = 16  /* w -> 0: it goes on */
};
/* Non-blocking sends whose buffers the queue keeps until done. */
rf_status rf__sendq_create(MPI_Comm comm, rf_sendq **out);
void rf__sendq_free(rf_sendq *q);
/* Send b's bytes (the buffer is taken; b is left empty). */
rf_status rf__send(rf_sendq *q, int dest, int tag, rf_buf *b);
/* Complete finished sends; RF_OK or an MPI error. */
rf_status rf__sendq_progress(rf_sendq *q);
size_t rf__sendq_pending(const rf_sendq *q);
/* Receive one message if there is one (any source, tag): *got = 0 if
 * none. The message lands in b (resized); too large -> RF_ECODEC. */
rf_status rf__recv_any(MPI_Comm comm, int source, int tag, rf_buf *b,
                       int *got, int *src, int *tagout);
/* Wait for a non-blocking request without spinning (MPI_Wait spins in
 * Open MPI, and ranks may outnumber cores). */
rf_status rf__wait_request(MPI_Request *req);
/* Leave together: non-blocking barrier, waiting without spinning, taking
 * and dropping stray messages meanwhile. */
rf_status rf__barrier(MPI_Comm comm);

/* ---- step.c: collective steps ------------------------------------------- */
/* Run step index on this rank with arg (encoded bytes); every rank calls
 * it. *agreed receives what all ranks agreed: RF_OK, or the failing
 * rank's status (it logged why). The return value is this rank's own
 * trouble taking part (MPI, a malformed message): that ends the job. */
rf_status rf__step_run(rf_runtime *rt, uint32_t index, const uint8_t *arg,
                       size_t len, rf_status *agreed);

/* ---- tsplan.c --------------------------------------------------------------- */
/* The plan's parameter names, in rf_timeseries_plan's order: the keys of
 * rf_timeseries_param, the data attributes and the task arguments. */
#define RF_TS_PARAMS 4
extern const char *const rf__ts_params[RF_TS_PARAMS];

/* ---- h5part.c: the timeseries data file ---------------------------------- */
/* Create the data file on every rank (inside a step) and keep it open. */
rf_status rf__tsdata_create(rf_step_ctx *ctx, const rf_timeseries *ts,
                            const char *path, const char *stamp, int reuse);
/* The resume stamp of a data file a stopped run left (rank 0, serial). */
rf_status rf__tsdata_stamp(const char *path, char *stamp, size_t len);
/* Write rows [first, first + n) into the open file (independent I/O). */
rf_status rf__tsdata_write(int64_t first, size_t n, const int64_t *timestamp,
                           const int64_t *id, const char (*name)[8],
                           const double *x, const double *y);
/* Close it on every rank (inside a step). */
rf_status rf__tsdata_close(void);
/* Read rows [first, first + n) of id, x, y from a data file. */
rf_status rf__tsdata_read(const char *path, int64_t first, size_t n,
                          int64_t *id, double *x, double *y);

/* ---- runtime.c ---------------------------------------------------------- */
struct rf_runtime {
  int rank, size;
  MPI_Comm comm;
  int thread_level;
  int mpi_ok;       /* MPI is initialised and usable */
  const char *prog;
  rf_registry reg;
  rf_status startup_error;
  char startup_msg[256];
  rf_flow flow;
  rf_coord *co;     /* rank 0 */
  MPI_Comm step_comm; /* collective steps' own communicator */
  MPI_Comm group_comm; /* parallel tasks' members meet and split here */
  int node;            /* this rank's node (see group.c) */
  int *nodes;          /* rank 0: each rank's node */
  rf_lib_options opts; /* the library's flags as parsed */
  rf_value *identity;  /* for the journal (rank 0, with --journal) */
  int journal_reset;   /* rf_journal_reset() was called */
  int argc;            /* the command line, for the report */
  char **argv;
  int ran;
};

#endif /* RF_INTERNAL_H */
