/* SPDX-License-Identifier: BSD-3-Clause */
/* rankflow.h -- the whole public API of rankflow.
 *
 * rankflow runs batch *flows* of *tasks* across an MPI job. Every rank runs
 * the same program: it initialises the library, registers the same tasks in
 * the same order, and calls rf_run(). Rank 0 then runs the flow function,
 * which submits tasks and gets futures back; every other rank runs the
 * worker loop, which executes tasks it is sent and returns their results.
 * With one rank the same program runs its tasks inline on rank 0, deferred
 * until the flow blocks on a future, in submission order.
 *
 * Contracts that hold for the whole API (read once, assumed everywhere):
 *   - Functions that can fail return rf_status (RF_OK == 0). A call that
 *     fails leaves no half-made object behind: out-parameters are left NULL
 *     and ownership of "taken" arguments has still passed to the library.
 *   - "Borrowed" pointers stay owned by the callee; "taken" pointers become
 *     the library's even when the call fails; "caller frees" results are
 *     released with the named _free / _release function.
 *   - Ranks: "rank 0" functions may only be called from the flow (rank 0);
 *     "task" functions only from inside a running task; "any" from anywhere.
 *   - Threads: every function must be called from the thread that called
 *     rf_init() (the MPI thread) unless its doc says "any thread"; "task"
 *     functions from the thread running the task (an I/O task's slot).
 *   - The library never exits the process; it returns a status, and a
 *     job's main() decides, through rf_finalize(). It calls MPI_Abort only
 *     when MPI itself fails while the ranks set up or leave together
 *     (rf_init, rf_finalize), as the ranks can then no longer agree.
 */
#ifndef RANKFLOW_H
#define RANKFLOW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The library's lowest layers (src/base, src/data) are built with
 * RF_WITHOUT_MPI_H defined: they never see MPI, and the two declarations
 * below that name an MPI type are left out for them. Programs never
 * define it. */
#ifndef RF_WITHOUT_MPI_H
#include <mpi.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; rf_version() gives the library's. The
 * build reads the number from here (CMakeLists.txt): change it only here. */
#define RF_VERSION_MAJOR 0
#define RF_VERSION_MINOR 2
#define RF_VERSION_PATCH 0
#define RF_VERSION_STRING "0.2.0"

#if defined(__GNUC__)
#define RF_API __attribute__((visibility("default")))
#define RF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define RF_API
#define RF_PRINTF(fmt, args)
#endif

/* ------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------
 * One list generates the enum, rf_strerror() and rf_status_name(), so they
 * cannot drift. Codes are append-only: a retired code keeps its number. */
#define RF_STATUS_MAP(X)                                                     \
  X(OK, "success")                                                           \
  X(ENOMEM, "out of memory")                                                 \
  X(EINVAL, "invalid argument")                                              \
  X(EUSAGE, "bad input")                                                     \
  X(EIO, "I/O error")                                                        \
  X(EMPI, "MPI error")                                                       \
  X(ECODEC, "malformed message")                                             \
  X(ENOTASK, "task is not registered")                                       \
  X(EREGISTRY, "task registries differ between ranks")                       \
  X(ETASK, "task failed")                                                    \
  X(EUPSTREAM, "an upstream task failed")                                    \
  X(ECANCELLED, "task was cancelled")                                        \
  X(ETIMEDOUT, "timed out")                                                  \
  X(ESTOPPED, "stopped by a signal")                                         \
  X(EPEER, "another rank failed")                                            \
  X(ESTATE, "call not allowed in this state")                                \
  X(ENET, "network error")                                                   \
  X(EHTTP, "HTTP error")                                                     \
  X(EHDF5, "HDF5 error")                                                     \
  X(ESYS, "operating system error")

typedef enum {
#define RF_STATUS_ENUM_(name, msg) RF_##name,
  RF_STATUS_MAP(RF_STATUS_ENUM_)
#undef RF_STATUS_ENUM_
  RF_STATUS_COUNT_
} rf_status;

/* Human-readable message for a status ("out of memory"); never NULL, also
 * for codes outside the list ("unknown status").
 * Ranks: any. Threads: any thread. */
RF_API const char *rf_strerror(rf_status status);

/* The code's name without prefix ("ENOMEM"); never NULL.
 * Ranks: any. Threads: any thread. */
RF_API const char *rf_status_name(rf_status status);

/* Details of the last error the library reported on the calling thread
 * ("task 'sqaure' is not registered"); "" when there is none. Valid until
 * the next library call on that thread.
 * Ranks: any. Threads: any thread (each has its own). */
RF_API const char *rf_last_error(void);

/* Record the details rf_last_error() gives (printf-style, kept up to
 * 1 KiB) and return status, so that a flow or a job's own function can
 * end with `return rf_error_set(RF_EUSAGE, "--input %s: ...", path);`:
 * the job's one-line error then names the problem.
 * Ranks: any. Threads: any thread (each has its own). */
RF_API rf_status rf_error_set(rf_status status, const char *fmt, ...)
    RF_PRINTF(2, 3);

/* Passing a failure on, for functions that return rf_status (tasks, flows,
 * steps, a job's own helpers):
 *   RF_CHECK(expr)            return expr's status unless it is RF_OK;
 *   RF_CHECK_GOTO(expr, st, label)  store it in st and goto label (to
 *                             release what the function holds) unless OK;
 *   RF_ENSURE(cond, status, fmt, ...)  unless cond holds, return status
 *                             with the details for rf_last_error(). */
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

#define RF_ENSURE(cond, status, ...)                                         \
  do {                                                                       \
    if (!(cond)) return rf_error_set((status), __VA_ARGS__);                 \
  } while (0)

/* ------------------------------------------------------------------------
 * Memory
 * ------------------------------------------------------------------------
 * The library's allocator, as malloc, calloc, realloc and free (size 0 is
 * 1 byte; NULL when out of memory). Everything rankflow allocates goes
 * through it, and so may a job's own code: the library's tests fail the
 * n-th allocation on purpose, and code that allocates here is checked the
 * same way. Memory from these is freed with rf_free only.
 * Ranks: any. Threads: any thread. */
RF_API void *rf_malloc(size_t size);
RF_API void *rf_calloc(size_t n, size_t size);
RF_API void *rf_realloc(void *ptr, size_t size);
RF_API void rf_free(void *ptr);

/* The library's version, "0.2.0" (RF_VERSION_STRING when it was built):
 * a program can compare it with the header it was compiled against.
 * Ranks: any. Threads: any thread. */
RF_API const char *rf_version(void);

/* Exit codes shared by every job and returned by rf_run() on every rank. */
enum {
  RF_EXIT_OK = 0,        /* everything completed */
  RF_EXIT_TASKS = 1,     /* the flow ran; some tasks failed */
  RF_EXIT_USAGE = 2,     /* usage or bad input */
  RF_EXIT_INTERNAL = 3,  /* MPI, I/O, out of memory, protocol error */
  RF_EXIT_STOPPED = 75   /* stopped by a signal; rerun to resume */
};

/* ------------------------------------------------------------------------
 * Opaque types
 * ------------------------------------------------------------------------ */
typedef struct rf_runtime rf_runtime;       /* one per process */
typedef struct rf_flow rf_flow;             /* handle the flow submits on */
typedef struct rf_task rf_task;             /* a registered task */
typedef struct rf_ctx rf_ctx;               /* a running attempt's context */
typedef struct rf_future rf_future;         /* a submitted task */
typedef struct rf_value rf_value;           /* a typed value */
typedef struct rf_as_completed rf_as_completed;
typedef struct rf_frame rf_frame;           /* a small columnar table */
typedef struct rf_step rf_step;             /* a registered collective step */
typedef struct rf_step_ctx rf_step_ctx;     /* a running step's context */

/* ------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------
 * One table describes a job's own flags; rf_init() parses them together
 * with the library's flags (--log-level, --help, --version), prints one
 * --help from both, and rejects unknown flags and bad values. */
typedef enum {
  RF_OPT_FLAG,    /* no value; dest is int, set to 1 */
  RF_OPT_STRING,  /* dest is const char *, pointing into argv */
  RF_OPT_INT,     /* dest is int64_t; decimal, range-checked */
  RF_OPT_DOUBLE,  /* dest is double; finite */
  RF_OPT_CUSTOM   /* parse() converts the text into dest */
} rf_opt_type;

/* Custom parser: convert text into dest. On failure write a short reason
 * ("unknown unit 'q'") into err and return RF_EUSAGE. */
typedef rf_status (*rf_opt_parse_fn)(const char *text, void *dest, char *err,
                                     size_t errlen);

typedef struct {
  const char *name;      /* long flag without dashes: "seed" */
  rf_opt_type type;
  void *dest;            /* where the parsed value goes (default preset;
                            an int preset to INT64_MIN shows no default,
                            so a job can tell "not given") */
  const char *metavar;   /* "N", "FILE"; NULL for flags */
  const char *help;      /* one line */
  rf_opt_parse_fn parse; /* RF_OPT_CUSTOM only */
  double min, max;       /* RF_OPT_INT / RF_OPT_DOUBLE bounds if min < max */
} rf_option;

/* Cross-flag check run after parsing (e.g. end after start). Write a reason
 * into err and return RF_EUSAGE to reject. */
typedef rf_status (*rf_cli_check_fn)(void *user, char *err, size_t errlen);

typedef struct {
  const char *name;          /* the flow's name, kept in its journal (a
                                journal of another flow is refused); NULL:
                                the program's file name. It must stay
                                valid until rf_finalize. Messages and
                                --help name the program as invoked */
  const char *summary;       /* one line under "Usage:" in --help */
  const rf_option *options;  /* job flags, terminated by { NULL } ; may be NULL */
  rf_cli_check_fn check;     /* may be NULL */
  void *user;                /* passed to check */
  /* Names of the job flags (without "--") that change what its tasks
   * compute or write, NULL-terminated; may be NULL. With --journal, their
   * values (after check) are the run's identity: a journal written with
   * other values is refused, so a resume never mixes two runs' results.
   * Leave out flags that do not change results (outputs of the frame,
   * progress, rank counts). */
  const char *const *identity;
} rf_cli;

/* ------------------------------------------------------------------------
 * Runtime: init, run, finalize
 * ------------------------------------------------------------------------ */

/* Parse the command line, install signal handlers and initialise MPI.
 *
 * On success *out is a runtime and RF_OK is returned. When the process
 * should leave at once, *out is NULL and the return value is the exit code
 * to return from main(): 0 after --help or --version (printed by rank 0
 * only), 2 after a usage error (one line naming the problem and "see
 * --help", rank 0 only), 3 if MPI could not be initialised (or srun
 * started the program without PMIx: the line names srun --mpi=pmix).
 * These early exits never touch MPI, so every rank takes them together;
 * a failure after MPI_Init (setting up rankflow's communicators) aborts
 * the job with exit 3.
 *
 * Signal handlers (SIGTERM, SIGINT: stop now; SIGUSR1: drain) are installed
 * before MPI_Init. MPI is initialised with MPI_THREAD_FUNNELED requested;
 * the level obtained is checked.
 * Ranks: all, collective. Threads: the main thread. */
RF_API int rf_init(rf_runtime **out, int argc, char **argv, const rf_cli *cli);

/* Start the journal given with --journal (if any) afresh: its records are
 * dropped when rf_run() opens it, so every task runs again (a job's
 * --force). Call before rf_run(). Ranks: all (only rank 0 acts). */
RF_API void rf_journal_reset(rf_runtime *rt);

/* The journal file given with --journal (borrowed), or NULL when the run
 * has none: a flow that writes outputs by side effect keeps what a
 * stopped run left for the rerun only when there is a journal.
 * Ranks: any. Threads: any thread. */
RF_API const char *rf_journal_path(const rf_runtime *rt);

/* This process's rank in the job, and the job's size.
 * Ranks: any. Threads: any thread. */
RF_API int rf_runtime_rank(const rf_runtime *rt);
RF_API int rf_runtime_size(const rf_runtime *rt);

/* The flow: runs on rank 0 only, submits tasks and waits for them.
 * Return RF_OK when the flow finished (exit 0, or 1 if a task failed);
 * RF_ETASK, RF_EUPSTREAM or RF_ECANCELLED to pass on a task's failure
 * (exit 1); RF_EUSAGE for bad input (exit 2); RF_ESTOPPED after a signal
 * (exit 75); any other status ends the job with exit 3. */
typedef rf_status (*rf_flow_fn)(rf_flow *flow, void *user);

/* Run the flow on rank 0 and the worker loop on every other rank; return
 * the job's exit code, the same on every rank:
 *   0 all tasks completed, 1 a task ended failed, crashed, timed-out or
 *   upstream-failed, 2 the flow returned RF_EUSAGE or --journal names a
 *   journal of another flow or other parameters, 3 an error on any rank
 *   (one message names it), 75 stopped by a signal.
 * Before the flow starts, every rank's task registry is compared; a
 * difference (two builds in one job) ends the run with exit 3. At the end
 * rank 0 prints the totals per task state on stderr (log level info), and
 * all ranks leave together after a non-blocking barrier.
 * May be called once per runtime.
 * Ranks: all, collective. */
RF_API int rf_run(rf_runtime *rt, rf_flow_fn flow, void *user);

/* Finalize MPI, free the runtime, and return exit_code unchanged so that
 * main() can end with `return rf_finalize(rt, code);`. If exit_code is 3
 * and the ranks could not agree on leaving (MPI broke), calls MPI_Abort
 * after the message has been printed.
 * Ranks: all, collective. */
RF_API int rf_finalize(rf_runtime *rt, int exit_code);

/* ------------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------------
 * Lines go to stderr as one write each: "[rank N] level key: message".
 * The level comes from --log-level, else RANKFLOW_LOG, else info. */
typedef enum {
  RF_LOG_DEBUG,
  RF_LOG_INFO,
  RF_LOG_WARN,
  RF_LOG_ERROR
} rf_log_level;

/* Log a line from flow or job code, tagged with the rank.
 * Ranks: any. Threads: any thread. */
RF_API void rf_log(rf_log_level level, const char *fmt, ...) RF_PRINTF(2, 3);

/* ------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------
 * Arguments and results are trees of typed values. Constructors return a
 * new value the caller owns (NULL when out of memory); containers take
 * ownership of what is added to them. A value holding a future (only in
 * arguments) is replaced by that future's result before the task runs. */
typedef enum {
  RF_VALUE_NULL,
  RF_VALUE_BOOL,
  RF_VALUE_INT,
  RF_VALUE_DOUBLE,
  RF_VALUE_STRING,
  RF_VALUE_BYTES,
  RF_VALUE_LIST,
  RF_VALUE_MAP,
  RF_VALUE_FUTURE,
  RF_VALUE_FRAME
} rf_value_type;

/* Constructors. Caller frees with rf_value_free() unless the value is
 * handed to a container, rf_submit() or rf_ctx_return(). NULL when out of
 * memory. String and bytes are copied; strings are UTF-8 up to len bytes
 * (rf_value_string uses strlen) and must hold no NUL: such a string cannot
 * travel between ranks (not checked here; use bytes). rf_value_future adds a
 * reference to the future (the caller keeps its own).
 * Ranks: any. Threads: any thread. */
RF_API rf_value *rf_value_null(void);
RF_API rf_value *rf_value_bool(int b);
RF_API rf_value *rf_value_int(int64_t i);
RF_API rf_value *rf_value_double(double d);
RF_API rf_value *rf_value_string(const char *s);
RF_API rf_value *rf_value_string_n(const char *s, size_t len);
RF_API rf_value *rf_value_bytes(const void *data, size_t len);
RF_API rf_value *rf_value_list(void);
RF_API rf_value *rf_value_map(void);
RF_API rf_value *rf_value_future(rf_future *future);

/* Append item (taken) to a list. RF_EINVAL if list is not a list,
 * RF_ENOMEM if item is NULL or growing fails (item is freed, list
 * unchanged).
 * Ranks: any. Threads: any thread. */
RF_API rf_status rf_value_list_append(rf_value *list, rf_value *item);

/* Set key (copied) to item (taken) in a map, replacing an existing entry.
 * Same errors as rf_value_list_append, and RF_EINVAL for a NULL key.
 * Keys keep insertion order.
 * Ranks: any. Threads: any thread. */
RF_API rf_status rf_value_map_set(rf_value *map, const char *key,
                                  rf_value *item);

/* Free a value and everything it contains; NULL is ignored.
 * Ranks: any. Threads: any thread. */
RF_API void rf_value_free(rf_value *value);

/* Deep copy; NULL when out of memory.
 * Ranks: any. Threads: any thread. */
RF_API rf_value *rf_value_copy(const rf_value *value);

/* 1 if a and b are equal in type and content (doubles bitwise), else 0.
 * Ranks: any. Threads: any thread. */
RF_API int rf_value_equal(const rf_value *a, const rf_value *b);

/* Accessors. rf_value_type of NULL is RF_VALUE_NULL. The scalar getters
 * return RF_EINVAL (out untouched) when the type differs; rf_value_get_int
 * does not convert doubles. Returned pointers are borrowed.
 * Ranks: any. Threads: any thread. */
RF_API rf_value_type rf_value_type_of(const rf_value *value);
RF_API const char *rf_value_type_name(rf_value_type type);
RF_API rf_status rf_value_get_bool(const rf_value *value, int *out);
RF_API rf_status rf_value_get_int(const rf_value *value, int64_t *out);
RF_API rf_status rf_value_get_double(const rf_value *value, double *out);
RF_API rf_status rf_value_get_string(const rf_value *value, const char **out,
                                     size_t *len);
RF_API rf_status rf_value_get_bytes(const rf_value *value,
                                    const void **out, size_t *len);
/* Number of items of a list or entries of a map; 0 for other types. */
RF_API size_t rf_value_count(const rf_value *value);
/* Item i of a list, or value of entry i of a map; NULL if out of range. */
RF_API const rf_value *rf_value_item(const rf_value *value, size_t i);
/* Key of entry i of a map; NULL if out of range or not a map. */
RF_API const char *rf_value_key(const rf_value *value, size_t i);
/* Value under key in a map; NULL if absent or not a map. */
RF_API const rf_value *rf_value_lookup(const rf_value *map, const char *key);

/* ------------------------------------------------------------------------
 * Tasks
 * ------------------------------------------------------------------------ */

/* A task function. It reads its argument and attempt from ctx, and ends by
 * returning RF_OK (after rf_ctx_return() for a result; none means null),
 * or the status of rf_ctx_fail(). Returning any other status without
 * rf_ctx_fail() ends the attempt as *crashed* (not retried). Tasks run on
 * workers, or inline on rank 0 when the job has one rank; they must not
 * call MPI on the world communicator. */
typedef rf_status (*rf_task_fn)(rf_ctx *ctx);

/* Options of a registered task. Zero-initialise and set what you need:
 * the zero value means no retries. Delays are in seconds; the n-th retry
 * waits min(retry_delay * retry_backoff^(n-1), retry_max_delay), scaled by
 * a random factor in [1 - retry_jitter, 1 + retry_jitter].
 *
 * io = 1 marks a task that waits on the network or a disk (a download, a
 * file copy): a rank runs up to --io-slots of them at once (default 8),
 * each on an I/O slot, a thread of its own, while its main thread goes on
 * with other tasks; a worker asks for as many I/O tasks as it has free
 * slots. An io task must not call MPI or HDF5 (neither is thread-safe
 * here), must not change process-wide state (the working directory,
 * signal actions), and must check rf_ctx_cancelled() while it waits. The
 * same holds at one rank: the slots run beside the flow.
 *
 * ranks = k > 1 makes a parallel task: it runs on k workers at once, all
 * calling the function with a communicator of exactly those k ranks
 * (rf_ctx_comm). Rank 0 gathers k idle workers, from one node when it
 * can (RANKFLOW_FAKE_NODES=n pretends the job has n nodes of consecutive
 * ranks), reserving workers as they free up so a wide task is not starved
 * by narrow ones (those backfill the other workers). A width above the
 * job's worker count fails at submit (RF_EUSAGE: exit 2); at one rank only
 * width 1 runs (inline, on MPI_COMM_SELF). Not with io.
 *
 * isolate = 1 runs each attempt in a task host: a separate process of the
 * same program, started by the worker (posix_spawn, never a fork of an MPI
 * process), which runs main() like any rank, so it registers the same
 * tasks, but never initialises MPI; in it rf_ctx_comm() is MPI_COMM_NULL
 * and rf_ctx_flow() cannot submit (RF_ESTATE). The worker keeps its host
 * across attempts and starts a new one when it dies. A host killed by a
 * signal, or that exits, ends its attempt crashed ("killed by SIGSEGV"),
 * and such a crash is retried within retries; the job goes on. The
 * library flag --isolate isolates every task that is neither io nor
 * parallel (those never are). At one rank the host runs beside the flow.
 * isolate = -1 (RF_ISOLATE_NEVER) keeps a task plain even under --isolate
 * and on a resume: one that uses what this process holds (a file that a
 * collective step opened) or that submits subtasks.
 *
 * timeout (seconds, 0: --task-timeout, whose default is none) limits each
 * attempt. An isolated attempt past it gets SIGTERM, then SIGKILL a second
 * later, and ends timed-out (retried within retries). A plain attempt past
 * it sees rf_ctx_cancelled() return 1 and is logged once; if it still runs
 * --drain-grace seconds later, the job ends with exit 3 naming it (a rank
 * cannot take back its own thread), and a resume with the journal runs it
 * isolated.
 *
 * memory (bytes, 0: none) caps an isolated attempt's address space in its
 * host (RLIMIT_AS above what the host already uses): an allocation past
 * it fails. Plain tasks ignore it. */
typedef struct {
  int retries;             /* transient failures retried up to this often */
  double retry_delay;      /* first delay (s) */
  double retry_backoff;    /* factor per retry; 0 means 2 */
  double retry_max_delay;  /* cap (s); 0 means no cap */
  double retry_jitter;     /* fraction in [0, 1] */
  const char *const *tags; /* NULL-terminated list of labels; may be NULL */
  int io;                  /* 1: I/O-bound, runs on an I/O slot (above) */
  int ranks;               /* width: members a parallel task runs on (0: 1) */
  int isolate;             /* 1: each attempt in a task host (above);
                            * -1 (RF_ISOLATE_NEVER): never, not even with
                            * --isolate or on a resume */
  double timeout;          /* seconds an attempt may run; 0: --task-timeout */
  size_t memory;           /* bytes an isolated attempt may use; 0: no cap */
} rf_task_options;
#define RF_ISOLATE_NEVER (-1)

/* Register a task under a unique name. Every rank must register the same
 * tasks with the same options in the same order, before rf_run(); the
 * registries are compared at start-up. opts may be NULL (defaults); name,
 * tags and opts are copied. *out (may be NULL) receives the handle.
 * Errors: RF_EINVAL (empty, duplicate or over 63-byte name, NULL fn, bad
 * option, after rf_run), RF_ENOMEM.
 * Ranks: all, same order. */
RF_API rf_status rf_task_register(rf_runtime *rt, const char *name,
                                  rf_task_fn fn, const rf_task_options *opts,
                                  rf_task **out);

/* Look up a registered task by name: RF_ENOTASK (with the name in
 * rf_last_error) if there is none.
 * Ranks: any. */
RF_API rf_status rf_task_find(rf_runtime *rt, const char *name,
                              rf_task **out);

/* The task's registered name (borrowed). Ranks: any. Threads: any thread. */
RF_API const char *rf_task_name(const rf_task *task);

/* ------------------------------------------------------------------------
 * Task context (inside a running task)
 * ------------------------------------------------------------------------ */

/* The attempt's argument (borrowed; null value when none was given), with
 * every future replaced by its result. Ranks: task. */
RF_API const rf_value *rf_ctx_arg(const rf_ctx *ctx);

/* Attempt number, 1 for the first run. Ranks: task. */
RF_API int rf_ctx_attempt(const rf_ctx *ctx);

/* The task's key: "name-0123456789abcdef", a hash of the name and the
 * argument with every future replaced by its task's key; identical
 * submissions share a key (borrowed). Ranks: task. */
RF_API const char *rf_ctx_key(const rf_ctx *ctx);

/* The rank executing this attempt. Ranks: task. */
RF_API int rf_ctx_rank(const rf_ctx *ctx);

/* A parallel task's communicator (rf_task_options.ranks = k): exactly its
 * k members, every one running the same function; MPI_COMM_SELF for a
 * task of width 1. Use it, never MPI_COMM_WORLD. The member's rank in it
 * and its size. Members share no memory: pass data with MPI. A member
 * that fails must still make every collective call the others make (or
 * they hang: there is no fault-tolerant MPI here); rf_ctx_agree() lets
 * all learn whether every member is fine before a collective that needs
 * each member's input. The task's result is its rank 0's; a failure
 * returned by any member fails the task with that member's message.
 * Ranks: task (the members). */
#ifndef RF_WITHOUT_MPI_H
RF_API MPI_Comm rf_ctx_comm(const rf_ctx *ctx);
#endif
RF_API int rf_ctx_comm_rank(const rf_ctx *ctx);
RF_API int rf_ctx_comm_size(const rf_ctx *ctx);

/* The task's own flow, for subtasks: rf_submit, rf_map, rf_future_wait,
 * rf_futures_wait, rf_future_result, rf_future_cancel and release work on
 * it as on the flow's (rf_as_completed does not, on a worker). Subtasks
 * are scheduled by rank 0 like any task; their arguments may not hold
 * futures. A task that waits on subtasks gives its rank back while it
 * waits: the rank runs that task's own subtasks in the meantime (inside
 * the wait, on the same thread; at one rank, inline), so a single worker,
 * or one rank, completes any nesting up to 32 waits deep. Unstarted work
 * the rank held goes back to rank 0 when the task first waits; only work
 * already on its way then, and collective steps (every rank must take
 * part), run inside the wait besides the task's own subtasks. When a task's attempt ends (returns, fails, is retried or
 * cancelled), its unfinished subtasks are cancelled; the handles it holds
 * are valid until it returns. Isolated, I/O and parallel tasks cannot submit
 * (RF_ESTATE). Ranks: task. */
RF_API rf_flow *rf_ctx_flow(rf_ctx *ctx);

/* Collective over the task's communicator: 1 when every member passed a
 * non-zero ok, else 0 (also on an MPI error). Waits without spinning.
 * Width 1: returns ok != 0 at once. Ranks: task (every member). */
RF_API int rf_ctx_agree(rf_ctx *ctx, int ok);

/* Set the attempt's result (taken; replaces an earlier one). NULL means
 * out of memory: the attempt then fails permanently with RF_ENOMEM.
 * Ranks: task. */
RF_API void rf_ctx_return(rf_ctx *ctx, rf_value *result);

/* Kinds of failure a task reports. */
typedef enum {
  RF_FAIL_TRANSIENT, /* retried per the task's retry policy */
  RF_FAIL_PERMANENT  /* never retried */
} rf_fail_kind;

/* Record why the attempt failed (printf-style, kept up to 1 KiB) and
 * return RF_ETASK, so a task ends with `return rf_ctx_fail(...)`: the
 * failure takes effect when the task returns RF_ETASK (returning RF_OK
 * after it completes the task). Ranks: task. */
RF_API rf_status rf_ctx_fail(rf_ctx *ctx, rf_fail_kind kind, const char *fmt,
                             ...) RF_PRINTF(3, 4);

/* 1 when the task was cancelled or the job is stopping: the task should
 * return soon (its result is discarded). Cheap to call often; checking it
 * is what makes the task responsive to cancel and to SIGTERM.
 * Ranks: task. */
RF_API int rf_ctx_cancelled(rf_ctx *ctx);

/* Log a line tagged with the rank and the task's key. Ranks: task. */
RF_API void rf_ctx_log(rf_ctx *ctx, rf_log_level level, const char *fmt, ...)
    RF_PRINTF(3, 4);

/* ------------------------------------------------------------------------
 * Submitting and futures (the flow, rank 0)
 * ------------------------------------------------------------------------ */

/* Task states. A task is pending until it is sent to a worker (scheduled),
 * running once the worker starts it, and ends in one of the last six. */
typedef enum {
  RF_STATE_PENDING,
  RF_STATE_SCHEDULED,
  RF_STATE_RUNNING,
  RF_STATE_COMPLETED,
  RF_STATE_FAILED,
  RF_STATE_CRASHED,
  RF_STATE_CANCELLED,
  RF_STATE_UPSTREAM_FAILED,
  RF_STATE_TIMED_OUT /* its last attempt ran past its time limit */
} rf_state;
#define RF_STATE_COUNT 9

/* Lower-case name of a state ("upstream-failed"). Threads: any thread. */
RF_API const char *rf_state_name(rf_state state);

/* Submit task with arg (taken; NULL for no argument). Futures inside arg
 * (at any depth of lists and maps) make the task wait for them and receive
 * their results; if one of them fails or is cancelled, the task ends
 * upstream-failed without running. *out receives a new future (caller
 * releases with rf_future_release).
 * Errors: RF_EINVAL (NULL task, a future of another runtime, an argument
 * over 1 GiB encoded or nested deeper than 64), RF_EUSAGE (a parallel
 * task wider than the job's workers), RF_ENOMEM, RF_ESTOPPED (the job is
 * stopping; nothing was submitted), or the error that already ends the
 * job.
 * Ranks: rank 0 (the flow). */
RF_API rf_status rf_submit(rf_flow *flow, const rf_task *task, rf_value *arg,
                           rf_future **out);

/* Submit task once per item of inputs (a list, taken), in order. *out
 * receives an array of *n futures in input order (caller frees with
 * rf_futures_release). On failure nothing stays submitted: the tasks
 * submitted so far are cancelled (pending ones never run) and released.
 * Ranks: rank 0. */
RF_API rf_status rf_map(rf_flow *flow, const rf_task *task, rf_value *inputs,
                        rf_future ***out, size_t *n);

/* Release futures[0..n) and free the array, which must come from rf_map
 * (or rf_malloc): rf_map with no inputs still gives one to release.
 * Ranks: rank 0. */
RF_API void rf_futures_release(rf_future **futures, size_t n);

/* Current state, without waiting. Ranks: rank 0. */
RF_API rf_state rf_future_state(const rf_future *future);

/* Wait until the future has ended, at most timeout seconds (< 0: no
 * limit). RF_OK when it has ended (in any final state), RF_ETIMEDOUT when
 * not yet, RF_ESTOPPED when the job is stopping, or an error that ends
 * the job (RF_EMPI, RF_EPEER, RF_ECODEC). At one rank, pending tasks run
 * here in submission order. Ranks: rank 0. */
RF_API rf_status rf_future_wait(rf_future *future, double timeout);

/* Wait for all of futures[0..n). Same returns as rf_future_wait with no
 * timeout. Ranks: rank 0. */
RF_API rf_status rf_futures_wait(rf_future **futures, size_t n);

/* Wait for the future and give its result (borrowed, valid until the
 * future is released). Returns RF_OK with the result when completed;
 * RF_ETASK (failed or crashed), RF_EUPSTREAM or RF_ECANCELLED otherwise,
 * with *out NULL and the reason in rf_future_error(); or a wait error.
 * Ranks: rank 0. */
RF_API rf_status rf_future_result(rf_future *future, const rf_value **out);

/* Why the task did not complete: its last attempt's message, or for
 * upstream-failed "upstream <key> <its state>: <its message>" (so the
 * cause is reachable through chains). NULL when there is no error.
 * Borrowed.
 * Ranks: rank 0. */
RF_API const char *rf_future_error(const rf_future *future);

/* The task's key (borrowed), attempts made so far, the rank of the last
 * attempt (-1 if none), and the times the task was submitted and its last
 * attempt started and ended, in seconds since the Unix epoch (0 if not
 * reached). Ranks: rank 0. */
RF_API const char *rf_future_key(const rf_future *future);
RF_API int rf_future_attempts(const rf_future *future);
RF_API int rf_future_rank(const rf_future *future);
RF_API void rf_future_times(const rf_future *future, double *submitted,
                            double *started, double *ended);

/* Cancel: a pending task never runs; a scheduled or running one has its
 * context's cancelled flag set, and its result is discarded. The future
 * ends cancelled (once the worker acknowledges). A task that has already
 * ended is left as it is. Tasks depending on it end upstream-failed.
 * Ranks: rank 0. */
RF_API rf_status rf_future_cancel(rf_future *future);

/* Drop the flow's reference: rank 0 frees the future's state once the
 * task has ended and nothing depends on it. A released pending task still
 * runs (and counts in the totals and the exit code). NULL is ignored.
 * Ranks: rank 0. */
RF_API void rf_future_release(rf_future *future);

/* Iterate futures in the order they end, each exactly once.
 * create borrows futures[0..n) (distinct, and unreleased until the
 * iterator is freed; a future may be in one iterator at a time: RF_EINVAL
 * otherwise); next waits for the next one to end and gives it in *out, or
 * *out = NULL when all have been given. next returns wait errors
 * (RF_ESTOPPED ...). Ranks: rank 0. */
RF_API rf_status rf_as_completed_create(rf_flow *flow, rf_future **futures,
                                        size_t n, rf_as_completed **out);
RF_API rf_status rf_as_completed_next(rf_as_completed *it, rf_future **out);
RF_API void rf_as_completed_free(rf_as_completed *it);

/* The runtime behind a flow (for rank and size). Ranks: rank 0, or a
 * task for its own flow (rf_ctx_flow). */
RF_API rf_runtime *rf_flow_runtime(rf_flow *flow);

/* ------------------------------------------------------------------------
 * Collective steps
 * ------------------------------------------------------------------------
 * Some work needs every rank at once in the middle of a flow: creating,
 * flushing or closing a parallel HDF5 file. A step is a function every
 * rank runs together: the flow calls rf_flow_step on rank 0, each worker
 * enters the step as soon as its current task returns (queued tasks wait),
 * all ranks meet on the step's own communicator without spinning, run the
 * function, and learn whether every rank succeeded. Tasks must never make
 * collective calls themselves; steps exist for that. */
typedef rf_status (*rf_step_fn)(rf_step_ctx *ctx);

/* Register a step under a unique name, like a task: every rank, same
 * order, before rf_run (the registries are compared at start-up).
 * Errors: RF_EINVAL (empty, repeated or over 63-byte name, NULL fn, after
 * rf_run), RF_ENOMEM.
 * Ranks: all. */
RF_API rf_status rf_step_register(rf_runtime *rt, const char *name,
                                  rf_step_fn fn, rf_step **out);

/* Look up a registered step by name: RF_ENOTASK (with the name in
 * rf_last_error) if there is none. Ranks: any. */
RF_API rf_status rf_step_find(rf_runtime *rt, const char *name,
                              rf_step **out);

/* Run step on every rank with arg (borrowed; NULL for none; no futures)
 * and wait for all. Returns RF_OK when every rank's function returned
 * RF_OK; otherwise the largest status a failing rank returned (RF_ETASK
 * if none was a known status), naming the lowest failing rank (each
 * failing rank logs its own reason); RF_ESTOPPED if the job is stopping,
 * or the job's error if a rank already failed (the step is not started);
 * or an error that ends the job (RF_EMPI ...).
 * Ranks: rank 0 (the flow); the workers run it between tasks. */
RF_API rf_status rf_flow_step(rf_flow *flow, const rf_step *step,
                              const rf_value *arg);

/* Inside a step: the communicator of all ranks (world order; the step's
 * own, so collectives there never meet rankflow's messages), this rank,
 * the size, the argument (borrowed; NULL when the flow passed none), and
 * the runtime.
 * Ranks: inside a step. Threads: the MPI thread. */
#ifndef RF_WITHOUT_MPI_H
RF_API MPI_Comm rf_step_comm(const rf_step_ctx *ctx);
#endif
RF_API int rf_step_rank(const rf_step_ctx *ctx);
RF_API int rf_step_size(const rf_step_ctx *ctx);
RF_API const rf_value *rf_step_arg(const rf_step_ctx *ctx);
RF_API rf_runtime *rf_step_runtime(const rf_step_ctx *ctx);

/* ------------------------------------------------------------------------
 * Frames
 * ------------------------------------------------------------------------
 * A frame is a small columnar table: R rows named by string labels (the
 * index) and C named columns, each float64 or int64. Frames are values:
 * a task can return one (rf_value_frame) and the codec carries it, up to
 * 4096 columns with names under 256 bytes. */
typedef enum { RF_COLUMN_F64, RF_COLUMN_I64 } rf_column_type;

/* A frame of nrows rows, no columns yet, labels "" (caller frees with
 * rf_frame_free). RF_ENOMEM. Ranks: any. Threads: any thread. */
RF_API rf_status rf_frame_create(size_t nrows, rf_frame **out);

/* Set the label of row (copied). RF_EINVAL if row is out of range or the
 * label is NULL. Ranks: any. Threads: any thread. */
RF_API rf_status rf_frame_set_label(rf_frame *frame, size_t row,
                                    const char *label);

/* Append a column named name (copied) holding values[0..nrows) (copied).
 * RF_EINVAL for a NULL or repeated name. Ranks: any. Threads: any thread. */
RF_API rf_status rf_frame_add_f64(rf_frame *frame, const char *name,
                                  const double *values);
RF_API rf_status rf_frame_add_i64(rf_frame *frame, const char *name,
                                  const int64_t *values);

/* Shape, labels, names, types and data (borrowed). rf_frame_f64 is NULL
 * unless column col is float64 (rf_frame_i64 likewise).
 * Ranks: any. Threads: any thread. */
RF_API size_t rf_frame_rows(const rf_frame *frame);
RF_API size_t rf_frame_columns(const rf_frame *frame);
RF_API const char *rf_frame_label(const rf_frame *frame, size_t row);
RF_API const char *rf_frame_column_name(const rf_frame *frame, size_t col);
RF_API rf_column_type rf_frame_column_type(const rf_frame *frame, size_t col);
RF_API const double *rf_frame_f64(const rf_frame *frame, size_t col);
RF_API const int64_t *rf_frame_i64(const rf_frame *frame, size_t col);

/* 1 if a and b have the same labels, names, types and bitwise-equal
 * values, else 0. Ranks: any. Threads: any thread. */
RF_API int rf_frame_equal(const rf_frame *a, const rf_frame *b);

/* Deep copy; NULL when out of memory. Free; NULL is ignored.
 * Ranks: any. Threads: any thread. */
RF_API rf_frame *rf_frame_copy(const rf_frame *frame);
RF_API void rf_frame_free(rf_frame *frame);

/* Print as pandas prints a frame: a header line, then one line per row,
 * labels left, columns right-aligned; a column's values in fixed notation
 * with six decimals, trailing zeros the column shares trimmed, or in %e
 * notation when pandas would switch (values below 1e-6, or above 1e6 in a
 * wide column). RF_EIO if the stream fails.
 * Ranks: any. Threads: any thread. */
RF_API rf_status rf_frame_print(const rf_frame *frame, FILE *out);

/* A value holding frame (taken); NULL when out of memory (the frame is
 * freed). rf_value_get_frame gives it back (borrowed), RF_EINVAL for
 * another type. Ranks: any. Threads: any thread. */
RF_API rf_value *rf_value_frame(rf_frame *frame);
RF_API rf_status rf_value_get_frame(const rf_value *value,
                                    const rf_frame **out);

/* ------------------------------------------------------------------------
 * Frames in HDF5 (pandas' fixed layout)
 * ------------------------------------------------------------------------ */

/* Write frame under key (e.g. "summary") of a new HDF5 file at path, in
 * the layout pandas.read_hdf(path, key) reads as it is; h5dump and h5py
 * read it too. attrs (a map of string, int or double values, or NULL)
 * become attributes of the frame's group; run (same, or NULL) attributes
 * of a separate "/run" group, for facts about the run kept out of the
 * frame. The file appears whole: written under a temporary name in the
 * same directory, flushed, then renamed over path. Objects are created
 * without time stamps, so equal frames give equal files.
 * Errors: RF_EIO (path cannot be created: nothing is left behind),
 * RF_EHDF5, RF_EINVAL (bad key or attribute), RF_ENOMEM.
 * Ranks: any (one rank at a time per file). Threads: the MPI thread. */
RF_API rf_status rf_frame_write_hdf5(const char *path, const char *key,
                                     const rf_frame *frame,
                                     const rf_value *attrs,
                                     const rf_value *run);

/* Read a frame written by rf_frame_write_hdf5 (or by pandas, float64 and
 * int64 blocks, string index). RF_EIO (cannot open), RF_EHDF5 / RF_EUSAGE
 * (not such a frame, with the reason), RF_ENOMEM.
 * Ranks: any. Threads: the MPI thread. */
RF_API rf_status rf_frame_read_hdf5(const char *path, const char *key,
                                    rf_frame **out);

#ifdef __cplusplus
}
#endif
#endif /* RANKFLOW_H */
