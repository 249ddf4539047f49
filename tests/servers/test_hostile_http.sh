#!/usr/bin/env bash
# test_hostile_http.sh SERVER -- self-test of tests/servers/hostile_http.
#
# Starts SERVER, reads "port=<n>" from its stdout, and checks every path
# behaviour with the curl command-line tool (proxies off, ~/.curlrc ignored,
# so nothing leaves 127.0.0.1); PNG bodies are checked chunk by chunk with
# python3's zlib (CRCs, IDAT inflates to the image size, IEND last). Ends by
# stopping the server with SIGTERM and checking it exited 0; the EXIT trap
# stops it on any failure too. Exit 0 pass, 1 fail: curl and python3 are
# required (scripts/setup.sh installs them), never skipped. Timing checks
# are loose: they catch "no delay", not jitter.
# SPDX-License-Identifier: BSD-3-Clause
set -u
srv=${1:?usage: test_hostile_http.sh SERVER}
command -v curl > /dev/null || { echo "FAIL: curl is not installed (apt-get install curl)"; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || { echo "FAIL: $py is missing (apt-get install python3)"; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

tmp=$(mktemp -d)
. "$(dirname "$0")/server_lib.sh"
cleanup() {
  [ -n "$pid" ] && stop_server "$pid"
  for j in $(jobs -p); do stop_server "$j"; done
  wait 2> /dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 1' INT TERM

# between X LO HI: LO <= X < HI (floats)
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x < hi) }'; }

# wait_exit PID SECONDS: waits for PID (a child of this shell) to exit;
# sets status to its exit status, or "running" if alive after SECONDS.
wait_exit() {
  local p=$1 n=$(($2 * 10))
  status=running
  for _ in $(seq "$n"); do
    if ! kill -0 "$p" 2> /dev/null; then
      wait "$p"
      status=$?
      return
    fi
    sleep 0.1
  done
}

cat > "$tmp/pngcheck.py" << 'EOF'
# pngcheck.py FILE [SIZE]: exit 0 when FILE is a valid PNG (of SIZE bytes).
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
def bad(why):
    print("not a valid PNG:", why)
    sys.exit(1)
if len(sys.argv) > 2 and len(data) != int(sys.argv[2]):
    bad("%d bytes, want %s" % (len(data), sys.argv[2]))
if data[:8] != b"\x89PNG\r\n\x1a\n":
    bad("signature")
pos, chunks, idat = 8, [], b""
while pos < len(data):
    if pos + 12 > len(data):
        bad("truncated chunk at %d" % pos)
    (n,) = struct.unpack(">I", data[pos:pos + 4])
    kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
    if len(body) != n or pos + 12 + n > len(data):
        bad("truncated %r" % kind)
    (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
    if zlib.crc32(kind + body) != crc:
        bad("CRC of %r" % kind)
    chunks.append(kind)
    if kind == b"IDAT":
        idat += body
    pos += 12 + n
if not chunks or chunks[0] != b"IHDR":
    bad("first chunk is not IHDR")
if chunks[-1] != b"IEND":
    bad("no IEND at the end")
w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
if (depth, ctype) != (8, 0):
    bad("unexpected depth/colour type")
try:
    raw = zlib.decompress(idat)
except zlib.error as e:
    bad("IDAT: %s" % e)
if len(raw) != h * (w + 1):
    bad("IDAT inflates to %d bytes, want %d" % (len(raw), h * (w + 1)))
print("valid PNG %dx%d, %d bytes" % (w, h, len(data)))
EOF
png_ok() { "$py" "$tmp/pngcheck.py" "$@" > "$tmp/pngcheck.out" 2>&1; }

cat > "$tmp/raw.py" << 'EOF'
# raw.py PORT: sends stdin as-is on one connection; prints the status line
# of the reply and "closed" when the server then closes the connection.
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.stdin.buffer.read())
reply = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            reply += b"\nclosed"
            break
        reply += b
except socket.timeout:
    reply += b"\ntimeout"
lines = reply.split(b"\r\n")
print(lines[0].decode("latin-1"), reply.split(b"\n")[-1].decode("latin-1"))
EOF

# fetch PATH [CURL ARGS...]: GET base/PATH; sets rc code size secs redirs,
# body in $tmp/body, headers in $tmp/headers.
fetch() {
  local path=$1 w
  shift
  w=$(curl -q -s --noproxy '*' --max-time 10 -o "$tmp/body" -D "$tmp/headers" \
        -w '%{http_code} %{size_download} %{time_total} %{num_redirects}' \
        "$@" "$base$path")
  rc=$?
  read -r code size secs redirs <<< "$w"
}
header() { tr -d '\r' < "$tmp/headers" | sed -n "s/^$1: //Ip" | tail -n 1; }

# --- command line ------------------------------------------------------
"$srv" --help > "$tmp/help" 2>&1
expect "--help exits 0" "$?" 0
expect_true "--help lists /flaky/" grep -q '/flaky/N/KEY' "$tmp/help"
"$srv" --bogus > /dev/null 2>&1
expect "unknown flag exits 2" "$?" 2
"$srv" --max-seconds 0 > /dev/null 2>&1
expect "--max-seconds 0 refused" "$?" 2

# --- start -------------------------------------------------------------
start_server "$srv" "$tmp/out" --max-seconds 100
if [ -z "$port" ]; then
  echo "FAIL - no port= line from the server"
  cat "$tmp/out" "$tmp/out.err"
  exit 1
fi
base="http://127.0.0.1:$port"
pass "listening on 127.0.0.1:$port"
# The listening socket is bound to 127.0.0.1 only (0100007F in /proc).
hexport=$(printf '%04X' "$port")
expect "bound to 127.0.0.1 only" \
  "$(awk -v p=":$hexport" '$2 ~ p"$" && $4 == "0A" { print $2 }' /proc/net/tcp)" \
  "0100007F:$hexport"

# --- PNG bodies ----------------------------------------------------------
fetch /ok/a.png
expect "/ok: 200" "$code" 200
expect "/ok: 30000 bytes" "$size" 30000
expect "/ok: Content-Type" "$(header content-type)" image/png
expect_true "/ok: valid PNG" png_ok "$tmp/body" 30000
if command -v file > /dev/null; then
  expect_true "/ok: file(1) says PNG" grep -q 'PNG image data' \
    <(file -b "$tmp/body")
fi
fetch /2022010800/current/images/nino34.png
expect "any other path: 200 PNG" "$code $size" "200 30000"
for n in 256 257 1000 65600 1000000; do
  fetch "/ok/x.png?size=$n"
  expect_true "?size=$n: valid PNG of $n bytes" png_ok "$tmp/body" "$n"
done
fetch "/ok/x.png?size=100"
expect "?size=100: 400" "$code" 400
fetch /ok/x.png -I
expect "HEAD: 200, no body" "$code $size" "200 0"
expect "HEAD: Content-Length" "$(header content-length)" 30000
conns=$(curl -q -s --noproxy '*' --max-time 10 -o /dev/null -o /dev/null \
  -w '%{num_connects} ' "$base/a" "$base/b")
expect "keep-alive: second request reuses the connection" "$conns" "1 0 "

# --- statuses, flaky, counters -------------------------------------------
fetch /when/202203/status/404/2022030800/x.png
expect "/when/TEXT: the rest applies when TEXT follows" "$code" 404
fetch /when/202203/status/404/2022040800/x.png
expect "/when/TEXT: other paths get the PNG" "$code $size" "200 30000"
for s in 404 500 503 429; do
  fetch /status/$s/x.png
  expect "/status/$s" "$code" "$s"
done
expect "/status/429: Retry-After" "$(header retry-after)" 1
fetch "/status/503/x?retry-after=7"
expect "/status/503?retry-after=7" "$(header retry-after)" 7
fetch /status/99/x
expect "/status/99: 400" "$code" 400
got=
for _ in 1 2 3; do
  fetch /flaky/2/k/x.png
  got="$got$code "
done
expect "/flaky/2/k: 503, 503, 200" "$got" "503 503 200 "
expect_true "/flaky/2/k: third body is a valid PNG" png_ok "$tmp/body" 30000
fetch /count/k
expect "/count/k after three requests" "$(cat "$tmp/body")" 3
fetch /key/kk/ok/x
fetch /key/kk/delay/10/status/404/x
expect "/key/kk prefixes another behaviour" "$code" 404
fetch /count/kk
expect "/count/kk" "$(cat "$tmp/body")" 2
fetch /count/never
expect "/count of an unused key" "$(cat "$tmp/body")" 0
fetch "/count/bad%key"
expect "/count of an invalid key: 400" "$code" 400

# --- time ------------------------------------------------------------------
fetch /delay/500/x.png
expect "/delay/500: 200, whole PNG" "$code $size" "200 30000"
expect_true "/delay/500: took ${secs}s (0.45..5)" between "$secs" 0.45 5
fetch "/drip/20000/x.png?size=10000"
expect "/drip/20000: 200, 10000 bytes" "$code $size" "200 10000"
expect_true "/drip/20000: took ${secs}s (0.35..5; 0.5 expected)" \
  between "$secs" 0.35 5
expect_true "/drip: valid PNG" png_ok "$tmp/body" 10000
fetch /stall/x.png --max-time 1
expect "/stall: curl --max-time 1 times out (28)" "$rc" 28
expect "/stall: half the body arrived" "$size" 15000

# --- truncated, overlong, lying ---------------------------------------------
fetch /close-mid/x.png
expect "/close-mid: transfer error (18), half the body" "$rc $size" "18 15000"
fetch /reset/x.png
expect_true "/reset: curl fails (rc $rc), short body ($size)" \
  test "$rc" -ne 0 -a "$size" -lt 30000
fetch /short/x.png
expect "/short: transfer error (18)" "$rc" 18
expect "/short: Content-Length claims more" "$(header content-length)" 31000
expect_true "/short: the bytes that came are a whole valid PNG" \
  png_ok "$tmp/body" 30000
fetch /long/x.png
expect "/long: curl stops at Content-Length" "$rc $code $size" "0 200 30000"
expect_true "/long: valid PNG" png_ok "$tmp/body" 30000
fetch /huge/x.png
expect "/huge: transfer error (18), half the body" "$rc $size" "18 15000"
expect "/huge: Content-Length 10 GiB" "$(header content-length)" 10737418240
fetch /no-iend/x.png
expect "/no-iend: 200, 29988 bytes" "$code $size" "200 29988"
png_ok "$tmp/body"
expect "/no-iend: PNG check fails on IEND" "$(cat "$tmp/pngcheck.out")" \
  "not a valid PNG: no IEND at the end"
fetch /html/x.png
expect "/html: 200" "$code" 200
expect "/html: text/html" "$(header content-type)" "text/html; charset=utf-8"
png_ok "$tmp/body"
expect "/html: PNG check fails" "$(cat "$tmp/pngcheck.out")" \
  "not a valid PNG: signature"
fetch /garbage/x.png
expect_true "/garbage: curl fails (rc $rc), no status (code $code)" \
  test "$rc" -ne 0 -a "$code" = 000
fetch /bad-length/x.png
expect "/bad-length: curl rejects the header (8)" "$rc" 8

# --- redirects ---------------------------------------------------------------
fetch "/redirect/3/x.png?size=500"
expect "/redirect/3 without -L: 302" "$code" 302
expect "/redirect/3: Location keeps rest and query" "$(header location)" \
  "/redirect/2/x.png?size=500"
fetch "/key/r/redirect/3/x.png?size=500" -L
expect "/redirect/3 -L: 200 after 3 hops" "$code $redirs" "200 3"
expect_true "/redirect/3 -L: valid PNG" png_ok "$tmp/body" 500
fetch /count/r
expect "/key/r counted every hop" "$(cat "$tmp/body")" 4
fetch /redirect-loop/x.png -L --max-redirs 5
expect "/redirect-loop: curl hits max-redirs (47)" "$rc" 47
fetch /redirect-file/x.png -L
expect_true "/redirect-file: curl refuses file:// (rc $rc)" \
  test "$rc" -ne 0 -a "$size" -lt 100

# --- malformed requests (raw socket) --------------------------------------
raw() { printf "$1" | "$py" "$tmp/raw.py" "$port" 2>&1; }
expect "garbage request line: 400, closed" "$(raw 'HELLO\r\n\r\n')" \
  "HTTP/1.1 400 Bad Request closed"
expect "header without colon: 400" "$(raw 'GET / HTTP/1.1\r\nnocolon\r\n\r\n')" \
  "HTTP/1.1 400 Bad Request closed"
expect "NUL in request: 400" "$(raw 'GET /\0 HTTP/1.1\r\n\r\n')" \
  "HTTP/1.1 400 Bad Request closed"
expect "bad Content-Length: 400" \
  "$(raw 'GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n')" \
  "HTTP/1.1 400 Bad Request closed"
expect "POST: 405" "$(raw 'POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi')" \
  "HTTP/1.1 405 Method Not Allowed closed"
expect "HTTP/2.0: 505" "$(raw 'GET / HTTP/2.0\r\n\r\n')" \
  "HTTP/1.1 505 HTTP Version Not Supported closed"
big=$(head -c 9000 /dev/zero | tr '\0' a)
expect "9000-byte header: 431" "$(raw "GET / HTTP/1.1\r\nX: $big\r\n\r\n")" \
  "HTTP/1.1 431 Request Header Fields Too Large closed"
expect "HTTP/1.0: answered, then closed" \
  "$(raw 'GET /ok/x?size=256 HTTP/1.0\r\n\r\n')" "HTTP/1.1 200 OK closed"

# --- concurrency ---------------------------------------------------------------
# A stalled client and ten 1 s delays at once: all done in well under 10 s.
curl -q -s --noproxy '*' --max-time 8 -o /dev/null "$base/stall/x" &
stall_pid=$!
t0=$(date +%s.%N)
pids=()
for i in $(seq 10); do
  curl -q -s --noproxy '*' --max-time 8 -o /dev/null -w '%{http_code}\n' \
    "$base/delay/1000/c$i.png" > "$tmp/par.$i" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
expect "10 concurrent /delay/1000: all 200" "$(cat "$tmp"/par.* | grep -c '^200$')" 10
expect_true "10 concurrent /delay/1000 beside a stall took ${took}s (0.9..5)" \
  between "$took" 0.9 5
kill "$stall_pid" 2> /dev/null
wait "$stall_pid" 2> /dev/null

# --- stop ----------------------------------------------------------------------
expect_true "server still running" kill -0 "$pid"
kill -TERM "$pid"
wait_exit "$pid" 3
expect "SIGTERM: exited 0 within 3 s" "$status" 0
pid=

start_server "$srv" "$tmp/out2" --max-seconds 1
expect_true "second server started" test -n "$port"
wait_exit "$pid" 4
expect "--max-seconds 1: exited 0 by itself" "$status" 0
expect_true "--max-seconds 1: says so" grep -q 'max-seconds 1 reached' \
  "$tmp/out2.err"
pid=

if [ "$fails" -ne 0 ]; then
  echo "test_hostile_http: $fails check(s) FAILED"
  echo "--- server stderr"
  cat "$tmp/out.err"
  exit 1
fi
echo "test_hostile_http: PASS"
