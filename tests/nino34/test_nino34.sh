#!/usr/bin/env bash
# test_nino34.sh JOB SERVER RANKS [MPIEXEC] -- the download job against
# tests/servers/hostile_http.
#
# Each case points --base-url at a misbehaving path of the local server and
# checks what a user would: the exit code, which files exist and that each
# equals the image the server sends (byte for byte), the attempts in the
# table, and that no temporary or partial file is left in --dir. RANKS 1
# runs the job directly; more ranks run it through MPIEXEC. Exit 0 pass,
# 1 fail. Nothing leaves 127.0.0.1.
# SPDX-License-Identifier: BSD-3-Clause
set -u
job=${1:?usage: test_nino34.sh JOB SERVER RANKS [MPIEXEC]}
srv=${2:?server}
ranks=${3:?ranks}
mpiexec=${4:-mpiexec}
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

tmp=$(mktemp -d)
. "$(dirname "$0")/../servers/server_lib.sh"
. "$(dirname "$0")/../proc_lib.sh"
trap '[ -n "$pid" ] && stop_server "$pid"; rm -rf "$tmp"' EXIT
trap 'echo "interrupted"; exit 1' INT TERM

start_server "$srv" "$tmp/server" --max-seconds 600
[ -n "$port" ] || { echo "FAIL - the test server did not start"; exit 1; }
base="http://127.0.0.1:$port"
curl -q -s --noproxy '*' --max-time 10 -o "$tmp/ref.png" "$base/ok/ref.png"
[ "$(stat -c %s "$tmp/ref.png")" = 30000 ] || { echo "FAIL - no reference image"; exit 1; }

# run NAME CODE ARGS...: runs the job (output in $tmp/NAME.out), checks
# its exit code.
run() {
  local name=$1 want=$2
  shift 2
  if [ "$ranks" = 1 ]; then
    "$job" --quiet "$@" > "$tmp/$name.out" 2>&1
  else
    "$mpiexec" -n "$ranks" --oversubscribe "$job" --quiet "$@" \
      > "$tmp/$name.out" 2>&1
  fi
  local got=$?
  expect "$name: exit code" "$got" "$want"
  [ "$got" = "$want" ] || sed 's/^/    | /' "$tmp/$name.out"
}
# row NAME MONTH: the table row of 2022-MONTH
row() { grep "^2022-$2 " "$tmp/$1.out"; }
# attempts NAME MONTH WANT
attempts() { expect "$1: attempts of 2022-$2" "$(row "$1" "$2" | awk '{print $4}')" "$3"; }
# files NAME DIR MONTHS...: exactly these images in DIR, each the server's
# image, and nothing else (no temporary or partial file).
files() {
  local name=$1 dir=$2 want="" m
  shift 2
  for m in "$@"; do want="$want 2022$m.png"; done
  expect "$name: files in --dir" "$(cd "$dir" && echo $(ls -A))" "${want# }"
  for m in "$@"; do
    expect_true "$name: 2022$m.png is the server's image" \
      cmp -s "$dir/2022$m.png" "$tmp/ref.png"
  done
}
count() { curl -q -s --noproxy '*' --max-time 10 "$base/count/$1"; }

# --- latency: twelve months, all side by side ---------------------------
run latency 0 --base-url "$base/delay/200" --dir "$tmp/latency/a/b"
files latency "$tmp/latency/a/b" 01 02 03 04 05 06 07 08 09 10 11 12
for m in 01 06 12; do attempts latency $m 1; done
expect_true "latency: last line" grep -q '^downloaded 12 files in [0-9.]* s$' "$tmp/latency.out"

# --- 404 for one month: the others finish, exit 1 -----------------------
run notfound 1 --base-url "$base/when/2022030800/status/404" --months 1-4 \
  --dir "$tmp/nf"
files notfound "$tmp/nf" 01 02 04
attempts notfound 03 1
expect_true "notfound: the row says HTTP 404 for the URL" \
  grep -q "^2022-03 .*failed: HTTP 404 for $base/when/2022030800/status/404/2022030800/current/images/nino34.rescaling.ENSMEAN.png$" "$tmp/notfound.out"

# --- resume: only the missing month is fetched --------------------------
run resume 0 --base-url "$base/key/resume" --months 1-4 --dir "$tmp/nf"
files resume "$tmp/nf" 01 02 03 04
expect "resume: one request (the missing month)" "$(count resume)" 1
for m in 01 02 04; do
  expect_true "resume: 2022-$m skipped" grep -q "^2022-$m .*skipped" "$tmp/resume.out"
done
expect_true "resume: last line" grep -q '^downloaded 1 file in' "$tmp/resume.out"

# --- a broken file in place is replaced; --force fetches everything -----
printf 'not an image' > "$tmp/nf/202202.png"
run broken 0 --base-url "$base/key/broken" --months 1-4 --dir "$tmp/nf"
expect "broken: only the broken month fetched" "$(count broken)" 1
files broken "$tmp/nf" 01 02 03 04
run force 0 --base-url "$base/key/force" --months 1-4 --dir "$tmp/nf" --force
expect "force: every month fetched" "$(count force)" 4

# --- 503 twice, then 200: retried by the library ------------------------
run flaky 0 --base-url "$base/when/2022020800/flaky/2/flaky" --months 1-3 \
  --dir "$tmp/flaky"
files flaky "$tmp/flaky" 01 02 03
attempts flaky 02 3
attempts flaky 01 1
expect "flaky: the server saw three requests for the month" "$(count flaky)" 3

# --- 500 every time: transient, out of retries --------------------------
run status500 1 --base-url "$base/when/2022010800/status/500" --months 1-2 \
  --retries 1 --dir "$tmp/s500"
files status500 "$tmp/s500" 02
attempts status500 01 2
expect_true "status500: HTTP 500 named" grep -q '^2022-01 .*HTTP 500 for' "$tmp/status500.out"

# --- truncated bodies: retried, never kept ------------------------------
for kind in close-mid short reset; do
  run "$kind" 1 --base-url "$base/when/2022010800/$kind" --months 1-2 \
    --retries 1 --dir "$tmp/$kind"
  files "$kind" "$tmp/$kind" 02
  attempts "$kind" 01 2
done
run no-iend 1 --base-url "$base/no-iend" --months 5 --retries 1 --dir "$tmp/ni"
files no-iend "$tmp/ni"
attempts no-iend 05 2
expect_true "no-iend: says truncated" grep -q 'truncated PNG' "$tmp/no-iend.out"

# --- an HTML page with 200: permanent, not a PNG ------------------------
run html 1 --base-url "$base/html" --months 7 --retries 3 --dir "$tmp/html"
files html "$tmp/html"
attempts html 07 1
expect_true "html: says not a PNG" grep -q '^2022-07 .*not a PNG' "$tmp/html.out"

# --- a body slower than --http-timeout ----------------------------------
run slow 1 --base-url "$base/drip/10000" --months 8 --retries 1 \
  --http-timeout 0.5 --dir "$tmp/slow"
files slow "$tmp/slow"
attempts slow 08 2
expect_true "slow: says timed out" grep -qi 'timed out' "$tmp/slow.out"

# --- redirects: followed a few hops, http(s) only -----------------------
run redirect 0 --base-url "$base/redirect/3" --months 9 --dir "$tmp/redir"
files redirect "$tmp/redir" 09
run redirect-file 1 --base-url "$base/redirect-file" --months 9 --dir "$tmp/rf"
files redirect-file "$tmp/rf"
run redirect-loop 1 --base-url "$base/redirect-loop" --months 9 --dir "$tmp/rl"
attempts redirect-loop 09 1

# --- SIGTERM mid-transfer: exit 75 at once, no partial file -------------
# The signal goes to the ranks themselves, as under srun (a signalled
# mpirun would turn the code into 1).
if [ "$ranks" = 1 ]; then
  "$job" --quiet --base-url "$base/stall" --dir "$tmp/stop" > "$tmp/stop.out" 2>&1 &
else
  "$mpiexec" -n "$ranks" --oversubscribe "$job" --quiet --base-url "$base/stall" \
    --dir "$tmp/stop" > "$tmp/stop.out" 2>&1 &
fi
launcher=$!
sleep 1.5
kill -TERM $(job_pids "$launcher" "$(basename "$job")") 2> /dev/null
wait "$launcher"
expect "stop: exit code" "$?" 75
files stop "$tmp/stop"

# --- bad input: one line, exit 2, nothing written -----------------------
touch "$tmp/plainfile"
bad() { # bad NAME REGEX ARGS...
  local name=$1 re=$2
  shift 2
  run "$name" 2 "$@"
  expect_true "$name: says why" grep -Eq -e "$re" "$tmp/$name.out"
}
bad months13 "--months: '13'" --months 13 --dir "$tmp/x"
bad months-desc "--months: '3-1'" --months 3-1 --dir "$tmp/x"
bad months-junk "is not a list" --months 1,,2 --dir "$tmp/x"
bad year "--year: '1900' is not an integer in 1982" --year 1900 --dir "$tmp/x"
bad scheme "--base-url: 'ftp://x' is not an http" --base-url ftp://x --dir "$tmp/x"
bad dirfile "is not a directory" --dir "$tmp/plainfile/sub"
bad timeout "--http-timeout" --http-timeout 0
bad slots "--io-slots" --io-slots 0
expect "bad input: no directory created" "$(ls -A "$tmp" | grep -c '^x$')" 0

echo "$fails failed"
[ "$fails" = 0 ]
