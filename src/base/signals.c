/* SPDX-License-Identifier: BSD-3-Clause */
/* signals.c -- SIGTERM/SIGINT (stop now) and SIGUSR1 (drain) as flags.
 *
 * Handlers are installed before MPI_Init because SIGUSR1's default action
 * kills the process and start-up takes ~0.4 s. A handler only records the
 * request; the coordinator and worker loops read it between steps, and
 * rf_ctx_cancelled() lets a running task see it. It also arms an alarm,
 * so that a task ignoring the request cannot keep the process past the
 * drain's grace (exec/watch.c handles SIGALRM).
 */
#include "base.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t requested = RF_SIGNAL_NONE;
/* Microseconds from a drain or stop signal to the alarm that abandons a
 * plain task still holding the main thread (exec/watch.c): a moment past
 * the drain's grace (rank 0 gives up on the task at the grace), or a
 * second for a stop. The launcher's tear-down comes after it. */
static volatile long drain_bound_us = 20300000, stop_bound_us = 1000000;

static void arm(long us) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = us / 1000000;
  it.it_value.tv_usec = us % 1000000;
  (void)setitimer(ITIMER_REAL, &it, NULL); /* a system call: signal-safe */
}

static void on_signal(int sig) {
  int want = (sig == SIGUSR1) ? RF_SIGNAL_DRAIN : RF_SIGNAL_STOP;
  if (want > requested) {
    requested = want;
    arm(want == RF_SIGNAL_DRAIN ? drain_bound_us : stop_bound_us);
  }
}

void rf__signals_bound(double drain_grace) {
  double us = (drain_grace + 0.3) * 1e6;
  drain_bound_us = us > 1e12 ? 1000000000000L : (long)us;
}

rf_status rf__signals_install(void) {
  static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* No SA_RESTART: a sleeping rank should wake up and look at the flag. */
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    if (sigaction(sigs[i], &sa, NULL) != 0) {
      return rf__error(RF_EIO, "sigaction(%s): %s", strsignal(sigs[i]),
                       strerror(errno));
    }
  }
  return RF_OK;
}

void rf__signals_let_stop(void) {
  (void)signal(SIGTERM, SIG_DFL);
  (void)signal(SIGINT, SIG_DFL);
}

void rf__signals_default(void) {
  arm(0);
  (void)signal(SIGTERM, SIG_DFL);
  (void)signal(SIGINT, SIG_DFL);
  (void)signal(SIGUSR1, SIG_DFL);
}

int rf__signal_requested(void) { return requested; }
