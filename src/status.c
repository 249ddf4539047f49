/* status.c -- rf_status names and messages, and the details of the last error.
 *
 * The names and messages are generated from RF_STATUS_MAP in rankflow.h so
 * they cannot drift from the enum. Details ("task 'x' is not registered")
 * live in a per-thread buffer: the status says what kind of failure it was,
 * rf_last_error() says which one.
 */
#include "rf_internal.h"

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

rf_status rf__error(rf_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return st;
}

rf_status rf__error_mpi(int mpi_rc, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpi_rc, msg, &len) != MPI_SUCCESS) {
    snprintf(msg, sizeof msg, "MPI error %d", mpi_rc);
  }
  /* Only the call's name, not its arguments: the message must stay short. */
  const char *paren = strchr(what, '(');
  int namelen = paren ? (int)(paren - what) : (int)strlen(what);
  return rf__error(RF_EMPI, "%.*s: %s", namelen, what, msg);
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
