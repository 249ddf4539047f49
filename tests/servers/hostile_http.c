/* SPDX-License-Identifier: BSD-3-Clause */
/* hostile_http.c -- a tiny HTTP/1.1 test server that misbehaves on request.
 *
 * Download tests need a server that is slow, flaky, truncating, lying or
 * broken on cue, without touching the network. This one binds 127.0.0.1 on
 * an ephemeral port (never another address), prints "port=<n>" on stdout,
 * and lets the URL path pick the misbehaviour, as curl's own test servers
 * do (curl tests/server/sws.c). One thread and one poll() loop over
 * non-blocking sockets: a stalled or dripping connection never holds up
 * another. Requests are bounded (8 KiB of request line and headers, 64
 * headers); a malformed one gets 400 and close. It stops on SIGTERM, SIGINT
 * or SIGHUP (exit 0) and by itself after --max-seconds (default 300), so a
 * test that loses track of it cannot leave it running. A test tool only:
 * not linked into rankflow, and it never opens an outgoing connection.
 *
 * Bodies are generated PNGs of exactly ?size=N bytes (default 30000):
 * signature, IHDR, a tEXt filler chunk to hit N, one IDAT holding a grey
 * gradient as stored (uncompressed) deflate blocks, IEND. They decode as
 * real images. Chunk CRCs and the zlib Adler-32 come from zlib's crc32()
 * and adler32() rather than our own copies.
 *
 * Paths. Leading prefix segments choose the behaviour; whatever follows is
 * ignored, so a job can append its own path to a base URL such as
 * http://127.0.0.1:N/delay/500. Modifiers may be chained before the rest:
 *   /delay/MS/...      wait MS ms (0..600000) before answering (adds up)
 *   /key/KEY/...       count this request under KEY (see /count)
 *   /flaky/N/KEY/...   count under KEY; requests 1..N get 503, later ones
 *                      are served by the rest of the path
 *   /redirect/N/...    302 to .../redirect/N-1/...; at 0 the rest is served
 *   /when/TEXT/...     the rest applies only when TEXT occurs later in the
 *                      path; other paths get the PNG (one month misbehaves)
 * Terminal behaviours:
 *   /ok/... (or any other path)  200 with the PNG
 *   /drip/BPS/...      the PNG at BPS bytes per second (1..100000000)
 *   /stall/...         headers and half the PNG, then silence until the
 *                      client leaves
 *   /close-mid/...     headers and half the PNG, then close (FIN)
 *   /reset/...         headers and half the PNG, then reset (RST)
 *   /short/...         the whole valid PNG, but Content-Length claims 1000
 *                      bytes more, then close: only the transfer error shows
 *   /long/...          Content-Length of the PNG, the PNG, then 1000 extra
 *                      bytes, then close
 *   /huge/...          Content-Length 10 GiB, half the PNG (at most 64 KiB),
 *                      then close
 *   /no-iend/...       200, the PNG without its final IEND chunk
 *   /html/...          200, a text/html page (a PNG-less 200)
 *   /status/CODE/...   CODE (200..599) with a short text body; 429 and 503
 *                      carry Retry-After (?retry-after=S, default 1)
 *   /redirect-loop/... 302 to itself, forever
 *   /redirect-file/... 302 to file:///etc/passwd (clients must refuse)
 *   /bad-length/...    200 with "Content-Length: none", then the PNG, close
 *   /garbage/...       bytes that are not HTTP at all, then close
 *   /count/KEY         text/plain: requests counted under KEY, e.g. "3\n"
 * Query: size=N (PNG bytes, 256..67108864), retry-after=S; others ignored.
 * Methods GET and HEAD (others: 405). Complete responses keep the
 * connection alive (HTTP/1.1); the truncating and lying ones close it.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ------------------------------------------------------------------------
 * Limits and types
 * ---------------------------------------------------------------------- */

#define IN_MAX 8192            /* request line + headers, bytes */
#define MAX_HEADERS 64
#define MAX_METHOD 16
#define MAX_CONN 256           /* beyond this, accept() waits */
#define READ_TIMEOUT_MS 10000  /* idle time allowed while awaiting a request */
#define LINGER_MS 2000         /* drain time after our FIN */
#define PNG_DEFAULT 30000
#define PNG_MIN 256
#define PNG_MAX (64 << 20)
#define PNG_WIDTH 128
#define PNG_CACHE 16
#define PNG_CACHE_BYTES (256 << 20)
#define EXTRA_BYTES 1000       /* /short claims them, /long sends them */
#define HUGE_LENGTH 10737418240LL
#define HUGE_SENT 65536
#define MAX_DELAY_MS 600000
#define MAX_BPS 100000000
#define MAX_REDIRECTS 1000
#define MAX_KEYS 256
#define KEY_MAX 63

typedef enum {
  ST_READ,   /* awaiting (more of) a request */
  ST_WAIT,   /* response built, held back until 'due' (/delay) */
  ST_SEND,   /* sending head and body, dripped when drip_bps > 0 */
  ST_STALL,  /* will send nothing more; discards input until EOF */
  ST_LINGER, /* our side shut down; drains input until EOF or 'due' */
} conn_state;

/* What happens once a response is fully sent. */
typedef enum {
  END_KEEP,  /* read the next request on the same connection */
  END_CLOSE, /* FIN, drain, close */
  END_RESET, /* abortive close: RST */
  END_STALL, /* stay open, silent */
} conn_end;

typedef struct {
  int fd;
  int dead;          /* closed; removed from the table after this round */
  int parse_pending; /* ST_READ with buffered bytes not yet examined */
  int want_out;      /* ST_SEND blocked on the socket, not on the drip */
  conn_state st;
  int64_t due; /* ms deadline of the current state; 0 = none */
  char in[IN_MAX];
  size_t in_len;
  size_t req_len; /* bytes of 'in' taken by the request being answered */
  int code;       /* status sent, for --verbose */
  char *head;
  size_t head_len, head_off;
  const unsigned char *body; /* cached or body_owned */
  unsigned char *body_owned;
  size_t body_len, body_off;
  int64_t drip_bps, drip_t0;
  conn_end end;
} conn;

typedef struct {
  char method[MAX_METHOD + 1];
  const char *target; /* in the parse scratch buffer */
  int head_only;
  int keep_alive;
} request;

static volatile sig_atomic_t got_signal;
static int sig_pipe[2] = {-1, -1};
static int verbose;
static conn *conns[MAX_CONN];
static int nconns;
static struct pollfd pfds[MAX_CONN + 2];

static struct {
  char key[KEY_MAX + 1];
  long long n;
} counters[MAX_KEYS];
static int ncounters;

static struct {
  size_t size;
  unsigned char *data;
} png_cache[PNG_CACHE];
static int npng;
static size_t png_cache_bytes;

static const char usage[] =
    "usage: hostile_http [--max-seconds N] [--verbose] [--help]\n"
    "\n"
    "A tiny HTTP/1.1 test server on 127.0.0.1 whose URL path picks how it\n"
    "misbehaves. Listens on an ephemeral port and prints \"port=<n>\" on\n"
    "stdout. Exits 0 on SIGTERM/SIGINT/SIGHUP or after --max-seconds.\n"
    "\n"
    "  --max-seconds N  exit after N seconds (1..86400, default 300)\n"
    "  --verbose        log each request on stderr\n"
    "  --help           this text\n"
    "\n"
    "Paths (prefixes; the rest of the path is ignored). Modifiers, chainable:\n"
    "  /delay/MS/...      wait MS ms (0..600000) before answering\n"
    "  /key/KEY/...       count this request under KEY\n"
    "  /flaky/N/KEY/...   count under KEY; requests 1..N get 503, later\n"
    "                     ones are served by the rest of the path\n"
    "  /redirect/N/...    302 to .../redirect/N-1/...; at 0 serve the rest\n"
    "  /when/TEXT/...     the rest only for paths naming TEXT later; others\n"
    "                     get the PNG\n"
    "Behaviours:\n"
    "  /ok/... (any other path)  200 with a valid PNG\n"
    "  /drip/BPS/...      the PNG at BPS bytes per second\n"
    "  /stall/...         headers and half the PNG, then silence\n"
    "  /close-mid/...     headers and half the PNG, then close (FIN)\n"
    "  /reset/...         headers and half the PNG, then reset (RST)\n"
    "  /short/...         whole PNG, Content-Length 1000 bytes too big, close\n"
    "  /long/...          PNG plus 1000 bytes beyond Content-Length, close\n"
    "  /huge/...          Content-Length 10 GiB, half the PNG sent, close\n"
    "  /no-iend/...       200, PNG missing its IEND chunk\n"
    "  /html/...          200, text/html page\n"
    "  /status/CODE/...   CODE (200..599); 429 and 503 carry Retry-After\n"
    "  /redirect-loop/... 302 to itself, forever\n"
    "  /redirect-file/... 302 to file:///etc/passwd\n"
    "  /bad-length/...    200 with an unparsable Content-Length\n"
    "  /garbage/...       non-HTTP bytes, then close\n"
    "  /count/KEY         text: requests counted under KEY so far\n"
    "Query: size=N (PNG bytes, 256..67108864, default 30000),\n"
    "       retry-after=S (default 1).\n";

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

static void die(const char *what) {
  fprintf(stderr, "hostile_http: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int64_t mono_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime");
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sets O_NONBLOCK and FD_CLOEXEC on fd. Returns 0, or -1 with errno. */
static int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -1;
  return 0;
}

static void on_signal(int sig) {
  int saved = errno;
  got_signal = sig;
  unsigned char b = 1;
  ssize_t r = write(sig_pipe[1], &b, 1);
  (void)r; /* a full pipe already holds a pending wake-up */
  errno = saved;
}

/* Parses s[0..n) as a decimal in [lo, hi]: digits only, no sign, no
 * spaces. Returns 0 and *out, or -1. */
static int parse_num(const char *s, size_t n, long long lo, long long hi,
                     long long *out) {
  if (n == 0 || n > 18) return -1;
  long long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int seg_is(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Next '/'-separated segment of [*p, end), collapsing repeated slashes.
 * Returns 1 with *s and *n and *p just past it, or 0 at the end. */
static int next_seg(const char **p, const char *end, const char **s,
                    size_t *n) {
  const char *q = *p;
  while (q < end && *q == '/') q++;
  *p = q;
  if (q == end) return 0;
  *s = q;
  while (q < end && *q != '/') q++;
  *n = (size_t)(q - *s);
  *p = q;
  return 1;
}

static const char *reason(int code) {
  switch (code) {
  case 200: return "OK";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 410: return "Gone";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "Status";
  }
}

/* ------------------------------------------------------------------------
 * Counters (/key, /flaky, /count)
 * ---------------------------------------------------------------------- */

static int key_ok(const char *s, size_t n) {
  if (n == 0 || n > KEY_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

/* The counter for key s[0..n) (a valid key), created at 0 when 'create'.
 * Returns NULL when absent and not created, or when the table is full. */
static long long *counter(const char *s, size_t n, int create) {
  for (int i = 0; i < ncounters; i++) {
    if (strlen(counters[i].key) == n && memcmp(counters[i].key, s, n) == 0)
      return &counters[i].n;
  }
  if (!create || ncounters == MAX_KEYS) return NULL;
  memcpy(counters[ncounters].key, s, n);
  counters[ncounters].key[n] = '\0';
  counters[ncounters].n = 0;
  return &counters[ncounters++].n;
}

/* ------------------------------------------------------------------------
 * PNG bodies
 * ---------------------------------------------------------------------- */

#define PNG_FIXED (8 + 25 + 12 + 12) /* signature, IHDR, IDAT framing, IEND */
#define TEXT_MIN (12 + 8)            /* tEXt framing + "Comment\0" */
#define STORED_MAX 65535             /* bytes per stored deflate block */

static size_t zlib_stored_len(size_t raw) {
  size_t blocks = raw == 0 ? 1 : (raw + STORED_MAX - 1) / STORED_MAX;
  return 2 + raw + 5 * blocks + 4;
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* Frames the chunk whose data (len bytes) is already at p + o + 8.
 * Returns the offset just past it. */
static size_t chunk_close(unsigned char *p, size_t o, const char *type,
                          size_t len) {
  put32(p + o, (uint32_t)len);
  memcpy(p + o + 4, type, 4);
  uLong crc = crc32(0L, p + o + 4, (uInt)(len + 4));
  put32(p + o + 8 + len, (uint32_t)crc);
  return o + 12 + len;
}

/* Byte i of the raw (filtered) image: a filter byte 0 per row, then a
 * deterministic grey pattern. */
static unsigned char raw_byte(size_t i) {
  size_t row = i / (PNG_WIDTH + 1), col = i % (PNG_WIDTH + 1);
  if (col == 0) return 0;
  size_t x = col - 1;
  return (unsigned char)(((x + row) * 7) ^ (x * row >> 3));
}

/* A valid greyscale PNG of exactly n bytes (PNG_MIN <= n <= PNG_MAX).
 * Returns a malloc'd buffer, or NULL when out of memory. */
static unsigned char *png_make(size_t n) {
  size_t row = PNG_WIDTH + 1;
  size_t h = (n - PNG_FIXED) / row;
  while (h > 1 && PNG_FIXED + zlib_stored_len(h * row) > n) h--;
  size_t pad = n - PNG_FIXED - zlib_stored_len(h * row);
  if (pad > 0 && pad < TEXT_MIN) { /* too small for a chunk: one row less */
    h--;
    pad = n - PNG_FIXED - zlib_stored_len(h * row);
  }
  unsigned char *p = malloc(n);
  if (p == NULL) return NULL;
  memcpy(p, "\x89PNG\r\n\x1a\n", 8);
  size_t o = 8;

  unsigned char *d = p + o + 8;
  put32(d, PNG_WIDTH);
  put32(d + 4, (uint32_t)h);
  d[8] = 8;  /* bit depth */
  d[9] = 0;  /* colour type: greyscale */
  d[10] = 0; /* deflate */
  d[11] = 0; /* adaptive filtering */
  d[12] = 0; /* no interlace */
  o = chunk_close(p, o, "IHDR", 13);

  if (pad > 0) {
    size_t len = pad - 12;
    static const char fill[] = "hostile_http filler ";
    d = p + o + 8;
    memcpy(d, "Comment", 8); /* keyword and its NUL */
    for (size_t i = 8; i < len; i++) d[i] = (unsigned char)fill[i % 20];
    o = chunk_close(p, o, "tEXt", len);
  }

  size_t raw = h * row, zlen = zlib_stored_len(raw);
  d = p + o + 8;
  d[0] = 0x78; /* deflate, 32 KiB window */
  d[1] = 0x01; /* check bits: 0x7801 % 31 == 0 */
  size_t z = 2;
  uLong adler = adler32(0L, Z_NULL, 0);
  size_t done = 0;
  do {
    size_t b = raw - done < STORED_MAX ? raw - done : STORED_MAX;
    d[z] = (unsigned char)(done + b == raw); /* BFINAL, BTYPE 00 */
    d[z + 1] = (unsigned char)b;
    d[z + 2] = (unsigned char)(b >> 8);
    d[z + 3] = (unsigned char)~b;
    d[z + 4] = (unsigned char)(~b >> 8);
    z += 5;
    for (size_t i = 0; i < b; i++) d[z + i] = raw_byte(done + i);
    adler = adler32(adler, d + z, (uInt)b);
    z += b;
    done += b;
  } while (done < raw);
  put32(d + z, (uint32_t)adler);
  z += 4;
  if (z != zlen) abort(); /* invariant of zlib_stored_len */
  o = chunk_close(p, o, "IDAT", zlen);

  o = chunk_close(p, o, "IEND", 0);
  if (o != n) abort(); /* invariant of the size arithmetic above */
  return p;
}

/* The PNG of n bytes: cached (borrowed, *owned left NULL) while the cache
 * has room, else freshly made and handed over in *owned. NULL when out of
 * memory. */
static const unsigned char *png_get(size_t n, unsigned char **owned) {
  *owned = NULL;
  for (int i = 0; i < npng; i++)
    if (png_cache[i].size == n) return png_cache[i].data;
  unsigned char *p = png_make(n);
  if (p == NULL) return NULL;
  if (npng < PNG_CACHE && png_cache_bytes + n <= PNG_CACHE_BYTES) {
    png_cache[npng].size = n;
    png_cache[npng++].data = p;
    png_cache_bytes += n;
  } else {
    *owned = p;
  }
  return p;
}

/* ------------------------------------------------------------------------
 * Connections
 * ---------------------------------------------------------------------- */

static void conn_reset_response(conn *c) {
  free(c->head);
  free(c->body_owned);
  c->head = NULL;
  c->body_owned = NULL;
  c->body = NULL;
  c->head_len = c->head_off = c->body_len = c->body_off = 0;
  c->drip_bps = c->drip_t0 = 0;
  c->want_out = 0;
}

static void conn_close(conn *c) {
  if (c->dead) return;
  if (close(c->fd) != 0 && verbose)
    fprintf(stderr, "hostile_http: close: %s\n", strerror(errno));
  c->fd = -1;
  c->dead = 1;
}

/* Installs a response on c: status line and headers built here, body
 * borrowed ('owned' == NULL) or taken. clen < 0 omits Content-Length.
 * 'extra' holds further header lines, each ending in CRLF. Returns 0, or -1
 * when out of memory (owned is freed either way). */
static int respond(conn *c, const request *rq, int code, const char *ctype,
                   const char *extra, long long clen,
                   const unsigned char *body, size_t body_len,
                   unsigned char *owned, conn_end end) {
  if (end == END_KEEP && !rq->keep_alive) end = END_CLOSE;
  size_t cap = 256 + strlen(ctype) + strlen(extra);
  char *h = malloc(cap);
  if (h == NULL) {
    free(owned);
    return -1;
  }
  char cl[48] = "";
  if (clen >= 0) snprintf(cl, sizeof cl, "Content-Length: %lld\r\n", clen);
  int n = snprintf(h, cap,
                   "HTTP/1.1 %d %s\r\nServer: hostile_http\r\n"
                   "Content-Type: %s\r\n%sConnection: %s\r\n%s\r\n",
                   code, reason(code), ctype, cl,
                   end == END_KEEP ? "keep-alive" : "close", extra);
  if (n < 0 || (size_t)n >= cap) abort(); /* cap covers every format */
  c->code = code;
  c->head = h;
  c->head_len = (size_t)n;
  c->body = body;
  c->body_owned = owned;
  c->body_len = rq->head_only ? 0 : body_len;
  c->end = end;
  return 0;
}

/* A short text/plain body "CODE Reason\n" (or 'text' when given). */
static int respond_text(conn *c, const request *rq, int code,
                        const char *text, const char *extra, conn_end end) {
  char buf[128];
  if (text == NULL) {
    snprintf(buf, sizeof buf, "%d %s\n", code, reason(code));
    text = buf;
  }
  size_t len = strlen(text);
  unsigned char *b = malloc(len + 1);
  if (b == NULL) return -1;
  memcpy(b, text, len + 1);
  int bodyless = code == 204 || code == 304;
  return respond(c, rq, code, "text/plain", extra,
                 bodyless ? -1 : (long long)len, b, bodyless ? 0 : len, b,
                 end);
}

/* ------------------------------------------------------------------------
 * Routing: the URL path picks the behaviour
 * ---------------------------------------------------------------------- */

static const char html_page[] =
    "<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>\n"
    "<body><h1>Down for maintenance</h1>\n"
    "<p>The image you asked for is not available right now.</p>\n"
    "</body></html>\n";

static const unsigned char garbage[] =
    "\x00\x01\x02\xff\xfe\xfd SSH-2.0-not-http \x1b[31m\x7f"
    "\r\n\x00garbage garbage garbage\r\n\r\n\x89\x00\x00";

/* Parses the query string q (after '?', may be NULL). Returns 0, or -1
 * for a malformed value of a parameter we read. */
static int parse_query(const char *q, long long *size, long long *retry) {
  while (q != NULL && *q != '\0') {
    const char *amp = strchr(q, '&');
    size_t n = amp ? (size_t)(amp - q) : strlen(q);
    if (n > 5 && memcmp(q, "size=", 5) == 0) {
      if (parse_num(q + 5, n - 5, PNG_MIN, PNG_MAX, size) != 0) return -1;
    } else if (n > 12 && memcmp(q, "retry-after=", 12) == 0) {
      if (parse_num(q + 12, n - 12, 0, 86400, retry) != 0) return -1;
    }
    q = amp ? amp + 1 : NULL;
  }
  return 0;
}

/* Builds the response for rq and sets *delay_ms. Returns 0, or -1 when
 * out of memory (the connection is then dropped). */
static int route(conn *c, const request *rq, int64_t *delay_ms) {
  const char *t = rq->target;
  const char *qm = strchr(t, '?');
  const char *end = qm ? qm : t + strlen(t);
  const char *query = qm ? qm : "";
  long long size = PNG_DEFAULT, retry = 1;
  *delay_ms = 0;
  if (parse_query(qm ? qm + 1 : NULL, &size, &retry) != 0)
    return respond_text(c, rq, 400, "bad query (size 256..67108864)\n", "",
                        END_CLOSE);

  const char *p = t, *s;
  size_t n;
  for (;;) {
    if (!next_seg(&p, end, &s, &n)) break; /* plain path: the PNG */
    const char *a = NULL, *a2 = NULL;      /* arguments */
    size_t an = 0, a2n = 0;
    long long v = 0;
    int takes = seg_is(s, n, "delay") || seg_is(s, n, "key") ||
                seg_is(s, n, "flaky") || seg_is(s, n, "redirect") ||
                seg_is(s, n, "drip") || seg_is(s, n, "status") ||
                seg_is(s, n, "count") || seg_is(s, n, "when");
    if (takes && !next_seg(&p, end, &a, &an))
      return respond_text(c, rq, 400, "missing path argument\n", "",
                          END_CLOSE);
    if (seg_is(s, n, "flaky") && !next_seg(&p, end, &a2, &a2n))
      return respond_text(c, rq, 400, "missing flaky key\n", "", END_CLOSE);

    if (seg_is(s, n, "when")) {
      /* The rest applies only to paths that name TEXT later on (say, one
       * month of a download job); the others get the PNG. */
      if (memmem(p, (size_t)(end - p), a, an) == NULL) break;
      continue;
    }
    if (seg_is(s, n, "delay")) {
      if (parse_num(a, an, 0, MAX_DELAY_MS, &v) != 0)
        return respond_text(c, rq, 400, "bad delay\n", "", END_CLOSE);
      *delay_ms += v;
      if (*delay_ms > MAX_DELAY_MS) *delay_ms = MAX_DELAY_MS;
      continue;
    }
    if (seg_is(s, n, "key") || seg_is(s, n, "flaky")) {
      const char *k = a;
      size_t kn = an;
      if (seg_is(s, n, "flaky")) {
        if (parse_num(a, an, 0, 1000000, &v) != 0)
          return respond_text(c, rq, 400, "bad flaky count\n", "",
                              END_CLOSE);
        k = a2;
        kn = a2n;
      }
      if (!key_ok(k, kn))
        return respond_text(c, rq, 400, "bad key ([A-Za-z0-9._-]{1,63})\n",
                            "", END_CLOSE);
      long long *cnt = counter(k, kn, 1);
      if (cnt == NULL)
        return respond_text(c, rq, 500, "counter table full\n", "",
                            END_CLOSE);
      ++*cnt;
      if (seg_is(s, n, "flaky") && *cnt <= v)
        return respond_text(c, rq, 503, NULL, "", END_KEEP);
      continue;
    }
    if (seg_is(s, n, "redirect")) {
      if (parse_num(a, an, 0, MAX_REDIRECTS, &v) != 0)
        return respond_text(c, rq, 400, "bad redirect count\n", "",
                            END_CLOSE);
      if (v == 0) continue;
      /* Location: same prefix, count minus one, same rest and query. */
      size_t cap = strlen(t) + 64;
      char *loc = malloc(cap);
      if (loc == NULL) return -1;
      snprintf(loc, cap, "Location: %.*sredirect/%lld%.*s%s\r\n",
               (int)(s - t), t, v - 1, (int)(end - p), p, query);
      int r = respond_text(c, rq, 302, NULL, loc, END_KEEP);
      free(loc);
      return r;
    }
    if (seg_is(s, n, "redirect-loop")) {
      size_t cap = strlen(t) + 32;
      char *loc = malloc(cap);
      if (loc == NULL) return -1;
      snprintf(loc, cap, "Location: %s\r\n", t);
      int r = respond_text(c, rq, 302, NULL, loc, END_KEEP);
      free(loc);
      return r;
    }
    if (seg_is(s, n, "redirect-file"))
      return respond_text(c, rq, 302, NULL,
                          "Location: file:///etc/passwd\r\n", END_KEEP);
    if (seg_is(s, n, "status")) {
      if (parse_num(a, an, 200, 599, &v) != 0)
        return respond_text(c, rq, 400, "bad status (200..599)\n", "",
                            END_CLOSE);
      char extra[64] = "";
      if (v == 429 || v == 503)
        snprintf(extra, sizeof extra, "Retry-After: %lld\r\n", retry);
      return respond_text(c, rq, (int)v, NULL, extra, END_KEEP);
    }
    if (seg_is(s, n, "count")) {
      if (!key_ok(a, an))
        return respond_text(c, rq, 400, "bad key ([A-Za-z0-9._-]{1,63})\n",
                            "", END_CLOSE);
      long long *cnt = counter(a, an, 0);
      char buf[32];
      snprintf(buf, sizeof buf, "%lld\n", cnt ? *cnt : 0LL);
      return respond_text(c, rq, 200, buf, "", END_KEEP);
    }
    if (seg_is(s, n, "html")) {
      return respond(c, rq, 200, "text/html; charset=utf-8", "",
                     (long long)strlen(html_page),
                     (const unsigned char *)html_page, strlen(html_page),
                     NULL, END_KEEP);
    }
    if (seg_is(s, n, "garbage")) {
      /* Not even a status line: the whole reply is the "head". */
      char *h = malloc(sizeof garbage);
      if (h == NULL) return -1;
      memcpy(h, garbage, sizeof garbage);
      c->code = 0;
      c->head = h;
      c->head_len = sizeof garbage;
      c->end = END_CLOSE;
      return 0;
    }

    /* The remaining behaviours all serve (part of) the PNG. */
    unsigned char *owned = NULL;
    const unsigned char *png = png_get((size_t)size, &owned);
    if (png == NULL) return -1;
    size_t len = (size_t)size;
    if (seg_is(s, n, "drip")) {
      if (parse_num(a, an, 1, MAX_BPS, &v) != 0) {
        free(owned);
        return respond_text(c, rq, 400, "bad bytes per second\n", "",
                            END_CLOSE);
      }
      c->drip_bps = v;
      return respond(c, rq, 200, "image/png", "", (long long)len, png, len,
                     owned, END_KEEP);
    }
    if (seg_is(s, n, "stall"))
      return respond(c, rq, 200, "image/png", "", (long long)len, png,
                     len / 2, owned, END_STALL);
    if (seg_is(s, n, "close-mid"))
      return respond(c, rq, 200, "image/png", "", (long long)len, png,
                     len / 2, owned, END_CLOSE);
    if (seg_is(s, n, "reset"))
      return respond(c, rq, 200, "image/png", "", (long long)len, png,
                     len / 2, owned, END_RESET);
    if (seg_is(s, n, "short"))
      return respond(c, rq, 200, "image/png", "",
                     (long long)len + EXTRA_BYTES, png, len, owned,
                     END_CLOSE);
    if (seg_is(s, n, "long")) {
      unsigned char *b = malloc(len + EXTRA_BYTES);
      if (b == NULL) {
        free(owned);
        return -1;
      }
      memcpy(b, png, len);
      memset(b + len, 'X', EXTRA_BYTES);
      free(owned);
      return respond(c, rq, 200, "image/png", "", (long long)len, b,
                     len + EXTRA_BYTES, b, END_CLOSE);
    }
    if (seg_is(s, n, "huge"))
      return respond(c, rq, 200, "image/png", "", HUGE_LENGTH, png,
                     len / 2 < HUGE_SENT ? len / 2 : HUGE_SENT, owned,
                     END_CLOSE);
    if (seg_is(s, n, "no-iend"))
      return respond(c, rq, 200, "image/png", "", (long long)len - 12, png,
                     len - 12, owned, END_KEEP);
    if (seg_is(s, n, "bad-length"))
      return respond(c, rq, 200, "image/png",
                     "Content-Length: none\r\n", -1, png, len, owned,
                     END_CLOSE);
    /* "ok" and any other path. */
    return respond(c, rq, 200, "image/png", "", (long long)len, png, len,
                   owned, END_KEEP);
  }
  unsigned char *owned = NULL;
  const unsigned char *png = png_get((size_t)size, &owned);
  if (png == NULL) return -1;
  return respond(c, rq, 200, "image/png", "", size, png, (size_t)size, owned,
                 END_KEEP);
}

/* ------------------------------------------------------------------------
 * Request parsing
 * ---------------------------------------------------------------------- */

/* Length of the header block in b[0..n) up to and including the empty
 * line (CRLF CRLF, or bare LF LF), or 0 when not complete yet. */
static size_t header_end(const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (b[i] != '\n') continue;
    if (i + 1 < n && b[i + 1] == '\n') return i + 2;
    if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n') return i + 3;
  }
  return 0;
}

static int is_tchar(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') ||
         (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Whether the comma-separated header value v lists token 'tok'. */
static int lists_token(const char *v, const char *tok) {
  size_t tn = strlen(tok);
  while (*v != '\0') {
    while (*v == ' ' || *v == '\t' || *v == ',') v++;
    size_t n = 0;
    while (v[n] != '\0' && v[n] != ',') n++;
    size_t m = n;
    while (m > 0 && (v[m - 1] == ' ' || v[m - 1] == '\t')) m--;
    if (m == tn && strncasecmp(v, tok, tn) == 0) return 1;
    v += n;
  }
  return 0;
}

/* Parses the NUL-terminated header block buf (modified in place) into rq.
 * Returns 0, or the status to refuse it with (400, 405, 505). */
static int parse_request(char *buf, request *rq) {
  memset(rq, 0, sizeof *rq);
  char *line = buf, *nl = strchr(line, '\n');
  if (nl == NULL) return 400;
  *nl = '\0';
  if (nl > line && nl[-1] == '\r') nl[-1] = '\0';

  /* Request line: METHOD SP target SP HTTP/1.x, single spaces. */
  char *sp1 = strchr(line, ' ');
  if (sp1 == NULL || sp1 == line || sp1 - line > MAX_METHOD) return 400;
  char *sp2 = strchr(sp1 + 1, ' ');
  if (sp2 == NULL || sp2 == sp1 + 1 || strchr(sp2 + 1, ' ') != NULL)
    return 400;
  for (char *q = line; q < sp1; q++)
    if (*q < 'A' || *q > 'Z') return 400;
  memcpy(rq->method, line, (size_t)(sp1 - line));
  *sp2 = '\0';
  rq->target = sp1 + 1;
  if (rq->target[0] != '/') return 400;
  for (const char *q = rq->target; *q != '\0'; q++)
    if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) return 400;
  const char *ver = sp2 + 1;
  if (strcmp(ver, "HTTP/1.1") == 0) {
    rq->keep_alive = 1;
  } else if (strcmp(ver, "HTTP/1.0") != 0) {
    return strncmp(ver, "HTTP/", 5) == 0 && ver[5] >= '0' && ver[5] <= '9'
               ? 505
               : 400;
  }

  /* Header fields: name ":" OWS value; no folding, no NULs (checked by
   * the caller), at most MAX_HEADERS. */
  int nheaders = 0, has_body = 0;
  for (line = nl + 1; *line != '\0'; line = nl + 1) {
    nl = strchr(line, '\n');
    if (nl == NULL) return 400;
    *nl = '\0';
    if (nl > line && nl[-1] == '\r') nl[-1] = '\0';
    if (*line == '\0') break; /* the empty line */
    if (++nheaders > MAX_HEADERS) return 400;
    char *colon = strchr(line, ':');
    if (colon == NULL || colon == line) return 400;
    for (char *q = line; q < colon; q++)
      if (!is_tchar(*q)) return 400;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    for (char *q = v; *q != '\0'; q++)
      if ((unsigned char)*q < 0x20 && *q != '\t') return 400;
    if (strcasecmp(line, "connection") == 0) {
      if (lists_token(v, "close")) rq->keep_alive = 0;
    } else if (strcasecmp(line, "content-length") == 0) {
      size_t vn = strlen(v);
      while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
      long long cl;
      if (parse_num(v, vn, 0, 999999999999999999LL, &cl) != 0) return 400;
      if (cl > 0) has_body = 1;
    } else if (strcasecmp(line, "transfer-encoding") == 0) {
      has_body = 1;
    }
  }
  /* A request body is never read: answer, then close (draining it). */
  if (has_body) rq->keep_alive = 0;
  if (strcmp(rq->method, "HEAD") == 0) {
    rq->head_only = 1;
  } else if (strcmp(rq->method, "GET") != 0) {
    return 405;
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * The connection state machine
 * ---------------------------------------------------------------------- */

static void conn_send(conn *c, int64_t now);

/* The response is fully sent: keep, close, reset or stall. */
static void conn_finish(conn *c, int64_t now) {
  switch (c->end) {
  case END_KEEP:
    conn_reset_response(c);
    memmove(c->in, c->in + c->req_len, c->in_len - c->req_len);
    c->in_len -= c->req_len;
    c->req_len = 0;
    c->st = ST_READ;
    c->due = now + READ_TIMEOUT_MS;
    c->parse_pending = c->in_len > 0;
    return;
  case END_CLOSE:
    conn_reset_response(c);
    if (shutdown(c->fd, SHUT_WR) != 0) {
      conn_close(c);
      return;
    }
    c->st = ST_LINGER;
    c->due = now + LINGER_MS;
    return;
  case END_RESET: {
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0 &&
        verbose)
      fprintf(stderr, "hostile_http: SO_LINGER: %s\n", strerror(errno));
    conn_close(c);
    return;
  }
  case END_STALL:
    conn_reset_response(c);
    c->st = ST_STALL;
    c->due = 0;
    return;
  }
}

/* Starts sending the built response (after any delay). */
static void conn_start(conn *c, int64_t now) {
  c->st = ST_SEND;
  c->due = 0;
  c->drip_t0 = now;
  conn_send(c, now);
}

/* Sends what may go now: everything the socket takes, or what the drip
 * rate allows. Leaves want_out/due set for the next attempt. */
static void conn_send(conn *c, int64_t now) {
  c->want_out = 0;
  c->due = 0;
  for (;;) {
    struct iovec iov[2];
    int k = 0;
    if (c->head_off < c->head_len) {
      iov[k].iov_base = c->head + c->head_off;
      iov[k++].iov_len = c->head_len - c->head_off;
    }
    size_t can = c->body_len - c->body_off;
    if (c->drip_bps > 0 && can > 0) {
      int64_t allowed =
          (now - c->drip_t0) * c->drip_bps / 1000 - (int64_t)c->body_off;
      if (allowed <= 0) {
        can = 0;
      } else if ((uint64_t)allowed < can) {
        can = (size_t)allowed;
      }
    }
    if (can > 0) {
      iov[k].iov_base = (void *)(c->body + c->body_off);
      iov[k++].iov_len = can;
    }
    if (k == 0) break;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = (size_t)k;
    ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->want_out = 1;
        return;
      }
      conn_close(c); /* EPIPE, ECONNRESET: the client left */
      return;
    }
    size_t left = (size_t)w, hn = c->head_len - c->head_off;
    if (hn > 0) {
      size_t t = left < hn ? left : hn;
      c->head_off += t;
      left -= t;
    }
    c->body_off += left;
  }
  if (c->head_off == c->head_len && c->body_off == c->body_len) {
    conn_finish(c, now);
    return;
  }
  /* Dripping: wake when a worthwhile chunk (1/50 s of data) is allowed. */
  size_t rest = c->body_len - c->body_off;
  int64_t chunk = c->drip_bps / 50 > 0 ? c->drip_bps / 50 : 1;
  int64_t target = (int64_t)c->body_off +
                   ((int64_t)rest < chunk ? (int64_t)rest : chunk);
  c->due = c->drip_t0 + (target * 1000 + c->drip_bps - 1) / c->drip_bps;
  if (c->due <= now) c->due = now + 1;
}

/* Examines buffered input in ST_READ; answers a complete request. */
static void conn_parse(conn *c, int64_t now) {
  static char scratch[IN_MAX + 1];
  c->parse_pending = 0;
  size_t len = header_end(c->in, c->in_len);
  request rq;
  int64_t delay = 0;
  int status;
  if (len == 0) {
    if (c->in_len < IN_MAX) return; /* wait for more */
    memset(&rq, 0, sizeof rq);
    rq.target = "-";
    status = 431;
  } else if (memchr(c->in, '\0', len) != NULL) {
    memset(&rq, 0, sizeof rq);
    rq.target = "-";
    status = 400;
  } else {
    memcpy(scratch, c->in, len);
    scratch[len] = '\0';
    status = parse_request(scratch, &rq);
  }
  c->req_len = len;
  int r;
  if (status != 0) {
    const request bad = {.method = "", .target = "-"};
    r = respond_text(c, &bad, status, NULL,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "", END_CLOSE);
  } else {
    r = route(c, &rq, &delay);
  }
  if (r != 0) {
    fprintf(stderr, "hostile_http: out of memory; dropping a connection\n");
    conn_reset_response(c);
    conn_close(c);
    return;
  }
  if (verbose)
    fprintf(stderr, "hostile_http: %s %s -> %d%s\n",
            status ? "(bad request)" : rq.method, status ? "" : rq.target,
            c->code, delay ? " (delayed)" : "");
  if (delay > 0) {
    c->st = ST_WAIT;
    c->due = now + delay;
  } else {
    conn_start(c, now);
  }
}

/* Reads and discards input (ST_STALL, ST_LINGER); EOF or error closes. */
static void conn_drain(conn *c) {
  char sink[4096];
  for (;;) {
    ssize_t n = recv(c->fd, sink, sizeof sink, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    conn_close(c);
    return;
  }
}

static void conn_readable(conn *c, int64_t now) {
  for (;;) {
    ssize_t n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) { /* EOF or error */
      conn_close(c);
      return;
    }
    c->in_len += (size_t)n;
    c->due = now + READ_TIMEOUT_MS;
    conn_parse(c, now);
    return;
  }
}

static short conn_events(const conn *c) {
  switch (c->st) {
  case ST_READ:
  case ST_STALL:
  case ST_LINGER: return POLLIN;
  case ST_SEND: return c->want_out ? POLLOUT : 0;
  case ST_WAIT: return 0;
  }
  return 0;
}

static void conn_event(conn *c, short rev, int64_t now) {
  if (rev & (POLLERR | POLLNVAL)) {
    conn_close(c);
    return;
  }
  switch (c->st) {
  case ST_READ:
    if (rev & (POLLIN | POLLHUP)) conn_readable(c, now);
    break;
  case ST_STALL:
  case ST_LINGER:
    if (rev & (POLLIN | POLLHUP)) conn_drain(c);
    break;
  case ST_SEND:
    if (rev & POLLHUP) {
      conn_close(c);
    } else if (rev & POLLOUT) {
      conn_send(c, now);
    }
    break;
  case ST_WAIT:
    if (rev & POLLHUP) conn_close(c);
    break;
  }
}

static void conn_timer(conn *c, int64_t now) {
  if (c->dead || c->due == 0 || now < c->due) return;
  switch (c->st) {
  case ST_READ:   /* idle client */
  case ST_LINGER: /* it never closed its side */
    conn_close(c);
    break;
  case ST_WAIT: conn_start(c, now); break;
  case ST_SEND: conn_send(c, now); break;
  case ST_STALL: c->due = 0; break;
  }
}

static void accept_all(int lfd, int64_t now, int64_t *pause_until) {
  while (nconns < MAX_CONN) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      /* EMFILE, ENFILE, ENOBUFS, ENOMEM: back off instead of spinning. */
      fprintf(stderr, "hostile_http: accept: %s\n", strerror(errno));
      *pause_until = now + 100;
      return;
    }
    int one = 1;
    conn *c = calloc(1, sizeof *c);
    if (c == NULL || set_nonblock_cloexec(fd) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
      fprintf(stderr, "hostile_http: new connection: %s\n",
              c == NULL ? "out of memory" : strerror(errno));
      free(c);
      if (close(fd) != 0) fprintf(stderr, "hostile_http: close failed\n");
      continue;
    }
    c->fd = fd;
    c->st = ST_READ;
    c->due = now + READ_TIMEOUT_MS;
    conns[nconns++] = c;
  }
}

/* ------------------------------------------------------------------------
 * Start-up and the loop
 * ---------------------------------------------------------------------- */

static int listen_loopback(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
  a.sin_port = 0;                             /* ephemeral */
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) die("bind 127.0.0.1");
  if (listen(fd, 128) != 0) die("listen");
  if (set_nonblock_cloexec(fd) != 0) die("fcntl");
  socklen_t alen = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0) die("getsockname");
  if (printf("port=%u\n", (unsigned)ntohs(a.sin_port)) < 0 ||
      fflush(stdout) != 0)
    die("stdout");
  return fd;
}

static void setup_signals(void) {
  if (pipe(sig_pipe) != 0) die("pipe");
  if (set_nonblock_cloexec(sig_pipe[0]) != 0 ||
      set_nonblock_cloexec(sig_pipe[1]) != 0)
    die("fcntl");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  if (sigemptyset(&sa.sa_mask) != 0) die("sigemptyset");
  if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
      sigaction(SIGHUP, &sa, NULL) != 0)
    die("sigaction");
  sa.sa_handler = SIG_IGN;
  if (sigaction(SIGPIPE, &sa, NULL) != 0) die("sigaction");
}

int main(int argc, char **argv) {
  long long max_seconds = 300;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return fflush(stdout) == 0 ? 0 : 1;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      verbose = 1;
    } else if (strcmp(argv[i], "--max-seconds") == 0) {
      if (i + 1 == argc) {
        fprintf(stderr, "hostile_http: --max-seconds needs a value\n");
        return 2;
      }
      const char *v = argv[++i];
      if (parse_num(v, strlen(v), 1, 86400, &max_seconds) != 0) {
        fprintf(stderr,
                "hostile_http: --max-seconds: '%s' is not an integer in "
                "1..86400; see --help\n",
                v);
        return 2;
      }
    } else {
      fprintf(stderr, "hostile_http: unknown flag '%s'; see --help\n",
              argv[i]);
      return 2;
    }
  }

  setup_signals();
  int lfd = listen_loopback();
  int64_t stop_at = mono_ms() + max_seconds * 1000;
  int64_t accept_pause = 0;
  int timed_out = 0;

  while (!got_signal) {
    int64_t now = mono_ms();
    if (now >= stop_at) {
      timed_out = 1;
      break;
    }
    int64_t wake = stop_at;
    pfds[0].fd = sig_pipe[0];
    pfds[0].events = POLLIN;
    pfds[1].fd = lfd;
    pfds[1].events = nconns < MAX_CONN && now >= accept_pause ? POLLIN : 0;
    if (accept_pause > now && accept_pause < wake) wake = accept_pause;
    int polled = nconns;
    for (int i = 0; i < polled; i++) {
      pfds[i + 2].fd = conns[i]->fd;
      pfds[i + 2].events = conn_events(conns[i]);
      pfds[i + 2].revents = 0;
      if (conns[i]->due != 0 && conns[i]->due < wake) wake = conns[i]->due;
    }
    pfds[0].revents = pfds[1].revents = 0;
    int64_t timeout = wake - now;
    if (timeout < 0) timeout = 0;
    if (poll(pfds, (nfds_t)(polled + 2), (int)timeout) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    now = mono_ms();
    if (pfds[0].revents & POLLIN) break; /* a stop signal */

    for (int i = 0; i < polled; i++) {
      conn *c = conns[i];
      if (pfds[i + 2].revents != 0) conn_event(c, pfds[i + 2].revents, now);
      if (!c->dead) conn_timer(c, now);
      while (!c->dead && c->st == ST_READ && c->parse_pending)
        conn_parse(c, now);
    }
    if (pfds[1].revents & POLLIN) accept_all(lfd, now, &accept_pause);

    int k = 0; /* drop closed connections */
    for (int i = 0; i < nconns; i++) {
      if (conns[i]->dead) {
        conn_reset_response(conns[i]);
        free(conns[i]);
      } else {
        conns[k++] = conns[i];
      }
    }
    nconns = k;
  }

  if (timed_out) {
    fprintf(stderr, "hostile_http: --max-seconds %lld reached, exiting\n",
            max_seconds);
  } else if (verbose) {
    fprintf(stderr, "hostile_http: signal %d, exiting\n", (int)got_signal);
  }
  for (int i = 0; i < nconns; i++) {
    conn_reset_response(conns[i]);
    conn_close(conns[i]);
    free(conns[i]);
  }
  for (int i = 0; i < npng; i++) free(png_cache[i].data);
  if (close(lfd) != 0) die("close");
  return 0;
}
