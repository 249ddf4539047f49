/* SPDX-License-Identifier: BSD-3-Clause */
/* step.c -- a collective step on this rank: meet, run, agree.
 *
 * Parallel HDF5 creates, flushes and closes files collectively, so a flow
 * that writes one needs every rank at the same point. Tasks cannot do it
 * (a task runs on one worker, and MPI is one thread's), so the library
 * offers steps: rank 0 sends the step to every worker (rank0/coordinator.c),
 * each worker enters it when its current task returns (worker/worker.c),
 * and every rank runs it here: all meet on a communicator of their own
 * (collectives there never match rankflow's point-to-point messages), run
 * the function, and agree on whether every rank succeeded. Meeting and
 * agreeing use non-blocking collectives polled with back-off: Open MPI's
 * blocking ones spin, and these machines run more ranks than cores.
 */
#include "exec.h"

#include <string.h>

struct rf_step_ctx {
  rf_runtime *rt;
  const rf_step *step;
  rf_value *arg;
};

MPI_Comm rf_step_comm(const rf_step_ctx *ctx) { return ctx->rt->step_comm; }
int rf_step_rank(const rf_step_ctx *ctx) { return ctx->rt->rank; }
int rf_step_size(const rf_step_ctx *ctx) { return ctx->rt->size; }
const rf_value *rf_step_arg(const rf_step_ctx *ctx) { return ctx->arg; }
rf_runtime *rf_step_runtime(const rf_step_ctx *ctx) { return ctx->rt; }

rf_status rf__step_run(rf_runtime *rt, uint32_t index, const uint8_t *arg,
                       size_t len, rf_status *agreed) {
  *agreed = RF_OK;
  const rf_step *step = rf__registry_step_at(&rt->reg, index);
  RF_ENSURE(step != NULL, RF_ECODEC,
            "malformed message: step %u is not registered", index);
  rf_step_ctx ctx = {rt, step, NULL};
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
