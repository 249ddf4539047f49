/* SPDX-License-Identifier: BSD-3-Clause */
/* group.c -- parallel tasks on their members: the communicator, and where
 * ranks live.
 *
 * A task registered with ranks = k runs on k workers at once, with a
 * communicator of exactly those ranks. Rank 0 picks the members (idle, on
 * one node when it can) and sends each the task; each member calls
 * rf__group_comm() to get the communicator, runs the function, and
 * reports its own outcome (rank 0 combines them). Communicators are made
 * with MPI_Comm_create_group over the members only, never a collective of
 * the whole job and never MPI_Comm_spawn, and kept in a small cache per
 * rank keyed by the member list, so a recurring group costs nothing after
 * its first task and 10,000 tasks leave at most CACHE_MAX behind (freed
 * at the end). Before every task the members meet by point-to-point
 * messages on a communicator of their own (never the one rank 0's
 * messages travel on), waiting with back-off: the meeting is where they
 * agree to reuse a cached communicator or make a new one, and whether
 * anyone saw a cancel. Nobody spins. (This file and transport.c are the
 * library's only point-to-point MPI; rank 0 and the workers use
 * transport.c, the members of a group only this.)
 *
 * The node layout is learned once at start-up: ranks that share memory
 * (MPI_COMM_TYPE_SHARED) are one node, or RANKFLOW_FAKE_NODES=n splits
 * the ranks into n pretend nodes of consecutive ranks (for tests on one
 * machine).
 */
#include "wire.h"

#include <stdlib.h>

#define CACHE_MAX 16
#define TAG_READY 1 /* member -> leader: here for task id */
#define TAG_GO 2    /* leader -> member: everyone is here */

typedef struct {
  int *ranks; /* sorted world ranks, NULL for an empty entry */
  int n;
  MPI_Comm comm;
  uint64_t used; /* for least-recently-used eviction */
} cached;

static cached cache[CACHE_MAX];
static uint64_t cache_clock;
static long comms_live; /* communicators this rank holds for groups */

long rf__group_comms_live(void) { return comms_live; }

static int same(const cached *c, const int *ranks, int n) {
  return c->ranks != NULL && c->n == n &&
         memcmp(c->ranks, ranks, (size_t)n * sizeof *ranks) == 0;
}

static void drop(cached *c) {
  if (c->ranks == NULL) return;
  if (MPI_Comm_free(&c->comm) == MPI_SUCCESS) comms_live--;
  rf__free(c->ranks);
  memset(c, 0, sizeof *c);
}

void rf__group_cache_free(void) {
  for (int i = 0; i < CACHE_MAX; i++) drop(&cache[i]);
}

/* Wait for one message (src, tag) on comm: [id, flag]; *flag gets the
 * second word. Gives up on a stop, or when abort(user) says so (rank 0
 * told this rank to stop: a member that will never come). */
static rf_status await(MPI_Comm comm, int src, int tag, uint64_t id,
                       uint64_t *flag, int (*abort)(void *), void *user) {
  rf_backoff bo;
  rf__backoff_reset(&bo);
  for (;;) {
    int here = 0;
    RF_CHECK_MPI(MPI_Iprobe(src, tag, comm, &here, MPI_STATUS_IGNORE));
    if (here) {
      uint64_t got[2];
      RF_CHECK_MPI(MPI_Recv(got, 2, MPI_UINT64_T, src, tag, comm,
                            MPI_STATUS_IGNORE));
      RF_ENSURE(got[0] == id, RF_ECODEC,
                "malformed message: rank %d met for task %llx, not %llx", src,
                (unsigned long long)got[0], (unsigned long long)id);
      *flag = got[1];
      return RF_OK;
    }
    if (rf__signal_requested() == RF_SIGNAL_STOP ||
        (abort != NULL && abort(user))) {
      return rf__error(RF_ESTOPPED, "stopped while a parallel task's "
                       "members met");
    }
    rf__backoff_wait(&bo, 0);
  }
}

#define HAVE_COMM 1u  /* READY/GO flag: holds (all hold) the communicator */
#define CANCELLED 2u  /* READY/GO flag: saw (someone saw) a cancel */

/* Every member here: the first member gathers READY (each saying whether
 * it holds the group's communicator and whether it saw a cancel), then
 * sends GO saying whether all hold it and whether anyone saw one. Caches
 * differ between ranks (each sees other groups), and a cancel reaches
 * members at different times: this is how they agree to reuse or make a
 * communicator, and to run the task or not, all alike. */
static rf_status meet(MPI_Comm c, int me, const int *ranks, int n,
                      uint64_t id, uint64_t mine, uint64_t *agreed,
                      int (*abort)(void *), void *user) {
  uint64_t msg[2] = {id, mine}, flag;
  if (ranks[0] == me) {
    for (int i = 1; i < n; i++) {
      RF_CHECK(await(c, ranks[i], TAG_READY, id, &flag, abort, user));
      msg[1] = (msg[1] & flag & HAVE_COMM) | ((msg[1] | flag) & CANCELLED);
    }
    for (int i = 1; i < n; i++) {
      RF_CHECK_MPI(MPI_Send(msg, 2, MPI_UINT64_T, ranks[i], TAG_GO, c));
    }
    *agreed = msg[1];
    return RF_OK;
  }
  RF_CHECK_MPI(MPI_Send(msg, 2, MPI_UINT64_T, ranks[0], TAG_READY, c));
  RF_CHECK(await(c, ranks[0], TAG_GO, id, &flag, abort, user));
  *agreed = flag;
  return RF_OK;
}

static rf_status create(MPI_Comm comm, const int *ranks, int n,
                        MPI_Comm *out) {
  MPI_Group world, g;
  RF_CHECK_MPI(MPI_Comm_group(comm, &world));
  int rc = MPI_Group_incl(world, n, ranks, &g);
  MPI_Group_free(&world);
  if (rc != MPI_SUCCESS) return rf__error_mpi(rc, "MPI_Group_incl");
  rc = MPI_Comm_create_group(comm, g, 0, out);
  MPI_Group_free(&g);
  if (rc != MPI_SUCCESS) return rf__error_mpi(rc, "MPI_Comm_create_group");
  comms_live++;
  if (MPI_Comm_set_errhandler(*out, MPI_ERRORS_RETURN) != MPI_SUCCESS) {
    return rf__error(RF_EMPI, "setting the task communicator's handler");
  }
  return RF_OK;
}

rf_status rf__group_comm(MPI_Comm comm, int me, const int *ranks, int n,
                         uint64_t id, int (*abort)(void *), void *user,
                         int *cancelled, MPI_Comm *out) {
  cached *c = NULL, *victim = &cache[0];
  for (int i = 0; i < CACHE_MAX; i++) {
    if (same(&cache[i], ranks, n)) c = &cache[i];
    if (cache[i].used < victim->used) victim = &cache[i];
  }
  /* Allocated before meeting: a failure after it would leave the other
   * members in the collective creation. */
  int *copy = c == NULL ? rf__malloc((size_t)n * sizeof *copy) : NULL;
  if (c == NULL && copy == NULL) return rf__error(RF_ENOMEM, "a task group");
  uint64_t agreed = 0;
  rf_status st = meet(comm, me, ranks, n, id,
                      (c != NULL ? HAVE_COMM : 0) | (*cancelled ? CANCELLED : 0),
                      &agreed, abort, user);
  if (st != RF_OK || (agreed & CANCELLED)) {
    rf__free(copy);
    *cancelled = (agreed & CANCELLED) != 0;
    *out = MPI_COMM_NULL;
    return st;
  }
  if (!(agreed & HAVE_COMM)) {
    /* Someone lacks it: everyone makes a new one (the members are all
     * here, so the collective creation does not spin). */
    if (c != NULL) {
      drop(c);
      victim = c;
      copy = rf__malloc((size_t)n * sizeof *copy);
      if (copy == NULL) return rf__error(RF_ENOMEM, "a task group");
    }
    memcpy(copy, ranks, (size_t)n * sizeof *copy);
    MPI_Comm made = MPI_COMM_NULL;
    st = create(comm, ranks, n, &made);
    if (st != RF_OK) {
      rf__free(copy);
      return st;
    }
    drop(victim); /* the least recently used group's communicator */
    c = victim;
    c->ranks = copy;
    c->n = n;
    c->comm = made;
  }
  c->used = ++cache_clock;
  *out = c->comm;
  return RF_OK;
}

/* ---- where ranks live --------------------------------------------------- */

rf_status rf__group_node(MPI_Comm comm, int rank, int size, int *node) {
  const char *fake = getenv("RANKFLOW_FAKE_NODES");
  if (fake != NULL && fake[0] != '\0') {
    char *end;
    long n = strtol(fake, &end, 10);
    RF_ENSURE(*end == '\0' && n >= 1 && n <= size, RF_EUSAGE,
              "RANKFLOW_FAKE_NODES=%s: want a count of nodes in 1..%d", fake,
              size);
    *node = (int)((long)rank * n / size);
    return RF_OK;
  }
  /* Called right after the ranks met at start-up: the collectives below
   * find everyone there and do not spin. */
  MPI_Comm shm;
  RF_CHECK_MPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank,
                                   MPI_INFO_NULL, &shm));
  int rc = MPI_Allreduce(&rank, node, 1, MPI_INT, MPI_MIN, shm);
  MPI_Comm_free(&shm);
  if (rc != MPI_SUCCESS) return rf__error_mpi(rc, "MPI_Allreduce(node)");
  return RF_OK;
}
