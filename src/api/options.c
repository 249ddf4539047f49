/* SPDX-License-Identifier: BSD-3-Clause */
/* options.c -- the command line every job shares, parsed in one place.
 *
 * A job describes its own flags in an rf_option table; the library's flags
 * live in a table of the same shape below. One parser reads both, one
 * printer makes --help from both, and an unknown flag or bad value is one
 * line naming it plus "see --help" (exit 2). Parsing happens before MPI is
 * initialised, so every rank reaches the same verdict without talking.
 */
#include "api.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int want_help, want_version;

static rf_status parse_level(const char *text, void *dest, char *err,
                             size_t errlen) {
  rf_lib_options *lib = dest;
  if (rf__log_level_parse(text, &lib->log_level) != RF_OK) {
    snprintf(err, errlen, "%s", rf_last_error());
    return RF_EUSAGE;
  }
  lib->log_level_set = 1;
  return RF_OK;
}

static rf_status parse_progress(const char *text, void *dest, char *err,
                                size_t errlen) {
  static const char *const modes[] = {"auto", "tty", "lines", "off"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(text, modes[i]) == 0) {
      ((rf_lib_options *)dest)->progress = i;
      return RF_OK;
    }
  }
  snprintf(err, errlen, "unknown mode '%s' (auto|tty|lines|off)", text);
  return RF_EUSAGE;
}

#define LIB_FLAGS 16

/* The library's flags; dest pointers are filled in by lib_table(). */
static void lib_table(rf_option t[LIB_FLAGS], rf_lib_options *lib) {
  memset(t, 0, LIB_FLAGS * sizeof *t);
  t[0] = (rf_option){"log-level", RF_OPT_CUSTOM, lib, "LEVEL",
                     "debug|info|warn|error (overrides RANKFLOW_LOG; "
                     "default info)",
                     parse_level, 0, 0};
  t[1] = (rf_option){"help", RF_OPT_FLAG, &want_help, NULL,
                     "show this help and exit (also -h)", NULL, 0, 0};
  t[2] = (rf_option){"version", RF_OPT_FLAG, &want_version, NULL,
                     "print the rankflow version and exit", NULL, 0, 0};
  t[3] = (rf_option){"progress", RF_OPT_CUSTOM, lib, "MODE",
                     "auto|tty|lines|off: tty redraws one line (auto picks "
                     "it when stderr is a terminal; under mpirun say tty), "
                     "lines prints one every interval",
                     parse_progress, 0, 0};
  t[4] = (rf_option){"progress-interval", RF_OPT_DOUBLE,
                     &lib->progress_interval, "SECONDS",
                     "time between progress lines", NULL, 0.01, 86400};
  t[5] = (rf_option){"quiet", RF_OPT_FLAG, &lib->quiet, NULL,
                     "no progress and no totals line (errors still show)",
                     NULL, 0, 0};
  t[6] = (rf_option){"report", RF_OPT_STRING, &lib->report, "FILE",
                     "write a JSON report of every task and attempt", NULL,
                     0, 0};
  t[7] = (rf_option){"timeline", RF_OPT_STRING, &lib->timeline, "FILE",
                     "write a static HTML timeline of every attempt", NULL,
                     0, 0};
  t[8] = (rf_option){"io-slots", RF_OPT_INT, &lib->io_slots, "N",
                     "I/O tasks (downloads, copies) a rank runs at once, "
                     "each on a thread that never calls MPI",
                     NULL, 1, 1024};
  t[9] = (rf_option){"journal", RF_OPT_STRING, &lib->journal, "FILE",
                     "record finished tasks in FILE; a rerun with the same "
                     "FILE resumes, running only what did not finish",
                     NULL, 0, 0};
  t[10] = (rf_option){"drain-grace", RF_OPT_DOUBLE, &lib->drain_grace,
                      "SECONDS",
                      "on SIGUSR1, how long running tasks may finish "
                      "(keep it below Slurm's KillWait)",
                      NULL, 0, 86400};
  t[11] = (rf_option){"isolate", RF_OPT_FLAG, &lib->isolate, NULL,
                      "run every task that is neither io nor parallel in a "
                      "task host, a process of its own: a crash ends the "
                      "attempt, not the job",
                      NULL, 0, 0};
  t[12] = (rf_option){"task-timeout", RF_OPT_DOUBLE, &lib->task_timeout,
                      "SECONDS",
                      "time limit of every attempt whose task sets none "
                      "(0: none)",
                      NULL, 0, 1e9};
  t[13] = (rf_option){"crash-limit", RF_OPT_INT, &lib->crash_limit, "N",
                      "a task whose attempts killed their task host N "
                      "times, counted across resumes, is not run again",
                      NULL, 1, 1000};
  t[14] = (rf_option){"retry-failed", RF_OPT_FLAG, &lib->retry_failed, NULL,
                      "with --journal: run again the tasks that reached "
                      "--crash-limit in an earlier run",
                      NULL, 0, 0};
}

static const rf_option *find(const rf_option *t, const char *name,
                             size_t len) {
  for (; t != NULL && t->name != NULL; t++) {
    if (strlen(t->name) == len && strncmp(t->name, name, len) == 0) return t;
  }
  return NULL;
}

static int in_range(const rf_option *o, double v) {
  return !(o->min < o->max) || (v >= o->min && v <= o->max);
}

/* Convert text for option o into its dest; reason into err on failure. */
static rf_status convert(const rf_option *o, const char *text, char *err,
                         size_t errlen) {
  char *end = NULL;
  errno = 0;
  switch (o->type) {
    case RF_OPT_FLAG:
      *(int *)o->dest = 1;
      return RF_OK;
    case RF_OPT_STRING:
      if (text[0] == '\0') {
        snprintf(err, errlen, "--%s needs a non-empty value", o->name);
        return RF_EUSAGE;
      }
      *(const char **)o->dest = text;
      return RF_OK;
    case RF_OPT_INT: {
      long long v = strtoll(text, &end, 10);
      if (errno != 0 || end == text || *end != '\0' || !in_range(o, (double)v)) {
        if (o->min < o->max) {
          snprintf(err, errlen, "--%s: '%s' is not an integer in %.0f..%.0f",
                   o->name, text, o->min, o->max);
        } else {
          snprintf(err, errlen, "--%s: '%s' is not an integer", o->name, text);
        }
        return RF_EUSAGE;
      }
      *(int64_t *)o->dest = (int64_t)v;
      return RF_OK;
    }
    case RF_OPT_DOUBLE: {
      double v = strtod(text, &end);
      if (errno != 0 || end == text || *end != '\0' || !isfinite(v) ||
          !in_range(o, v)) {
        if (o->min < o->max) {
          snprintf(err, errlen, "--%s: '%s' is not a number in %g..%g",
                   o->name, text, o->min, o->max);
        } else {
          snprintf(err, errlen, "--%s: '%s' is not a number", o->name, text);
        }
        return RF_EUSAGE;
      }
      *(double *)o->dest = v;
      return RF_OK;
    }
    case RF_OPT_CUSTOM: {
      char why[256] = "";
      if (o->parse(text, o->dest, why, sizeof why) != RF_OK) {
        snprintf(err, errlen, "--%s: %s", o->name,
                 why[0] ? why : "bad value");
        return RF_EUSAGE;
      }
      return RF_OK;
    }
  }
  snprintf(err, errlen, "--%s: unknown option type", o->name);
  return RF_EUSAGE;
}

static void print_default(const rf_option *o) {
  switch (o->type) {
    case RF_OPT_STRING:
      if (*(const char *const *)o->dest) {
        printf(" (default %s)", *(const char *const *)o->dest);
      }
      break;
    case RF_OPT_INT: /* INT64_MIN: "not given", no default to show */
      if (*(int64_t *)o->dest != INT64_MIN) {
        printf(" (default %" PRId64 ")", *(int64_t *)o->dest);
      }
      break;
    case RF_OPT_DOUBLE: printf(" (default %g)", *(double *)o->dest); break;
    case RF_OPT_FLAG:
    case RF_OPT_CUSTOM: break;
  }
}

static void print_table(const char *title, const rf_option *t) {
  if (t == NULL || t->name == NULL) return;
  printf("\n%s:\n", title);
  for (; t->name != NULL; t++) {
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", t->name, t->metavar ? " " : "",
             t->metavar ? t->metavar : "");
    /* A flag too long for the column gets a line of its own, so that it
     * never runs into its help (help2man reads this layout too). */
    if (strlen(left) > 26) {
      printf("  %s\n  %-26s %s", left, "", t->help ? t->help : "");
    } else {
      printf("  %-26s %s", left, t->help ? t->help : "");
    }
    print_default(t);
    printf("\n");
  }
}

static void print_help(const rf_cli *cli, const rf_option *lib) {
  printf("Usage: %s [options]\n", cli->name);
  if (cli->summary) printf("%s\n", cli->summary);
  print_table("Options", cli->options);
  print_table("Options of every rankflow program", lib);
  printf("\nRun with mpirun -np N or srun --mpi=pmix: rank 0 runs the flow, the "
         "other N-1\nranks run its tasks (with one rank, rank 0 runs them "
         "itself).\n"
         "Environment: RANKFLOW_LOG=debug|info|warn|error.\n"
         "Exit codes: 0 all tasks completed; 1 a task failed, crashed, timed "
         "out or was\nupstream-failed; 2 bad input; 3 internal error (MPI, "
         "I/O, memory); 75 stopped by\na signal or a drain (rerun with the "
         "same --journal to resume).\n");
}

static int usage_error(const rf_cli *cli, int print, const char *msg) {
  if (print) fprintf(stderr, "%s: %s; see --help\n", cli->name, msg);
  return RF_EXIT_USAGE;
}

int rf__options_parse(int argc, char **argv, const rf_cli *cli,
                      rf_lib_options *lib, int print, int check_outputs) {
  rf_option libt[LIB_FLAGS];
  char err[512];
  lib_table(libt, lib);
  want_help = want_version = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0) { /* the one short flag: what everyone tries */
      want_help = 1;
      continue;
    }
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
      snprintf(err, sizeof err, "unexpected argument '%s'", arg);
      return usage_error(cli, print, err);
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const rf_option *o = find(cli->options, name, len);
    if (o == NULL) o = find(libt, name, len);
    if (o == NULL) {
      snprintf(err, sizeof err, "unknown flag '--%.*s'", (int)len, name);
      return usage_error(cli, print, err);
    }
    const char *value = NULL;
    if (o->type == RF_OPT_FLAG) {
      if (eq) {
        snprintf(err, sizeof err, "--%s takes no value", o->name);
        return usage_error(cli, print, err);
      }
    } else if (eq) {
      value = eq + 1;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      snprintf(err, sizeof err, "--%s needs a value (%s)", o->name,
               o->metavar ? o->metavar : "VALUE");
      return usage_error(cli, print, err);
    }
    if (convert(o, value, err, sizeof err) != RF_OK) {
      return usage_error(cli, print, err);
    }
  }
  if (want_help) {
    if (print) print_help(cli, libt);
    return RF_EXIT_OK;
  }
  if (want_version) {
    if (print) printf("%s (rankflow %s)\n", cli->name, rf_version());
    return RF_EXIT_OK;
  }
  const char *outputs[3][2] = {{"--report", lib->report},
                               {"--timeline", lib->timeline},
                               {"--journal", lib->journal}};
  for (int i = 0; check_outputs && i < 3; i++) {
    if (outputs[i][1] == NULL) continue;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", outputs[i][1]);
    char *slash = strrchr(dir, '/');
    const char *d = slash == NULL ? "." : (slash == dir ? "/" : (*slash = '\0', dir));
    if (access(d, W_OK | X_OK) != 0) {
      snprintf(err, sizeof err, "%s: cannot create '%s': %s", outputs[i][0],
               outputs[i][1], strerror(errno));
      return usage_error(cli, print, err);
    }
    struct stat sb;
    if (stat(outputs[i][1], &sb) == 0 &&
        (S_ISDIR(sb.st_mode) || access(outputs[i][1], R_OK | W_OK) != 0)) {
      snprintf(err, sizeof err, "%s: cannot write '%s': %s", outputs[i][0],
               outputs[i][1],
               S_ISDIR(sb.st_mode) ? "is a directory" : strerror(errno));
      return usage_error(cli, print, err);
    }
  }
  if (cli->check != NULL) {
    char why[512] = "";
    if (cli->check(cli->user, why, sizeof why) != RF_OK) {
      return usage_error(cli, print, why[0] ? why : "bad input");
    }
  }
  return -1;
}

rf_value *rf__options_identity(const rf_cli *cli) {
  rf_value *map = rf_value_map();
  for (size_t i = 0; map != NULL && cli->identity && cli->identity[i]; i++) {
    const char *name = cli->identity[i];
    const rf_option *o = find(cli->options, name, strlen(name));
    char text[64];
    const char *v = text;
    if (o == NULL || o->type == RF_OPT_CUSTOM) {
      rf__error(RF_EINVAL, "identity names '%s', not a plain flag of %s",
                name, cli->name);
      rf_value_free(map);
      return NULL;
    }
    switch (o->type) {
      case RF_OPT_STRING:
        v = *(const char *const *)o->dest ? *(const char *const *)o->dest : "";
        break;
      case RF_OPT_INT:
        snprintf(text, sizeof text, "%" PRId64, *(int64_t *)o->dest);
        break;
      case RF_OPT_DOUBLE:
        snprintf(text, sizeof text, "%.17g", *(double *)o->dest);
        break;
      case RF_OPT_FLAG:
        snprintf(text, sizeof text, "%d", *(int *)o->dest);
        break;
      case RF_OPT_CUSTOM:
        break;
    }
    if (rf_value_map_set(map, name, rf_value_string(v)) != RF_OK) {
      rf_value_free(map);
      return NULL;
    }
  }
  return map;
}
