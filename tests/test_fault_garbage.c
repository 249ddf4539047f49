/* SPDX-License-Identifier: BSD-3-Clause */
/* test_fault_garbage.c -- a malformed message on either side ends the job
 * with exit 3 and one message naming the rank and the problem, never a
 * crash or a hang. --to worker: the flow sends a forged batch to rank 1;
 * --to coordinator: a task on a worker sends forged results to rank 0.
 * Uses the runtime's internals to forge the bytes. */
#include <stdlib.h>

#include "exec/exec.h"
#include "rf_test.h"

static const char *to = "worker";
static rf_task *forge;
static rf_runtime *runtime;

/* An array that claims 4 billion tasks in a few bytes, then junk. */
static const uint8_t garbage[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc1, 0x00};

static rf_status forge_fn(rf_ctx *ctx) {
  (void)ctx;
  if (MPI_Send(garbage, sizeof garbage, MPI_BYTE, 0, RF_TAG_RESULTS,
               runtime->comm) != MPI_SUCCESS) {
    return rf_ctx_fail(ctx, RF_FAIL_PERMANENT, "MPI_Send failed");
  }
  return RF_OK;
}

static void reg(rf_runtime *rt) {
  runtime = rt;
  CHECK_OK(rf_task_register(rt, "forge", forge_fn, NULL, &forge));
}

static rf_status flow(rf_flow *flow, void *user) {
  (void)user;
  rf_future *f;
  if (strcmp(to, "worker") == 0) {
    if (MPI_Send(garbage, sizeof garbage, MPI_BYTE, 1, RF_TAG_WORK,
                 runtime->comm) != MPI_SUCCESS) {
      return RF_EMPI;
    }
  }
  REQUIRE_OK(rf_submit(flow, forge, NULL, &f));
  rf_status st = rf_future_wait(f, 60);
  CHECK(st == RF_EPEER || st == RF_ECODEC);
  rf_future_release(f);
  return st;
}

int main(int argc, char **argv) {
  /* The direction comes from the environment: rf_init owns the flags. */
  const char *env = getenv("FORGE_TO");
  if (env != NULL) to = env;
  return rf_test_run(argc, argv, "test_fault_garbage", reg, flow, NULL, 3);
}
