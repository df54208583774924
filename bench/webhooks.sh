#!/usr/bin/env bash
# webhooks.sh: webhook delivery throughput, and the API's latency, while
# 1,000 events are pending against a receiver that answers slowly.
#
#   bench/webhooks.sh   (environment: VODUP_BIN, HOOKRECV, EVENTS, SENDERS, DELAY_MS, DURATION, ...)
#
# 1. vodup serve (build/vodup, temp data dir, --processing off,
#    --rate-limit 0) on 127.0.0.1:18090 with --webhook-workers 0: nothing is
#    sent.  One webhook (FileUploadComplete) points at tests/tools/hookrecv
#    on 127.0.0.1:18091, which answers every request after DELAY_MS (200 ms)
#    and checks its signature.  EVENTS (1,000)
#    small uploads by `vodup upload`, PARALLEL (4) at a time, leave EVENTS
#    deliveries pending in the outbox.
# 2. "backlog, no sender": wrk -t2 -c16 on a signed GET getVideoInfo for
#    DURATION: the API's latency with the backlog in the database.
# 3. vodup restarted on the same data with --webhook-workers SENDERS (4):
#    the same wrk while the senders drain the outbox ("draining"), then the
#    time until the receiver holds EVENTS distinct eventIds.
# 4. "idle": the same wrk once the outbox is empty.
# Reported: deliveries per second against the bound SENDERS * 1000 /
# DELAY_MS (each sender waits DELAY_MS per delivery), the API's p50/p99 in
# each phase, duplicates received, every signature checked by hookrecv,
# and vodup's peak RSS (VmHWM) over the drain.  Everything it starts is
# stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib/ws3.sh"
# shellcheck source=lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

VODUP_BIN=${VODUP_BIN:-$ROOT/build/vodup}
HOOKRECV=${HOOKRECV:-$(dirname "$VODUP_BIN")/tools/hookrecv}
VODUP_PORT=${VODUP_PORT:-18090}
HOOK_PORT=${HOOK_PORT:-18091}
EVENTS=${EVENTS:-1000}
PARALLEL=${PARALLEL:-4}
SENDERS=${SENDERS:-4}
DELAY_MS=${DELAY_MS:-200}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}

die() { echo "webhooks: $*" >&2; exit 1; }
for tool in wrk curl sqlite3 xargs; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh --bench installs wrk)"
done
[ -x "$VODUP_BIN" ] || die "$VODUP_BIN is missing: run 'make build'"
[ -x "$HOOKRECV" ] || die "$HOOKRECV is missing: it is built with the tests (make build builds it)"
ws3_selftest || die "bench/lib/ws3.sh does not reproduce the API contract's test vectors"
port_busy "$VODUP_PORT" && die "port $VODUP_PORT is in use (set VODUP_PORT)"

work=$(mktemp -d "${TMPDIR:-/tmp}/vodup-bench-webhooks.XXXXXX")
vodup_pid="" hook_pid="" watch_pid=""
cleanup() {
  local rc=$?
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  bench_stop_servers
  if [ -n "$hook_pid" ]; then kill -TERM "$hook_pid" 2>/dev/null || true; wait "$hook_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SERVE_ARGS=(--processing off --rate-limit 0 --connections-per-ip 1024 --access-log off)
serve() { # WORKERS: the first start, which prints the key into AK and SK
  bench_vodup_start "$VODUP_PORT" "$work/data" "${SERVE_ARGS[@]}" --webhook-workers "$1"
}
reserve() { # WORKERS: the same data again (the key is not printed twice)
  "$VODUP_BIN" serve --listen "127.0.0.1:$VODUP_PORT" --data "$work/data" "${SERVE_ARGS[@]}" \
    --webhook-workers "$1" >"$work/vodup.out" 2>"$work/vodup.err" &
  vodup_pid=$!
  wait_port "$VODUP_PORT" "$vodup_pid" || { cat "$work/vodup.err" >&2; die "vodup did not start again"; }
}
stop_vodup() {
  kill -TERM "$vodup_pid"
  wait "$vodup_pid" 2>/dev/null || true
  vodup_pid=""
}
pending() { sqlite3 -readonly "$work/data/vodup.db" "SELECT count(*) FROM deliveries WHERE state = 'pending'"; }

# ---- the webhook and its receiver ----
serve 0
secret=$("$VODUP_BIN" admin --data "$work/data" webhook add "http://127.0.0.1:$HOOK_PORT/hook" \
  --events FileUploadComplete --json | sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
[ -n "$secret" ] || die "webhook add printed no secret"
port_busy "$HOOK_PORT" && die "port $HOOK_PORT is in use (set HOOK_PORT)"
# hookrecv checks every delivery's signature with the webhook's secret.
"$HOOKRECV" --log "$work/hook.log" --port "$HOOK_PORT" --delay-ms "$DELAY_MS" --secret "$secret" \
  >"$work/hook.out" 2>"$work/hook.err" &
hook_pid=$!
wait_port "$HOOK_PORT" "$hook_pid" || { cat "$work/hook.err" >&2; die "hookrecv did not start"; }

# ---- the backlog ----
echo "# backlog: $EVENTS uploads, $PARALLEL at a time, no sender running"
mkdir -p "$work/files"
for i in $(seq "$EVENTS"); do head -c 1024 /dev/urandom >"$work/files/clip-$i.mp4"; done
export VODUP_ENDPOINT="http://127.0.0.1:$VODUP_PORT" VODUP_ACCESS_KEY="$AK" VODUP_SECRET_KEY="$SK"
t0=$(date +%s.%N)
# shellcheck disable=SC2016 # expanded by the child shell
find "$work/files" -name 'clip-*.mp4' -print0 |
  xargs -0 -n 1 -P "$PARALLEL" sh -c 'timeout 60 "$0" upload "$1" >/dev/null 2>&1 || echo "upload failed: $1" >&2' \
    "$VODUP_BIN"
t1=$(date +%s.%N)
n=$(pending)
echo "  $n deliveries pending after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
[ "$n" -eq "$EVENTS" ] || die "expected $EVENTS pending deliveries, found $n"

# ---- a signed read for wrk ----
vid=$(sqlite3 -readonly "$work/data/vodup.db" "SELECT video_id FROM videos LIMIT 1")
info_path=/vod/videoManage/getVideoInfo
sign_info() { ws3_wrk_get_script "$work/info.lua" "$info_path" "videoId=$vid" "127.0.0.1:$VODUP_PORT" "$AK" "$SK"; }
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
run_wrk() { # NAME -> "rps p50 p99 non2xx"
  local out="$work/$1.wrk"
  sign_info
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/info.lua" \
    "http://127.0.0.1:$VODUP_PORT$info_path?videoId=$vid" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  echo "$(awk '/^Requests\/sec:/ {print $2}' "$out") $(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")" \
    "$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")") $(awk '/Non-2xx/ {print $NF}' "$out" | grep . || echo 0)"
}

echo "# phase 1: the API with $n events pending and no sender"
backlog=$(run_wrk backlog) || die "wrk failed"
stop_vodup

# ---- the drain ----
echo "# phase 2: $SENDERS senders against a receiver that answers after $DELAY_MS ms"
delivered() { grep -c '"status":200' "$work/hook.log" 2>/dev/null || true; }
before=$(delivered)
reserve "$SENDERS"
(peak=0
  while kill -0 "$vodup_pid" 2>/dev/null; do
    v=$(awk '/^VmHWM/ {print $2}' "/proc/$vodup_pid/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$peak" ] && peak=$v && echo "$peak" >"$work/hwm"
    sleep 0.5
  done) &
watch_pid=$!
d0=$(date +%s.%N)
draining=$(run_wrk draining) || die "wrk failed"
deadline=$(( $(date +%s) + 600 ))
while [ "$(pending)" -gt 0 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || die "the outbox did not drain in 10 minutes"
  sleep 0.2
done
d1=$(date +%s.%N)
idle=$(run_wrk idle) || die "wrk failed"
hwm=$(cat "$work/hwm" 2>/dev/null || echo 0)
stop_vodup
kill "$watch_pid" 2>/dev/null || true
watch_pid=""

# ---- what the receiver saw ----
got=$(( $(delivered) - before ))
distinct=$(grep -o '"x-vodup-event-id":"[^"]*"' "$work/hook.log" | sort -u | wc -l)
bad_sigs=$(grep -c '"sig_ok":false' "$work/hook.log" || true)
secs=$(awk -v a="$d0" -v b="$d1" 'BEGIN {printf "%.1f", b - a}')
rate=$(awk -v n="$EVENTS" -v s="$secs" 'BEGIN {printf "%.1f", n / s}')
bound=$(awk -v w="$SENDERS" -v d="$DELAY_MS" 'BEGIN {printf "%.1f", w * 1000 / d}')
echo
echo "drain: $EVENTS deliveries in $secs s = $rate/s (bound with $SENDERS senders x $DELAY_MS ms: $bound/s)"
echo "receiver: $got answered 200, $distinct distinct eventIds, $((got - distinct)) duplicates, $bad_sigs bad signatures"
echo "vodup peak RSS during the drain: $((hwm / 1024)) MiB"
printf '%-22s %10s %9s %9s %8s\n' "getVideoInfo" "req/s" "p50 ms" "p99 ms" "non-2xx"
for row in "backlog, no sender:$backlog" "draining:$draining" "idle (outbox empty):$idle"; do
  read -r rps p50 p99 bad <<<"${row#*:}"
  printf '%-22s %10s %9s %9s %8s\n' "${row%%:*}" "$rps" "$p50" "$p99" "$bad"
done
[ "$distinct" -eq "$EVENTS" ] || die "the receiver holds $distinct distinct events, not $EVENTS"
[ "$bad_sigs" -eq 0 ] || die "$bad_sigs deliveries failed the signature check"
