/* SPDX-License-Identifier: BSD-3-Clause */
/* runtime.c -- init, run and finalize: the life of a rankflow process.
 *
 * rf_init parses the command line before MPI exists (so --help, --version
 * and usage errors leave at once, the same on every rank), installs the
 * signal handlers, then initialises MPI on private communicators with
 * errors returned rather than fatal. rf_run checks that every rank holds
 * the same task registry, runs the flow on rank 0 (rank0/) and the worker
 * loop elsewhere (worker/), and makes all ranks leave together with rank
 * 0's exit code.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "api.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* The launcher's rank, read before MPI exists, so that only rank 0 prints
 * help and usage errors. */
static int launcher_rank(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK",
                                     "PMI_RANK", "SLURM_PROCID"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v != NULL && v[0] != '\0') return atoi(v);
  }
  return 0;
}

/* Open MPI aborts inside MPI_Init when srun started it without a PMI it
 * speaks (srun --mpi=none, or a cluster whose MpiDefault is none): twenty
 * lines about building Open MPI, then exit 1, before rankflow can say a
 * word. Debian's Open MPI connects only through PMIx, so say the fix
 * first, in one line. A PMIx or PMI-2 launch sets one of these variables,
 * and so does mpirun (its own PMIx server), even inside an srun step. */
static int srun_without_pmi(void) {
#ifdef OPEN_MPI
  static const char *const vars[] = {"PMIX_RANK", "PMI_FD", "PMI_RANK",
                                     "OMPI_COMM_WORLD_RANK"};
  if (getenv("SLURM_STEP_ID") == NULL) return 0;
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    if (getenv(vars[i]) != NULL) return 0;
  }
  return 1;
#else
  return 0;
#endif
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* The file this program runs from, for task hosts, found now (the working
 * directory may change later). Usually /proc/self/exe; under valgrind that
 * is valgrind's tool, so when its name is not the program's, argv[0] is
 * followed (through PATH when it has no slash). */
static char *program_file(const char *argv0) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  if (argv0 == NULL || argv0[0] == '\0' ||
      (self[0] != '\0' && strcmp(base_name(self), base_name(argv0)) == 0)) {
    return self[0] != '\0' ? rf__strdup(self) : NULL;
  }
  char found[PATH_MAX];
  if (strchr(argv0, '/') != NULL) {
    if (realpath(argv0, found) != NULL && access(found, X_OK) == 0) {
      return rf__strdup(found);
    }
  } else {
    const char *path = getenv("PATH");
    while (path != NULL && *path != '\0') {
      const char *end = strchr(path, ':');
      size_t len = end ? (size_t)(end - path) : strlen(path);
      char cand[PATH_MAX];
      snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? path : ".",
               argv0);
      if (access(cand, X_OK) == 0 && realpath(cand, found) != NULL) {
        return rf__strdup(found);
      }
      path = end ? end + 1 : NULL;
    }
  }
  return self[0] != '\0' ? rf__strdup(self) : NULL;
}

/* In a task host: "FD:RANK:SIZE:PARENT" from the worker that started it.
 * 1 when this process is one. */
static int host_spec(int *fd, int *rank, int *size, long *parent) {
  const char *v = getenv(RF_HOST_ENV);
  return v != NULL && sscanf(v, "%d:%d:%d:%ld", fd, rank, size, parent) == 4 &&
         *fd >= 0 && *rank >= 0 && *size > 0;
}

/* rf_init of a task host: the job's flags as on its worker, no MPI, no
 * handlers (the worker signals it; srun's SIGUSR1 to every process of the
 * step is the worker's to act on), and death with the worker. */
static int init_host(rf_runtime **out, int argc, char **argv,
                     const rf_cli *cli, rf_lib_options *lib, int fd,
                     int rank, int size, long parent) {
  int code = rf__options_parse(argc, argv, cli, lib, 0, 0);
  if (code >= 0) return code ? code : RF_EXIT_INTERNAL;
  (void)signal(SIGUSR1, SIG_IGN);
  (void)signal(SIGPIPE, SIG_IGN);
#ifdef __linux__
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
#endif
  if ((long)getppid() != parent) return RF_EXIT_INTERNAL; /* already gone */
  rf__log_setup(rank, lib->log_level);
  rf__clock_setup();
  rf__value_set_future_hooks(&rf__flow_future_hooks);
  rf_runtime *rt = calloc(1, sizeof *rt);
  if (rt == NULL) return RF_EXIT_INTERNAL;
  rt->prog = cli->name;
  rt->comm = rt->step_comm = rt->group_comm = MPI_COMM_NULL;
  rt->rank = rank;
  rt->size = size;
  rt->host_fd = fd;
  rt->opts = *lib;
  rt->argc = argc;
  rt->argv = argv;
  rt->flow.rt = rt;
  rt->flow.ops = &rf__rank0_flow_ops;
  *out = rt;
  return RF_EXIT_OK;
}

int rf_init(rf_runtime **out, int argc, char **argv, const rf_cli *cli) {
  static const rf_cli no_cli = {0};
  rf_lib_options lib = {RF_LOG_INFO, 0,    RF_PROGRESS_AUTO, 10.0,
                        0,           NULL, NULL,             RF_IO_SLOTS_DEFAULT,
                        NULL,        20.0, 0, 0.0,
                        RF_CRASH_LIMIT_DEFAULT, 0};
  *out = NULL;
  if (cli == NULL) cli = &no_cli;
  /* Messages name the program as it was invoked (installed, the timeseries
   * job is rankflow-timeseries-summary; built, timeseries_summary), while
   * the journal keeps cli->name, the flow's name, so both resume one
   * journal. */
  const char *invoked =
      argc > 0 && argv[0] != NULL && argv[0][0] != '\0' ? base_name(argv[0])
                                                       : NULL;
  const char *flow_name = cli->name ? cli->name : invoked ? invoked : "rankflow";
  rf_cli shown = *cli;
  shown.name = invoked ? invoked : flow_name;
  cli = &shown;
  int hfd, hrank, hsize;
  long hparent;
  if (host_spec(&hfd, &hrank, &hsize, &hparent)) {
    return init_host(out, argc, argv, cli, &lib, hfd, hrank, hsize, hparent);
  }
  int print = launcher_rank() == 0;
  const char *env = getenv("RANKFLOW_LOG");
  if (env != NULL && env[0] != '\0' &&
      rf__log_level_parse(env, &lib.log_level) != RF_OK) {
    if (print) {
      fprintf(stderr, "%s: RANKFLOW_LOG: %s; see --help\n", cli->name,
              rf_last_error());
    } else {
      rf__sleep(1.0); /* as below: let rank 0 print first */
    }
    return RF_EXIT_USAGE;
  }
  int code = rf__options_parse(argc, argv, cli, &lib, print, 1);
  if (code > 0 && !print) {
    /* mpirun kills every rank as soon as one exits non-zero: give rank 0
     * the time to print the one line that explains the exit. */
    rf__sleep(1.0);
  }
  if (code >= 0) return code;
  rf__log_setup(-1, lib.log_level);
  rf__clock_setup();
  rf__value_set_future_hooks(&rf__flow_future_hooks);
  if (rf__signals_install() != RF_OK) {
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
    return RF_EXIT_INTERNAL;
  }

  if (srun_without_pmi()) {
    if (print) {
      fprintf(stderr,
              "%s: started by srun without PMIx (srun --mpi=none, or the "
              "cluster's MpiDefault), which this Open MPI cannot join: run "
              "srun --mpi=pmix %s\n",
              cli->name, argc > 0 ? argv[0] : cli->name);
    } else {
      rf__sleep(1.0); /* let rank 0 print first */
    }
    return RF_EXIT_INTERNAL;
  }

  rf_runtime *rt = calloc(1, sizeof *rt);
  if (rt == NULL) {
    rf__log(RF_LOG_ERROR, NULL, "out of memory");
    return RF_EXIT_INTERNAL;
  }
  rt->prog = flow_name;
  rt->comm = MPI_COMM_NULL;
  rt->host_fd = -1;
  rt->exe = program_file(argc > 0 ? argv[0] : NULL);
  if (lib.journal != NULL && (rt->identity = rf__options_identity(cli)) == NULL) {
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
    rf__free(rt->exe);
    free(rt);
    return RF_EXIT_INTERNAL;
  }
  int provided = MPI_THREAD_SINGLE;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS) {
    rf__log(RF_LOG_ERROR, NULL, "MPI_Init_thread failed%s",
            getenv("SLURM_JOB_ID") != NULL
                ? " (under Slurm: start with srun --mpi=pmix)"
                : "");
    rf__free(rt->exe);
    free(rt);
    return RF_EXIT_INTERNAL;
  }
  rt->mpi_ok = 1;
  rt->thread_level = provided;
  rf_status st = RF_OK;
  MPI_Request req;
  if (provided < MPI_THREAD_FUNNELED) {
    st = rf__error(RF_EMPI, "MPI gave thread level %d, below FUNNELED",
                   provided);
  }
  /* Errors come back as codes on our communicator, not as aborts. */
  if (st == RF_OK &&
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN) !=
          MPI_SUCCESS) {
    st = rf__error(RF_EMPI, "MPI_Comm_set_errhandler failed");
  }
  /* The ranks start at different times: wait for all without spinning
   * before the collective dup, which would spin. */
  if (st == RF_OK) {
    int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
    st = rc == MPI_SUCCESS ? rf__wait_request(&req)
                           : rf__error_mpi(rc, "MPI_Ibarrier");
  }
  rt->step_comm = rt->group_comm = MPI_COMM_NULL;
  if (st == RF_OK) {
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &rt->comm);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_dup(MPI_COMM_WORLD, &rt->step_comm);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_dup(MPI_COMM_WORLD, &rt->group_comm);
    if (rc != MPI_SUCCESS) st = rf__error_mpi(rc, "MPI_Comm_dup");
  }
  if (st == RF_OK &&
      (MPI_Comm_set_errhandler(rt->comm, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
       MPI_Comm_rank(rt->comm, &rt->rank) != MPI_SUCCESS ||
       MPI_Comm_size(rt->comm, &rt->size) != MPI_SUCCESS)) {
    st = rf__error(RF_EMPI, "setting up the rankflow communicator failed");
  }
  if (st == RF_OK &&
      MPI_Comm_set_errhandler(rt->group_comm, MPI_ERRORS_RETURN) != MPI_SUCCESS) {
    st = rf__error(RF_EMPI, "setting up the group communicator failed");
  }
  if (st == RF_OK) st = rf__group_node(rt->comm, rt->rank, rt->size, &rt->node);
  if (st != RF_OK) {
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
    MPI_Abort(MPI_COMM_WORLD, RF_EXIT_INTERNAL);
    return RF_EXIT_INTERNAL;
  }
  rf__log_setup(rt->rank, lib.log_level);
  rf__signals_bound(lib.drain_grace);
  if (rf__watch_install(rt->rank, lib.drain_grace) != RF_OK) {
    rf__log(RF_LOG_ERROR, NULL, "%s", rf_last_error());
    MPI_Abort(MPI_COMM_WORLD, RF_EXIT_INTERNAL);
    return RF_EXIT_INTERNAL;
  }
  rt->opts = lib;
  rt->argc = argc;
  rt->argv = argv;
  rt->flow.rt = rt;
  rt->flow.ops = &rf__rank0_flow_ops;
  *out = rt;
  return RF_EXIT_OK;
}

const char *rf_version(void) { return RF_VERSION_STRING; }

int rf_runtime_rank(const rf_runtime *rt) { return rt->rank; }
void rf_journal_reset(rf_runtime *rt) { rt->journal_reset = 1; }
const char *rf_journal_path(const rf_runtime *rt) { return rt->opts.journal; }
int rf_runtime_size(const rf_runtime *rt) { return rt->size; }

/* What each rank tells the others at start-up. */
typedef struct {
  uint64_t fingerprint;
  uint64_t ntasks;
  uint64_t status;
  uint64_t node;
} startup_info;

/* Compare registries and start-up errors across ranks; every rank reaches
 * the same verdict. Rank 0 names the difference. */
static int startup_check(rf_runtime *rt, rf_status local) {
  startup_info mine = {rf__registry_fingerprint(&rt->reg), rt->reg.count,
                       (uint64_t)local, (uint64_t)rt->node};
  startup_info *all = calloc((size_t)rt->size, sizeof *all);
  if (all == NULL) return -RF_EXIT_INTERNAL;
  MPI_Request req;
  int rc = MPI_Iallgather(&mine, 4, MPI_UINT64_T, all, 4, MPI_UINT64_T,
                          rt->comm, &req);
  if (rc != MPI_SUCCESS || rf__wait_request(&req) != RF_OK) {
    free(all);
    rf__log(RF_LOG_ERROR, NULL, "start-up check: MPI_Iallgather failed");
    return -RF_EXIT_INTERNAL;
  }
  int code = RF_EXIT_OK;
  for (int r = 0; r < rt->size; r++) {
    if (all[r].status == RF_EUSAGE) {
      /* Bad input found at start-up (a journal of another run): exit 2
       * with the one line that names it. */
      if (rt->rank == r) {
        rf__log(RF_LOG_ERROR, NULL, "%s; see --help", rf_last_error());
      }
      if (code == RF_EXIT_OK) code = RF_EXIT_USAGE;
    } else if (all[r].status != RF_OK) {
      if (rt->rank == r) {
        char msg[1200];
        rf__log(RF_LOG_ERROR, NULL, "start-up failed: %s",
                rf__describe(local, msg, sizeof msg));
      }
      code = RF_EXIT_INTERNAL;
    } else if (all[r].fingerprint != all[0].fingerprint ||
               all[r].ntasks != all[0].ntasks) {
      if (rt->rank == 0) {
        rf__log(RF_LOG_ERROR, NULL,
                "%s: rank 0 has %llu tasks (fingerprint %016llx), rank %d "
                "has %llu (fingerprint %016llx); are two different builds "
                "running in one job?",
                rf_strerror(RF_EREGISTRY), (unsigned long long)all[0].ntasks,
                (unsigned long long)all[0].fingerprint, r,
                (unsigned long long)all[r].ntasks,
                (unsigned long long)all[r].fingerprint);
      }
      code = RF_EXIT_INTERNAL;
    }
  }
  if (code == RF_EXIT_OK && rt->rank == 0) {
    rt->nodes = calloc((size_t)rt->size, sizeof *rt->nodes);
    if (rt->nodes == NULL) code = RF_EXIT_INTERNAL;
    for (int r = 0; rt->nodes != NULL && r < rt->size; r++) {
      rt->nodes[r] = (int)all[r].node;
    }
  }
  free(all);
  return code;
}

int rf_run(rf_runtime *rt, rf_flow_fn flow, void *user) {
  rf_status local = RF_OK;
  if (rt->ran) {
    local = rf__error(RF_ESTATE, "rf_run called twice");
  } else if (flow == NULL) {
    local = rf__error(RF_EINVAL, "rf_run: no flow function");
  }
  rt->ran = 1;
  rt->reg.closed = 1;
  if (rt->host_fd >= 0) {
    if (local != RF_OK) return RF_EXIT_INTERNAL;
    rf__host_serve(rt); /* never returns */
  }
  int limits = rt->opts.task_timeout > 0;
  for (size_t i = 0; i < rt->reg.count; i++) {
    limits |= rt->reg.tasks[i]->opts.timeout > 0;
  }
  if (local == RF_OK && limits) local = rf__watch_limits();
  if (local == RF_OK && rt->rank == 0) local = rf__coord_create(rt, &rt->co);
  int code = startup_check(rt, local);
  if (code == RF_EXIT_OK && rt->rank == 0) rf__coord_set_nodes(rt->co, rt->nodes);
  if (code == RF_EXIT_OK) {
    if (rt->rank == 0) {
      rf__error_clear();
      rf_status st = flow(&rt->flow, user);
      code = rf__coord_finish_flow(rt->co, st);
    } else {
      code = rf__worker_run(rt);
    }
  }
  rf__log(RF_LOG_DEBUG, NULL, "leaving with exit code %d", code);
  /* A stopped job's work is saved: if a rank never reaches the barrier (a
   * task that ignored the drain left its process), the launcher tears the
   * job down, and its SIGTERM should end us now, not after its SIGKILL. */
  if (code == RF_EXIT_STOPPED) rf__signals_let_stop();
  if (code < 0 || rf__barrier(rt->comm) != RF_OK) {
    rt->mpi_ok = 0; /* the ranks cannot leave together: abort */
    return RF_EXIT_INTERNAL;
  }
  return code;
}

int rf_finalize(rf_runtime *rt, int exit_code) {
  if (rt == NULL) return exit_code;
  if (rt->host_fd >= 0) { /* a task host that never served: no MPI */
    rf__registry_free(&rt->reg);
    free(rt);
    return exit_code;
  }
  rf__coord_free(rt->co);
  /* An I/O task that ignored its cancel may still read its context (the
   * runtime, the registry): those stay until the process exits. */
  if (!rf__iopool_stuck()) {
    rf__registry_free(&rt->reg);
    rf_value_free(rt->identity);
    rt->identity = NULL;
  }
  if (!rt->mpi_ok) {
    free(rt->nodes);
    rf__free(rt->exe);
    free(rt);
    MPI_Abort(MPI_COMM_WORLD, RF_EXIT_INTERNAL);
    return RF_EXIT_INTERNAL;
  }
  rf__group_cache_free();
  int bad = rt->comm != MPI_COMM_NULL && MPI_Comm_free(&rt->comm) != MPI_SUCCESS;
  bad |= rt->step_comm != MPI_COMM_NULL &&
         MPI_Comm_free(&rt->step_comm) != MPI_SUCCESS;
  bad |= rt->group_comm != MPI_COMM_NULL &&
         MPI_Comm_free(&rt->group_comm) != MPI_SUCCESS;
  free(rt->nodes);
  rf__free(rt->exe);
  rt->exe = NULL;
  if (!rf__iopool_stuck()) free(rt);
  rf__log(RF_LOG_DEBUG, NULL, "left together; finalizing MPI");
  /* When a rank leaves with a non-zero code, mpirun (and srun with
   * --kill-on-bad-exit) starts killing the others, which may be waiting in
   * MPI_Finalize for a launcher that no longer answers. Every rank's work is
   * done once the final barrier has passed, so let that SIGTERM end the
   * process now rather than catch it and wait for SIGKILL. */
  if (exit_code != RF_EXIT_OK) rf__signals_default();
  bad |= MPI_Finalize() != MPI_SUCCESS;
  rf__log(RF_LOG_DEBUG, NULL, "MPI finalized");
  if (bad) {
    rf__log(RF_LOG_ERROR, NULL, "MPI_Finalize failed");
    return exit_code == RF_EXIT_OK ? RF_EXIT_INTERNAL : exit_code;
  }
  return exit_code;
}
