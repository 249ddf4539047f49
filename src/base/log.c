/* SPDX-License-Identifier: BSD-3-Clause */
/* log.c -- levelled log lines on stderr, tagged with rank and task key.
 *
 * Every rank writes to its own stderr and mpirun/srun merge them into one
 * stream, so each line is formatted in full and handed to one write(2):
 * lines from different ranks or I/O threads never interleave mid-line.
 * Format: "[rank 3] warn  square-0123456789abcdef: message".
 */
#include "base.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int log_rank = -1;
static rf_log_level log_level = RF_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void rf__log_setup(int rank, rf_log_level level) {
  log_rank = rank;
  log_level = level;
}

int rf__log_enabled(rf_log_level level) { return level >= log_level; }

rf_status rf__log_level_parse(const char *text, rf_log_level *out) {
  for (int i = 0; i < 4; i++) {
    if (strcmp(text, level_names[i]) == 0) {
      *out = (rf_log_level)i;
      return RF_OK;
    }
  }
  return rf__error(RF_EUSAGE, "unknown log level '%s' (debug|info|warn|error)",
                   text);
}

void rf__logv(rf_log_level level, const char *key, const char *fmt,
              va_list ap) {
  if (!rf__log_enabled(level)) return;
  char line[2048];
  int n;
  if (log_rank >= 0) {
    n = snprintf(line, sizeof line, "[rank %d] %-5s ", log_rank,
                 level_names[level]);
  } else {
    n = snprintf(line, sizeof line, "[rankflow] %-5s ", level_names[level]);
  }
  if (key != NULL && n < (int)sizeof line) {
    n += snprintf(line + n, sizeof line - (size_t)n, "%s: ", key);
  }
  if (n < (int)sizeof line) {
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  }
  if (n >= (int)sizeof line - 1) n = (int)sizeof line - 2; /* truncated */
  /* One line per write: strip a trailing newline the caller gave. */
  while (n > 0 && line[n - 1] == '\n') n--;
  line[n++] = '\n';
  ssize_t off = 0;
  while (off < n) {
    ssize_t w = write(STDERR_FILENO, line + off, (size_t)(n - off));
    if (w <= 0) break; /* nowhere to report a failing stderr */
    off += w;
  }
}

void rf__log(rf_log_level level, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rf__logv(level, key, fmt, ap);
  va_end(ap);
}

void rf_log(rf_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rf__logv(level, NULL, fmt, ap);
  va_end(ap);
}
