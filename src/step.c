/* step.c -- collective steps: work every rank does together mid-flow.
 *
 * Parallel HDF5 creates, flushes and closes files collectively, so a flow
 * that writes one needs every rank at the same point. Tasks cannot do it
 * (a task runs on one worker, and MPI is one thread's), so the library
 * offers steps: rank 0 sends the step to every worker, each worker enters
 * it when its current task returns, and all meet on a communicator of
 * their own (collectives there never match rankflow's point-to-point
 * messages). Meeting and agreeing use non-blocking collectives polled with
 * back-off: Open MPI's blocking ones spin, and these machines run more
 * ranks than cores.
 */
#include "rf_internal.h"

#include <string.h>

struct rf_step_ctx {
  rf_runtime *rt;
  const rf_step *step;
  rf_value *arg;
};

rf_status rf_step_register(rf_runtime *rt, const char *name, rf_step_fn fn,
                           rf_step **out) {
  rf_registry *reg = &rt->reg;
  if (out) *out = NULL;
  RF_ENSURE(!reg->closed, RF_EINVAL, "step registered after rf_run() started");
  RF_ENSURE(name != NULL && name[0] != '\0' && strlen(name) < 64 && fn != NULL,
            RF_EINVAL, "a step needs a name of 1 to 63 characters and a function");
  for (uint32_t i = 0; i < reg->nsteps; i++) {
    RF_ENSURE(strcmp(reg->steps[i]->name, name) != 0, RF_EINVAL,
              "step '%s' is registered twice", name);
  }
  RF_CHECK(rf__registry_reserve(&reg->steps, reg->nsteps, &reg->capsteps,
                                 "registering a step"));
  rf_step *s = rf__calloc(1, sizeof *s);
  char *copy = rf__strdup(name);
  if (s == NULL || copy == NULL) {
    rf__free(s);
    rf__free(copy);
    return rf__error(RF_ENOMEM, "registering a step");
  }
  s->name = copy;
  s->fn = fn;
  s->index = reg->nsteps;
  reg->steps[reg->nsteps++] = s;
  if (out) *out = s;
  return RF_OK;
}

MPI_Comm rf_step_comm(const rf_step_ctx *ctx) { return ctx->rt->step_comm; }
int rf_step_rank(const rf_step_ctx *ctx) { return ctx->rt->rank; }
int rf_step_size(const rf_step_ctx *ctx) { return ctx->rt->size; }
const rf_value *rf_step_arg(const rf_step_ctx *ctx) { return ctx->arg; }
rf_runtime *rf_step_runtime(const rf_step_ctx *ctx) { return ctx->rt; }

rf_status rf__step_run(rf_runtime *rt, uint32_t index, const uint8_t *arg,
                       size_t len, rf_status *agreed) {
  *agreed = RF_OK;
  RF_ENSURE(index < rt->reg.nsteps, RF_ECODEC,
            "malformed message: step %u is not registered", index);
  rf_step_ctx ctx = {rt, rt->reg.steps[index], NULL};
  if (len > 0) RF_CHECK(rf__value_decode(arg, len, &ctx.arg));
  MPI_Request req;
  rf_status st = RF_OK;
  int rc = MPI_Ibarrier(rt->step_comm, &req);
  st = rc == MPI_SUCCESS ? rf__wait_request(&req) : rf__error_mpi(rc, "MPI_Ibarrier");
  if (st != RF_OK) {
    rf_value_free(ctx.arg);
    return st;
  }
  rf__error_clear();
  rf_status mine = ctx.step->fn(&ctx);
  if (mine != RF_OK) {
    char msg[1200];
    rf__log(RF_LOG_ERROR, NULL, "step '%s' failed: %s", ctx.step->name,
            rf__describe(mine, msg, sizeof msg));
  }
  rf_value_free(ctx.arg);
  /* Agree: the lowest rank whose function failed, and the largest status
   * any rank returned (what kind of failure: RF_EIO ends the job with 3,
   * as it would have on one rank). */
  int in[2] = {mine == RF_OK ? 1 : 0, rt->rank}, out[2];
  int code = (int)mine, worst = 0;
  rc = MPI_Iallreduce(in, out, 1, MPI_2INT, MPI_MINLOC, rt->step_comm, &req);
  st = rc == MPI_SUCCESS ? rf__wait_request(&req) : rf__error_mpi(rc, "MPI_Iallreduce");
  if (st == RF_OK) {
    rc = MPI_Iallreduce(&code, &worst, 1, MPI_INT, MPI_MAX, rt->step_comm, &req);
    st = rc == MPI_SUCCESS ? rf__wait_request(&req) : rf__error_mpi(rc, "MPI_Iallreduce");
  }
  if (st != RF_OK) return st;
  if (out[0] == 0) {
    *agreed = rf__error(worst > 0 && worst < RF_STATUS_COUNT_ ? (rf_status)worst
                                                              : RF_ETASK,
                        "step '%s' failed on rank %d", ctx.step->name, out[1]);
  }
  return RF_OK;
}

rf_status rf_flow_step(rf_flow *flow, const rf_step *step,
                       const rf_value *arg) {
  rf_runtime *rt = flow->rt;
  RF_ENSURE(flow->ctx == NULL, RF_ESTATE,
            "rf_flow_step: only the flow runs steps, not a task's flow");
  RF_ENSURE(step != NULL && step->index < rt->reg.nsteps &&
                rt->reg.steps[step->index] == step,
            RF_EINVAL, "rf_flow_step: not a step of this runtime");
  if (rt->co->fatal != RF_OK) return rt->co->fatal; /* a rank is broken */
  if (rt->co->stop != RF_SIGNAL_NONE || rf__signal_requested() != RF_SIGNAL_NONE) {
    return rf__error(RF_ESTOPPED, "the job is stopping; step '%s' not run",
                     step->name);
  }
  rf_buf enc = {0};
  if (arg != NULL) RF_CHECK(rf__value_encode(arg, &enc));
  rf_status agreed = RF_OK;
  rf_status st = rf__coord_send_step(rt->co, step->index, enc.data, enc.len);
  if (st == RF_OK) st = rf__step_run(rt, step->index, enc.data, enc.len, &agreed);
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
