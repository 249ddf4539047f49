# server_lib.sh -- sourced by tests that start hostile_http (its self-test,
# the download job's tests, the downloads benchmark): start it on an
# ephemeral port, stop it for sure, and count checks. One copy, so every
# script stops the server the same way and none leaves it running.
#
# Needs: $tmp (a scratch directory the caller removes). Sets: pid, port,
# fails.
# SPDX-License-Identifier: BSD-3-Clause

pid=
fails=0

stop_server() { # stop_server PID: SIGTERM, then SIGKILL after 3 s
  local p=$1
  kill -0 "$p" 2> /dev/null || return 0
  kill -TERM "$p" 2> /dev/null
  for _ in $(seq 30); do kill -0 "$p" 2> /dev/null || return 0; sleep 0.1; done
  kill -KILL "$p" 2> /dev/null
}

# start_server SERVER OUTFILE ARGS...: starts SERVER in the background (sets
# pid, in this shell) and sets port, empty if none appears within 5 s.
start_server() {
  local srv=$1 out=$2
  shift 2
  port=
  "$srv" "$@" > "$out" 2> "$out.err" &
  pid=$!
  for _ in $(seq 50); do
    if grep -q '^port=[0-9][0-9]*$' "$out"; then
      port=$(sed -n 's/^port=//p' "$out")
      return
    fi
    sleep 0.1
  done
}

pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
# expect NAME GOT WANT
expect() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }
# expect_true NAME CMD...
expect_true() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
