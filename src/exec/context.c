/* SPDX-License-Identifier: BSD-3-Clause */
/* context.c -- running one attempt of a task, and the context it sees.
 *
 * The same code runs an attempt on a worker, inline on rank 0 at one rank
 * and on an I/O slot's thread, so a task cannot tell them apart: it gets
 * its argument decoded from the bytes that would travel, and its result or
 * failure is encoded the same way. Everything a task may ask (argument,
 * attempt, key, failing, logging, the cancelled flag, its communicator,
 * its own flow) goes through rf_ctx, so later features (time limits, task
 * hosts) extend the context, not the task signature. What differs between
 * the runners comes in as arguments: the operations of the task's own flow
 * (rank 0's at one rank, the worker's on a worker) and the cancel probe.
 */
#include "exec.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

struct rf_ctx {
  rf_runtime *rt;
  rf_flow flow; /* its own, for subtasks: rf_ctx_flow */
  const rf_task *task;
  uint64_t id, key;
  int attempt;
  rf_value *arg;
  rf_value *result;
  int result_oom;
  int failed;
  rf_fail_kind kind;
  int cancelled;
  rf_team team;
  rf_cancel_probe_fn probe;
  void *probe_user;
  uint64_t next_probe_ns;
  uint64_t deadline_ns; /* its time limit; 0: none */
  double limit;         /* the same, in seconds */
  int over;             /* it ran past the limit: cancelled, and said so */
  char msg[1024];
  char keytext[96];
};

/* How often a running task's rf_ctx_cancelled() looks for a cancel. */
#define PROBE_INTERVAL_NS 1000000ull

const rf_value *rf_ctx_arg(const rf_ctx *ctx) { return ctx->arg; }
int rf_ctx_attempt(const rf_ctx *ctx) { return ctx->attempt; }
const char *rf_ctx_key(const rf_ctx *ctx) { return ctx->keytext; }
int rf_ctx_rank(const rf_ctx *ctx) { return ctx->rt->rank; }
rf_flow *rf_ctx_flow(rf_ctx *ctx) { return &ctx->flow; }
uint64_t rf__ctx_id(const rf_ctx *ctx) { return ctx->id; }
MPI_Comm rf_ctx_comm(const rf_ctx *ctx) { return ctx->team.comm; }
int rf_ctx_comm_rank(const rf_ctx *ctx) { return ctx->team.rank; }
int rf_ctx_comm_size(const rf_ctx *ctx) { return ctx->team.size; }

int rf_ctx_agree(rf_ctx *ctx, int ok) {
  if (ctx->team.size == 1) return ok != 0;
  int mine = ok != 0, all = 0;
  MPI_Request req;
  /* Non-blocking and waited on with back-off: members that arrive early
   * do not spin. An MPI error counts as disagreement. */
  if (MPI_Iallreduce(&mine, &all, 1, MPI_INT, MPI_LAND, ctx->team.comm,
                     &req) != MPI_SUCCESS ||
      rf__wait_request(&req) != RF_OK) {
    return 0;
  }
  return all;
}

void rf_ctx_return(rf_ctx *ctx, rf_value *result) {
  rf_value_free(ctx->result);
  ctx->result = result;
  ctx->result_oom = (result == NULL);
}

rf_status rf_ctx_fail(rf_ctx *ctx, rf_fail_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
  va_end(ap);
  ctx->failed = 1;
  ctx->kind = kind;
  return RF_ETASK;
}

/* When this process first saw a drain (0: not yet). A drain lets running
 * tasks finish for --drain-grace seconds; after that they are cancelled
 * here too, which is what bounds a drain when a task runs inline. */
static _Atomic uint64_t drain_seen_ns;

static int drain_expired(const rf_ctx *ctx) {
  uint64_t now = rf__mono_ns(), seen = atomic_load(&drain_seen_ns);
  if (seen == 0) {
    uint64_t zero = 0;
    if (atomic_compare_exchange_strong(&drain_seen_ns, &zero, now)) seen = now;
    else seen = zero; /* another thread saw it first */
  }
  return now - seen > (uint64_t)(ctx->rt->opts.drain_grace * 1e9);
}

int rf_ctx_cancelled(rf_ctx *ctx) {
  if (ctx->cancelled) return 1;
  if (ctx->deadline_ns != 0 && rf__mono_ns() > ctx->deadline_ns) {
    ctx->over = 1;
    rf__log(RF_LOG_WARN, ctx->keytext, "over its time limit of %g s: "
            "cancelled", ctx->limit);
    return ctx->cancelled = 1;
  }
  int sig = rf__signal_requested();
  if (sig == RF_SIGNAL_STOP) return ctx->cancelled = 1;
  if (sig == RF_SIGNAL_DRAIN && drain_expired(ctx)) return ctx->cancelled = 1;
  if (ctx->probe != NULL) {
    uint64_t now = rf__mono_ns();
    if (now >= ctx->next_probe_ns) {
      ctx->next_probe_ns = now + PROBE_INTERVAL_NS;
      if (ctx->probe(ctx->probe_user, ctx->id)) ctx->cancelled = 1;
    }
  }
  return ctx->cancelled;
}

void rf_ctx_log(rf_ctx *ctx, rf_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rf__logv(level, ctx->keytext, fmt, ap);
  va_end(ap);
}

/* Encode a failure message as the payload. */
static void set_message(rf_attempt_result *res, rf_outcome outcome,
                        const char *msg) {
  res->outcome = outcome;
  rf__text_encode(&res->payload, msg);
}

/* The flow of a task that may not submit: I/O tasks (on threads that never
 * call MPI) and parallel tasks (on several ranks at once). */
static rf_status refuse_subtask(rf_flow *flow, const rf_task *task,
                                rf_value *arg, rf_future **out) {
  (void)flow, (void)task;
  *out = NULL;
  rf_value_free(arg);
  return rf__error(RF_ESTATE, "isolated, I/O and parallel tasks cannot "
                   "submit subtasks");
}

static const rf_flow_ops no_subtasks = {
    .kind = "an isolated, I/O or parallel task",
    .submit = refuse_subtask,
};

rf_status rf__attempt_note(rf_attempt_result *res, rf_outcome outcome,
                           const char *msg) {
  set_message(res, outcome, msg);
  res->t0 = res->t1 = 0;
  return res->payload.oom ? rf__error(RF_ENOMEM, "recording an outcome")
                          : RF_OK;
}

rf_status rf__attempt_run(rf_runtime *rt, const rf_attempt *a,
                          const rf_team *team, const rf_flow_ops *subtasks,
                          rf_cancel_probe_fn probe, void *probe_user,
                          rf_attempt_result *res) {
  const rf_task *task = a->task;
  rf_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.team = team ? *team : (rf_team){MPI_COMM_SELF, 0, 1};
  ctx.flow.rt = rt;
  ctx.flow.ctx = &ctx;
  ctx.flow.ops = subtasks != NULL && !task->opts.io && ctx.team.size == 1
                     ? subtasks
                     : &no_subtasks;
  ctx.rt = rt;
  ctx.task = task;
  ctx.id = a->id;
  ctx.key = a->key;
  ctx.attempt = a->attempt;
  ctx.probe = probe;
  ctx.probe_user = probe_user;
  ctx.next_probe_ns = rf__mono_ns() + PROBE_INTERVAL_NS;
  rf__key_format(task->name, a->key, ctx.keytext, sizeof ctx.keytext);
  /* Bytes from another rank: a malformed argument ends the job (exit 3),
   * it is not the task's failure. */
  RF_CHECK(rf__value_decode(a->arg, a->arglen, &ctx.arg));

  ctx.limit = rf__task_timeout(rt, task);
  ctx.deadline_ns =
      ctx.limit > 0 ? rf__mono_ns() + (uint64_t)(ctx.limit * 1e9) : 0;
  /* A plain attempt on the main thread can take the rank down with it:
   * the last-resort paths of watch.c name it. */
  int watched = rt->host_fd < 0 && !task->opts.io;
  if (watched) rf__watch_begin(ctx.keytext, ctx.attempt, ctx.limit);
  res->t0 = rf__now();
  rf__error_clear();
  rf_status st = task->fn(&ctx);
  res->t1 = rf__now();
  if (watched) rf__watch_end();

  res->payload.len = 0;
  res->payload.oom = 0;
  if (ctx.over) {
    char why[96];
    snprintf(why, sizeof why, "ran past its time limit of %g s", ctx.limit);
    set_message(res, RF_OUTCOME_TIMED_OUT, why);
  } else if (ctx.cancelled) {
    set_message(res, RF_OUTCOME_CANCELLED, "cancelled while running");
  } else if (st == RF_OK && ctx.result_oom) {
    set_message(res, RF_OUTCOME_PERMANENT,
                "out of memory building the result");
  } else if (st == RF_OK) {
    res->outcome = RF_OUTCOME_OK;
    msgpack_packer pk;
    rf__buf_packer(&res->payload, &pk);
    rf_status est = rf__value_pack(&pk, ctx.result, RF_PACK_PLAIN, NULL);
    if (est != RF_OK || res->payload.oom) {
      char why[1100];
      snprintf(why, sizeof why, "result cannot be encoded: %s",
               est != RF_OK ? rf_last_error() : "out of memory");
      set_message(res, RF_OUTCOME_PERMANENT, why);
    } else if (res->payload.len > RF_MAX_VALUE) {
      char why[160];
      snprintf(why, sizeof why,
               "result of %zu bytes is over the %zu-byte message limit",
               res->payload.len, (size_t)RF_MAX_VALUE);
      set_message(res, RF_OUTCOME_PERMANENT, why);
    }
  } else if (st == RF_ETASK && ctx.failed) {
    set_message(res, ctx.kind == RF_FAIL_TRANSIENT ? RF_OUTCOME_TRANSIENT
                                                   : RF_OUTCOME_PERMANENT,
                ctx.msg);
  } else {
    char why[1200];
    const char *detail = rf_last_error();
    snprintf(why, sizeof why, "task returned %s (%s)%s%s",
             rf_status_name(st), rf_strerror(st), detail[0] ? ": " : "",
             detail);
    set_message(res, RF_OUTCOME_CRASHED, why);
  }
  rf_value_free(ctx.arg);
  rf_value_free(ctx.result);
  if (res->payload.oom) {
    return rf__error(RF_ENOMEM, "encoding the outcome of %s", ctx.keytext);
  }
  return RF_OK;
}
