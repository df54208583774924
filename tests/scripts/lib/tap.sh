# Sourced by the script tests (tests/scripts/test_*.sh): their "ok - NAME" /
# "not ok - NAME" lines, and the wait for a `vodup serve` they started.
# Sets passed and failed to 0.
passed=0 failed=0

# check NAME COMMAND...: runs the command, prints one line, counts it, and
# returns the command's success (so `check ... || finish` stops early).
check() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $name"
  else failed=$((failed + 1)); echo "not ok - $name"; return 1; fi
}

# vodup_wait_started STDOUT PID: waits up to 10 s (less if PID exits) for
# the `vodup: listening on http://HOST:PORT ...` line of `vodup serve`'s
# stdout, then sets hostport (HOST:PORT; "" if it never came), and ak and sk
# (the key printed at first start; "" if none). True when it started.
vodup_wait_started() {
  local out=$1 pid=$2
  for _ in $(seq 1 200); do
    grep -q '^vodup: listening on http://' "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  hostport=$(sed -n 's|^vodup: listening on http://\([^ ]*\) .*|\1|p' "$out")
  ak=$(sed -n 's/^  AccessKey: //p' "$out" | head -n 1)
  sk=$(sed -n 's/^  SecretKey: //p' "$out" | head -n 1)
  [ -n "$hostport" ]
}

# stop_vodup: SIGTERM to $pid (the vodup serve the test started), then
# SIGKILL if it is still draining after 20 s: a server stuck on a hung
# upload must not hold the test past its limit.  Sets stop_rc (-1 when
# there was none) and clears pid.
stop_vodup() {
  stop_rc=-1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && { echo "# vodup still running 20 s after SIGTERM: SIGKILL"; kill -KILL "$pid"; }
  wait "$pid" 2>/dev/null; stop_rc=$?
  pid=""
}
