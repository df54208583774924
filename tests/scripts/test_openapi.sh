#!/usr/bin/env bash
# docs/openapi.yaml must be a valid OpenAPI 3.0 document, and every response
# of a real `vodup serve` must match it: status, headers and body, for
# successes and errors of each operation.  The node part is
# tests/js/openapi-check.mjs (swagger-parser + ajv, installed with `npm ci`
# from tests/js/package-lock.json when tests/js/node_modules is missing).
# The sqlite3 shell, when installed, ages a tus upload and an upload link in
# the server's database for their 410s (those cases are skipped without it).
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_openapi.sh path/to/vodup}
# The node part runs in tests/js: a relative path must not depend on the cwd.
[[ $VODUP == /* || $VODUP != */* ]] || VODUP="$PWD/$VODUP"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JS="$ROOT/tests/js"
work=$(mktemp -d /tmp/vodup-openapi.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
# Adds the counts of the node part's last line to ours.
run_node() { # mode
  local out rc
  out=$(cd "$JS" && node openapi-check.mjs "$1" "$ROOT" 2>&1); rc=$?
  echo "$out" | grep -v '^openapi-check: '
  local line node_failed=-1
  line=$(echo "$out" | grep '^openapi-check: ' | tail -n 1)
  if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1])); node_failed=${BASH_REMATCH[2]}; failed=$((failed + node_failed))
  else
    failed=$((failed + 1)); echo "not ok - node $1 checks printed no summary"
  fi
  if [ "$rc" -ne 0 ] && [ "$node_failed" -eq 0 ]; then
    failed=$((failed + 1)); echo "not ok - node $1 exited $rc"
  fi
}

# ---- node dependencies (npm ci from the lockfile; once per checkout) ----
install_deps() {
  command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are required" >&2; return 1; }
  # Reinstall when the lockfile is newer than what npm last installed.
  if [ -f "$JS/node_modules/.package-lock.json" ] && [ ! "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ]; then
    return 0
  fi
  # Two test runs (plain and ASan trees) may start at once: one installs.
  (
    flock 9
    if [ -f "$JS/node_modules/.package-lock.json" ] && [ ! "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ]; then
      exit 0
    fi
    cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 || { cat "$work/npm.log" >&2; exit 1; }
  ) 9>"${TMPDIR:-/tmp}/vodup-npm-install-$(id -u).lock"
}
check "npm ci installed swagger-parser and ajv" install_deps || finish

# ---- (a) the document itself ----
run_node spec

# ---- (b) a live server ----
# A small rate-limit burst, so the live checks can reach a 429 quickly; no
# key cache, so admin changes made mid-test (a disabled key, a default
# domain) show at once (the cache's own behaviour is an integration test).
# No processing: the task of the uploaded video stays queued, so the task
# calls' answers do not race a worker.
"$VODUP" serve --listen 127.0.0.1:0 --data "$work/data" --rate-limit 1 --rate-burst 300 --key-cache-ttl 0 \
  --processing off >"$work/stdout" 2>"$work/stderr" &
pid=$!
vodup_wait_started "$work/stdout" "$pid"
started() { [ -n "$hostport" ] && [ -n "$ak" ] && [ -n "$sk" ]; }
if ! check "vodup serve started and printed its key" started; then
  echo "--- stdout"; cat "$work/stdout"; echo "--- stderr"; tail -n 30 "$work/stderr"
  finish
fi

VODUP_URL="http://$hostport" VODUP_AK="$ak" VODUP_SK="$sk" VODUP_BIN="$VODUP" VODUP_DATA="$work/data" \
  run_node live

# The access log must never carry the secret or a full signature.
no_secret_logged() { ! grep -qF -- "$sk" "$work/stderr"; }
check "the secret key never appears in the server's log" no_secret_logged

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "SIGTERM: exit status 0 (got $rc)" test "$rc" -eq 0
[ "$failed" -eq 0 ] || { echo "--- server stderr (last 20 lines)"; tail -n 20 "$work/stderr"; }
finish
