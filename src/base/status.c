/* SPDX-License-Identifier: BSD-3-Clause */
/* status.c -- rf_status names and messages, the details of the last error,
 * and the names of task states.
 *
 * The names and messages are generated from RF_STATUS_MAP in rankflow.h so
 * they cannot drift from the enum. Details ("task 'x' is not registered")
 * live in a per-thread buffer: the status says what kind of failure it was,
 * rf_last_error() says which one; rf_error_set lets a job's own code say it
 * the same way.
 */
#include "base.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *rf_strerror(rf_status status) {
  switch (status) {
#define RF_STATUS_MSG_(name, msg) \
  case RF_##name:                 \
    return msg;
    RF_STATUS_MAP(RF_STATUS_MSG_)
#undef RF_STATUS_MSG_
    case RF_STATUS_COUNT_:
      break;
  }
  return "unknown status";
}

const char *rf_status_name(rf_status status) {
  switch (status) {
#define RF_STATUS_NAME_(name, msg) \
  case RF_##name:                  \
    return #name;
    RF_STATUS_MAP(RF_STATUS_NAME_)
#undef RF_STATUS_NAME_
    case RF_STATUS_COUNT_:
      break;
  }
  return "UNKNOWN";
}

const char *rf_last_error(void) { return last_error; }

void rf__error_clear(void) { last_error[0] = '\0'; }

rf_status rf_error_set(rf_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

const char *rf__describe(rf_status st, char *buf, size_t len) {
  const char *what = rf_strerror(st), *detail = last_error;
  size_t n = strlen(what);
  if (detail[0] == '\0') {
    snprintf(buf, len, "%s", what);
  } else if (strncmp(detail, what, n) == 0) {
    snprintf(buf, len, "%s", detail); /* the detail already says it */
  } else {
    snprintf(buf, len, "%s: %s", what, detail);
  }
  return buf;
}

const char *rf_state_name(rf_state state) {
  switch (state) {
    case RF_STATE_PENDING: return "pending";
    case RF_STATE_SCHEDULED: return "scheduled";
    case RF_STATE_RUNNING: return "running";
    case RF_STATE_COMPLETED: return "completed";
    case RF_STATE_FAILED: return "failed";
    case RF_STATE_CRASHED: return "crashed";
    case RF_STATE_CANCELLED: return "cancelled";
    case RF_STATE_UPSTREAM_FAILED: return "upstream-failed";
    case RF_STATE_TIMED_OUT: return "timed-out";
  }
  return "unknown";
}
