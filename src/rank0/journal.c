/* SPDX-License-Identifier: BSD-3-Clause */
/* journal.c -- the task journal (--journal FILE): resume after a stop.
 *
 * Jobs are preempted, hit their time limit or crash. With a journal, every
 * task that completes is appended to one file on rank 0 with its result,
 * keyed by the task key (a hash of the name and the argument, futures
 * replaced by their tasks' keys); a rerun with the same journal resolves
 * those futures from it instead of running the tasks again.
 *
 * Layout: "RFJOURNAL1\n", then records, each one write(2) so that a killed
 * process leaves whole records and at most a torn last one:
 *   u32 payload length (little-endian), u64 XXH3 of the payload, payload.
 * The first record's payload is a msgpack map naming the flow and its
 * identity (the job's flags that change what tasks compute or write) and
 * the format's version (2; version 1, rankflow 0.2's, had task records
 * only and is read as it is); a journal of another flow or identity, or of
 * a newer version, is refused (exit 2). Later payloads are 'T', the u64
 * key and the result's msgpack bytes (a completed task), or a mark: 'S'
 * (an attempt started alone: a resume runs a task started and never
 * completed in a task host, since it may be what killed the run), 'C' (an
 * attempt killed its task host), 'X' (the crash limit was reached: a
 * resume does not run it again unless --retry-failed) or 'P' (it submits
 * subtasks, so a resume never isolates it). A torn last record
 * is dropped (with a warning) and cut off before new ones are appended;
 * a bad record anywhere else means the file is not a journal we can trust
 * (exit 2). Records are fsynced at most a second apart and when the flow
 * ends or stops: a power cut may lose the last second, a killed process
 * nothing it wrote.
 *
 * Rank 0 keeps 24 bytes per record (key, offset, length) in an open-
 * addressing table and reads a result back only when a task asks, so a
 * flow of millions of tasks resumes in bounded memory. A key recorded
 * twice (identical submissions) is one record.
 */
#include "coord.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC "RFJOURNAL1\n"
#define MAGIC_LEN 11
#define FRAME 12                     /* length + checksum */
#define SYNC_INTERVAL_NS 1000000000ull
#define TASK_RECORD 'T'
#define VERSION 2

typedef struct {
  uint64_t key;
  uint64_t offset; /* of the result bytes; 0 marks an empty entry */
  uint32_t len;
} entry;

struct rf_journal {
  int fd;
  char *path;
  uint64_t end;      /* where the next record goes */
  entry *table;
  size_t cap, count; /* cap is a power of two */
  uint64_t last_sync_ns;
  int dirty;         /* records written since the last fsync */
};

/* ---- the key table ------------------------------------------------------- */

static entry *entry_for(entry *table, size_t cap, uint64_t key) {
  size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (cap - 1);
  while (table[i].offset != 0 && table[i].key != key) i = (i + 1) & (cap - 1);
  return &table[i];
}

static rf_status table_put(rf_journal *j, uint64_t key, uint64_t offset,
                           uint32_t len) {
  if ((j->count + 1) * 4 > j->cap * 3) {
    size_t cap = j->cap ? j->cap * 2 : 1024;
    entry *t = rf__calloc(cap, sizeof *t);
    if (t == NULL) return rf__error(RF_ENOMEM, "journal index");
    for (size_t i = 0; i < j->cap; i++) {
      if (j->table[i].offset != 0) {
        *entry_for(t, cap, j->table[i].key) = j->table[i];
      }
    }
    rf__free(j->table);
    j->table = t;
    j->cap = cap;
  }
  entry *e = entry_for(j->table, j->cap, key);
  if (e->offset == 0) j->count++;
  *e = (entry){key, offset, len};
  return RF_OK;
}

/* ---- reading ------------------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Read exactly len bytes at offset: 1 on success, 0 at a short read. */
static int read_at(int fd, void *buf, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, (uint8_t *)buf + done, len - done,
                      (off_t)(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    done += (size_t)n;
  }
  return 1;
}

/* The record at offset: 1 and its payload in buf; 0 when it is torn
 * (runs past the end of the file: a write cut short) or otherwise not
 * whole, with *bad = 1 when it cannot be a cut write (an impossible
 * length, a checksum that fails) and 2 on a read error or no memory. */
static int read_record(int fd, uint64_t offset, uint64_t size, rf_buf *buf,
                       int *bad) {
  uint8_t frame[FRAME];
  *bad = 0;
  if (offset + FRAME > size) return 0;
  if (!read_at(fd, frame, FRAME, offset)) return (*bad = 2), 0;
  uint32_t len = get_u32(frame);
  if (len > RF_MAX_VALUE + 64) return (*bad = 1), 0;
  if (offset + FRAME + len > size) return 0;
  buf->len = 0;
  if (rf__buf_reserve(buf, len) != RF_OK) return (*bad = 2), 0;
  if (!read_at(fd, buf->data, len, offset + FRAME)) return (*bad = 2), 0;
  buf->len = len;
  if (XXH3_64bits(buf->data, len) != get_u64(frame + 4)) return (*bad = 1), 0;
  return 1;
}

/* "--name value" for the first difference between identities a (the
 * file's) and b (this run's), into why. */
static void identity_diff(const rf_value *file, const rf_value *run, char *why,
                          size_t len) {
  for (size_t i = 0; i < rf_value_count(run); i++) {
    const char *name = rf_value_key(run, i), *want = "", *got = "(none)";
    (void)rf_value_get_string(rf_value_item(run, i), &want, NULL);
    const rf_value *v = rf_value_lookup(file, name);
    if (v != NULL) (void)rf_value_get_string(v, &got, NULL);
    if (v == NULL || strcmp(got, want) != 0) {
      snprintf(why, len, "it has --%s %s, this run --%s %s", name, got, name,
               want);
      return;
    }
  }
  snprintf(why, len, "its flags differ");
}

static rf_status check_header(rf_journal *j, const rf_buf *payload,
                              const char *flow, const rf_value *identity) {
  rf_value *h = NULL;
  const char *name = NULL;
  int64_t version = 0;
  if (rf__value_decode(payload->data, payload->len, &h) != RF_OK ||
      rf_value_get_string(rf_value_lookup(h, "flow"), &name, NULL) != RF_OK ||
      rf_value_get_int(rf_value_lookup(h, "rankflow_journal"), &version) !=
          RF_OK ||
      rf_value_lookup(h, "identity") == NULL) {
    rf_value_free(h);
    return rf__error(RF_EUSAGE, "--journal: '%s' has no journal header",
                     j->path);
  }
  rf_status st = RF_OK;
  const rf_value *id = rf_value_lookup(h, "identity");
  if (version < 1 || version > VERSION) {
    st = rf__error(RF_EUSAGE,
                   "--journal: '%s' is a version %lld journal; this rankflow "
                   "(%s) reads versions 1 and %d; give another file or "
                   "remove it",
                   j->path, (long long)version, RF_VERSION_STRING, VERSION);
  } else if (strcmp(name, flow) != 0) {
    st = rf__error(RF_EUSAGE,
                   "--journal: '%s' belongs to flow '%s', not '%s'; give "
                   "another file or remove it",
                   j->path, name, flow);
  } else if (!rf_value_equal(id, identity)) {
    char why[512];
    identity_diff(id, identity, why, sizeof why);
    st = rf__error(RF_EUSAGE,
                   "--journal: '%s' is from another run of %s (%s); give "
                   "another file or remove it",
                   j->path, flow, why);
  }
  rf_value_free(h);
  return st;
}

/* Index every record after the header; cut a torn tail. */
static rf_status load(rf_journal *j, uint64_t size, const char *flow,
                      const rf_value *identity, rf_marks *marks,
                      uint64_t *records) {
  rf_buf buf = {0};
  int bad;
  uint64_t at = MAGIC_LEN;
  rf_status st = RF_OK;
  *records = 0;
  if (!read_record(j->fd, at, size, &buf, &bad)) {
    rf__buf_free(&buf);
    return rf__error(RF_EUSAGE, "--journal: '%s' has a damaged header",
                     j->path);
  }
  st = check_header(j, &buf, flow, identity);
  at += FRAME + buf.len;
  while (st == RF_OK && at < size) {
    if (!read_record(j->fd, at, size, &buf, &bad)) {
      if (bad) {
        st = bad == 2 ? rf__error(RF_EIO, "journal %s: reading at byte %"
                                  PRIu64 ": %s", j->path, at, strerror(errno))
                      : rf__error(RF_EUSAGE,
                                  "--journal: '%s' is damaged at byte %" PRIu64,
                                  j->path, at);
        break;
      }
      rf__log(RF_LOG_WARN, NULL,
              "journal %s: dropping a torn last record (%" PRIu64
              " bytes at %" PRIu64 ": the run before ended mid-write)",
              j->path, size - at, at);
      if (ftruncate(j->fd, (off_t)at) != 0) {
        st = rf__error(RF_EIO, "journal %s: truncating: %s", j->path,
                       strerror(errno));
      }
      size = at;
      break;
    }
    int kind = buf.len >= 9 ? buf.data[0] : 0;
    if (kind == TASK_RECORD) {
      st = table_put(j, get_u64(buf.data + 1), at + FRAME + 9, buf.len - 9);
      (*records)++;
    } else if (buf.len == 9 && (kind == RF_JOURNAL_STARTED ||
                                kind == RF_JOURNAL_CRASHED ||
                                kind == RF_JOURNAL_CRASHED_FINAL ||
                                kind == RF_JOURNAL_PARENT)) {
      rf_mark *m;
      st = rf__marks_get(marks, get_u64(buf.data + 1), &m);
      if (st == RF_OK && kind == RF_JOURNAL_STARTED) m->started = 1;
      if (st == RF_OK && kind == RF_JOURNAL_CRASHED && m->crashes < UINT16_MAX) {
        m->crashes++;
      }
      if (st == RF_OK && kind == RF_JOURNAL_CRASHED_FINAL) m->final = 1;
      if (st == RF_OK && kind == RF_JOURNAL_PARENT) m->parent = 1;
    } else {
      st = rf__error(RF_EUSAGE, "--journal: '%s': unknown record at byte %"
                     PRIu64, j->path, at);
      break;
    }
    at += FRAME + buf.len;
  }
  j->end = at;
  rf__buf_free(&buf);
  return st;
}

/* ---- writing ------------------------------------------------------------- */

static rf_status write_record(rf_journal *j, const uint8_t *head, size_t hlen,
                              const uint8_t *body, size_t blen) {
  size_t len = hlen + blen;
  uint8_t *rec = rf__malloc(FRAME + len);
  if (rec == NULL) return rf__error(RF_ENOMEM, "journal record");
  memcpy(rec + FRAME, head, hlen);
  if (blen) memcpy(rec + FRAME + hlen, body, blen);
  put_u32(rec, (uint32_t)len);
  put_u64(rec + 4, XXH3_64bits(rec + FRAME, len));
  /* One write(2) per record: a kill leaves it whole or torn at the end,
   * never interleaved. pwrite at our own end keeps it in place even if
   * the file was cut. */
  ssize_t n;
  do {
    n = pwrite(j->fd, rec, FRAME + len, (off_t)j->end);
  } while (n < 0 && errno == EINTR);
  rf__free(rec);
  if (n != (ssize_t)(FRAME + len)) {
    return rf__error(RF_EIO, "journal %s: writing: %s", j->path,
                     n < 0 ? strerror(errno) : "short write");
  }
  j->end += FRAME + len;
  j->dirty = 1;
  return RF_OK;
}

rf_status rf__journal_sync(rf_journal *j) {
  if (j == NULL || !j->dirty) return RF_OK;
  j->dirty = 0;
  j->last_sync_ns = rf__mono_ns();
  if (fsync(j->fd) != 0) {
    return rf__error(RF_EIO, "journal %s: fsync: %s", j->path,
                     strerror(errno));
  }
  return RF_OK;
}

rf_status rf__journal_tick(rf_journal *j) {
  if (!j->dirty || rf__mono_ns() - j->last_sync_ns < SYNC_INTERVAL_NS) {
    return RF_OK;
  }
  return rf__journal_sync(j);
}

rf_status rf__journal_append(rf_journal *j, uint64_t key,
                             const uint8_t *result, size_t len) {
  entry *e = entry_for(j->table, j->cap, key);
  if (e->offset != 0) return RF_OK; /* identical task: one record */
  uint8_t head[9];
  head[0] = TASK_RECORD;
  put_u64(head + 1, key);
  uint64_t at = j->end;
  RF_CHECK(write_record(j, head, sizeof head, result, len));
  RF_CHECK(table_put(j, key, at + FRAME + sizeof head, (uint32_t)len));
  if (rf__mono_ns() - j->last_sync_ns >= SYNC_INTERVAL_NS) {
    return rf__journal_sync(j);
  }
  return RF_OK;
}

rf_status rf__journal_mark(rf_journal *j, int kind, uint64_t key) {
  if (j == NULL) return RF_OK;
  uint8_t rec[9];
  rec[0] = (uint8_t)kind;
  put_u64(rec + 1, key);
  RF_CHECK(write_record(j, rec, sizeof rec, NULL, 0));
  /* A start is the record that matters when this process dies next: it
   * reaches the file now (a kill keeps it; a power cut may not). */
  return rf__journal_tick(j);
}

int rf__journal_lookup(rf_journal *j, uint64_t key, rf_blob *out,
                       rf_status *err) {
  *err = RF_OK;
  if (j == NULL || j->count == 0) return 0;
  entry *e = entry_for(j->table, j->cap, key);
  if (e->offset == 0) return 0;
  uint8_t *buf = rf__malloc(e->len ? e->len : 1);
  if (buf == NULL) {
    *err = rf__error(RF_ENOMEM, "reading a journal record");
    return 0;
  }
  if (!read_at(j->fd, buf, e->len, e->offset)) {
    rf__free(buf);
    *err = rf__error(RF_EIO, "journal %s: reading a record: %s", j->path,
                     strerror(errno));
    return 0;
  }
  *err = rf__blob_set(out, buf, e->len);
  rf__free(buf);
  return *err == RF_OK;
}

/* ---- open and close ------------------------------------------------------ */

static rf_status write_header(rf_journal *j, const char *flow,
                              const rf_value *identity) {
  rf_buf b = {0};
  msgpack_packer pk;
  rf__buf_packer(&b, &pk);
  (void)msgpack_pack_map(&pk, 3);
  (void)msgpack_pack_str_with_body(&pk, "rankflow_journal", 16);
  (void)msgpack_pack_int(&pk, VERSION);
  (void)msgpack_pack_str_with_body(&pk, "flow", 4);
  (void)msgpack_pack_str_with_body(&pk, flow, strlen(flow));
  (void)msgpack_pack_str_with_body(&pk, "identity", 8);
  rf_status st = rf__value_pack(&pk, identity, RF_PACK_PLAIN, NULL);
  if (st == RF_OK && b.oom) st = rf__error(RF_ENOMEM, "journal header");
  if (st == RF_OK) {
    ssize_t n = pwrite(j->fd, MAGIC, MAGIC_LEN, 0);
    if (n != MAGIC_LEN) {
      st = rf__error(RF_EIO, "journal %s: writing: %s", j->path,
                     n < 0 ? strerror(errno) : "short write");
    }
  }
  j->end = MAGIC_LEN;
  if (st == RF_OK) st = write_record(j, b.data, b.len, NULL, 0);
  if (st == RF_OK) st = rf__journal_sync(j);
  rf__buf_free(&b);
  return st;
}

rf_status rf__journal_open(const char *path, const char *flow,
                           const rf_value *identity, rf_marks *marks,
                           uint64_t *records, rf_journal **out) {
  *out = NULL;
  *records = 0;
  rf_journal *j = rf__calloc(1, sizeof *j);
  if (j == NULL || (j->path = rf__strdup(path)) == NULL) {
    rf__free(j);
    return rf__error(RF_ENOMEM, "journal");
  }
  j->last_sync_ns = rf__mono_ns();
  rf_status st = RF_OK;
  j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (j->fd < 0) {
    st = rf__error(RF_EUSAGE, "--journal: cannot open '%s': %s", path,
                   strerror(errno));
  }
  struct stat sb;
  if (st == RF_OK && fstat(j->fd, &sb) != 0) {
    st = rf__error(RF_EIO, "--journal: '%s': %s", path, strerror(errno));
  }
  if (st == RF_OK && sb.st_size == 0) {
    st = write_header(j, flow, identity);
  } else if (st == RF_OK) {
    char magic[MAGIC_LEN];
    if (!read_at(j->fd, magic, MAGIC_LEN, 0) ||
        memcmp(magic, MAGIC, MAGIC_LEN) != 0) {
      st = rf__error(RF_EUSAGE, "--journal: '%s' is not a rankflow journal",
                     path);
    } else {
      st = load(j, (uint64_t)sb.st_size, flow, identity, marks, records);
    }
  }
  /* Table room from the start: lookups need no NULL check. */
  if (st == RF_OK && j->cap == 0) {
    j->table = rf__calloc(1024, sizeof *j->table);
    j->cap = 1024;
    if (j->table == NULL) st = rf__error(RF_ENOMEM, "journal index");
  }
  if (st != RF_OK) {
    rf__journal_close(j);
    return st;
  }
  *out = j;
  return RF_OK;
}

rf_status rf__journal_close(rf_journal *j) {
  if (j == NULL) return RF_OK;
  rf_status st = j->fd >= 0 ? rf__journal_sync(j) : RF_OK;
  if (j->fd >= 0 && close(j->fd) != 0 && st == RF_OK) {
    st = rf__error(RF_EIO, "journal %s: close: %s", j->path, strerror(errno));
  }
  rf__free(j->table);
  rf__free(j->path);
  rf__free(j);
  return st;
}
