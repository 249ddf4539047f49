/* SPDX-License-Identifier: BSD-3-Clause */
/* signals.c -- SIGTERM/SIGINT (stop now) and SIGUSR1 (drain) as flags.
 *
 * Handlers are installed before MPI_Init because SIGUSR1's default action
 * kills the process and start-up takes ~0.4 s. A handler only records the
 * request; the coordinator and worker loops read it between steps, and
 * rf_ctx_cancelled() lets a running task see it.
 */
#include "base.h"

#include <errno.h>
#include <string.h>

static volatile sig_atomic_t requested = RF_SIGNAL_NONE;

static void on_signal(int sig) {
  int want = (sig == SIGUSR1) ? RF_SIGNAL_DRAIN : RF_SIGNAL_STOP;
  if (want > requested) requested = want;
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

void rf__signals_default(void) {
  (void)signal(SIGTERM, SIG_DFL);
  (void)signal(SIGINT, SIG_DFL);
  (void)signal(SIGUSR1, SIG_DFL);
}

int rf__signal_requested(void) { return requested; }
