#!/usr/bin/env bash
# webhooks.sh: webhook delivery throughput, and the API's latency, while a
# backlog of events is pending against a receiver that answers slowly.
#
#   bench/webhooks.sh [BUILD_DIR | PATH/TO/vodup]
#       (default: $VODUP_BIN, else build/vodup; hookrecv is taken from
#        BUILD_DIR/tools/hookrecv unless HOOKRECV_BIN names it)
#   environment: EVENTS, ROUNDS, WORKERS, DELAY_MS, UPLOAD_JOBS, API_DURATION,
#                API_CONNECTIONS, API_THREADS, API_DELAY_MS, POLL_MS,
#                UPLOAD_TIMEOUT_S, BACKLOG_TIMEOUT_S, DRAIN_TIMEOUT_S,
#                VODUP_ARGS, KEEP
#
# Run by hand, never by the test suite: with the defaults it takes about
# 5 minutes on a quiet 2-core machine. Needs wrk, jq, sqlite3 and curl
# (scripts/install-deps.sh --bench), and the test receiver hookrecv, which
# the normal build makes (tests/tools/hookrecv.c).
#
# Each of ROUNDS (3) rounds starts from nothing, in its own data directory:
#   1. hookrecv (the receiver) starts with --delay-ms DELAY_MS (200): it logs
#      each request, then waits that long before answering 200. An account key
#      is made with `vodup admin key create`.
#   2. `vodup serve --webhook-workers 0` (nothing is sent) on 127.0.0.1, on a
#      port the kernel picks, with --processing off and --rate-limit 0 (wrk's
#      requests would otherwise get 429). One tiny video is uploaded, and
#      wrk measures the API with an empty outbox: window "idle".
#   3. `vodup admin webhook add` points the account's FileUploadComplete
#      events at hookrecv. EVENTS (1000) videos of 1 KiB are then uploaded
#      with `vodup upload` (getUploadToken, then one form upload each),
#      UPLOAD_JOBS (4) at a time through xargs -P, each under its own
#      time-out (UPLOAD_TIMEOUT_S, 60) and all under BACKLOG_TIMEOUT_S (300).
#      Every upload makes one FileUploadComplete event and one pending
#      delivery. The script checks in the database (sqlite3, read-only)
#      that exactly EVENTS deliveries are pending and that hookrecv has
#      received nothing, then measures the API again: window "backlog".
#   4. vodup is stopped and started again on the same data with
#      --webhook-workers WORKERS (4); wrk measures the API from the moment
#      it listens: window "drain" (the drain must outlast it; the script
#      says when it did not). Nothing else runs meanwhile; afterwards the
#      database is polled every POLL_MS (200) until no delivery is pending.
#      The drain lasts from the start of that process to the last
#      delivery's recorded attempt (the database's CLOCK_REALTIME ms), so
#      the poll's granularity does not count.
#   5. The check of what arrived: no delivery failed, every one is
#      delivered, and hookrecv's log holds exactly the database's events (by
#      X-Vodup-Event-Id), every one answered 200. Requests beyond one per
#      event are duplicates, counted (at-least-once delivery allows them;
#      none are expected from a receiver that answers in time).
#
# The API load is the one bench/processing.sh uses for its "API during a
# transcode" figures: wrk -t1 -c4 -d8s --latency on a signed GET
# getVideoInfo of the tiny video (signed just before each wrk run). Each of
# the 4 connections sends its next request as soon as its answer arrives,
# so vodup and wrk keep the 2 cores busy (about 13k req/s) and the p99 shows
# the wait a request meets on a loaded machine; API_DELAY_MS (0) makes each
# connection pause that long between requests (a paced load) instead. The
# figures to compare are the three windows of the same run.
#
# Throughput: EVENTS / drain time ("wall", including the server's start),
# and from the receiver's side EVENTS / (last request's arrival - first's +
# DELAY_MS). The bound is WORKERS x 1000 / DELAY_MS deliveries/s (20 with
# the defaults): each sender holds one delivery at a time, and each takes
# at least DELAY_MS. vodup's CPU per delivery is taken over the part of the
# drain after wrk (shown when at least 50 deliveries are left for it).
# Memory: VmHWM (the peak resident set) of the server that held the backlog
# without sending (after the uploads and its wrk run) and of the server
# that drained it (after the drain and its wrk run).
#
# The machine may be shared: for each wrk window the script notes the cores
# that other processes (not the script, its children, vodup or hookrecv)
# used meanwhile; above about 0.1 that window's latencies are disturbed.
#
# Reported: each round, then the medians of the rounds (duplicates: the
# sum; the largest "others" of any round). Exits non-zero when an upload,
# the backlog, a delivery or the receiver's log is wrong, or when wrk saw
# errors. There are no targets. Everything it starts is stopped by PID on
# exit (the uploads by their process group); KEEP=1 keeps the temp dir
# (logs, databases).
set -euo pipefail
export LC_ALL=C # '.' in EPOCHREALTIME, plain sorting

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/ws3.sh
source "$ROOT/bench/lib/ws3.sh"
# shellcheck source=lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

die() { echo "webhooks: $*" >&2; exit 1; }
case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac

target=${1:-${VODUP_BIN:-$ROOT/build/vodup}}
if [ -d "$target" ]; then
  VODUP_BIN=$target/vodup build_dir=$target
else
  VODUP_BIN=$target build_dir=$(dirname "$target")
fi
if [ -z "${HOOKRECV_BIN:-}" ]; then
  HOOKRECV_BIN=$build_dir/tools/hookrecv
  [ -x "$HOOKRECV_BIN" ] || [ ! -x "$build_dir/hookrecv" ] || HOOKRECV_BIN=$build_dir/hookrecv
fi
EVENTS=${EVENTS:-1000}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-4}
DELAY_MS=${DELAY_MS:-200}
UPLOAD_JOBS=${UPLOAD_JOBS:-4}
API_DURATION=${API_DURATION:-8s}
API_CONNECTIONS=${API_CONNECTIONS:-4}
API_THREADS=${API_THREADS:-1}
API_DELAY_MS=${API_DELAY_MS:-0}
POLL_MS=${POLL_MS:-200}
UPLOAD_TIMEOUT_S=${UPLOAD_TIMEOUT_S:-60}
BACKLOG_TIMEOUT_S=${BACKLOG_TIMEOUT_S:-300}
KEEP=${KEEP:-0}
INFO_PATH=/vod/videoManage/getVideoInfo

for tool in wrk jq sqlite3 curl openssl timeout xargs; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh --bench installs wrk and jq)"
done
[ -x "$VODUP_BIN" ] || die "$VODUP_BIN is missing: build vodup (make build), or give its build directory"
[ -x "$HOOKRECV_BIN" ] || die "$HOOKRECV_BIN is missing: it is built with vodup (tests/tools/hookrecv.c), or set HOOKRECV_BIN"
for n in EVENTS ROUNDS WORKERS DELAY_MS UPLOAD_JOBS API_CONNECTIONS API_THREADS API_DELAY_MS POLL_MS \
  UPLOAD_TIMEOUT_S BACKLOG_TIMEOUT_S; do
  [[ ${!n} =~ ^[0-9]+$ ]] || die "$n must be a whole number"
done
if [ "$EVENTS" -lt 1 ] || [ "$ROUNDS" -lt 1 ] || [ "$WORKERS" -lt 1 ] || [ "$UPLOAD_JOBS" -lt 1 ] ||
  [ "$POLL_MS" -lt 10 ]; then
  die "EVENTS, ROUNDS, WORKERS and UPLOAD_JOBS must be >= 1, POLL_MS >= 10"
fi
# By default 3 x the bound's time, plus a minute.
DRAIN_TIMEOUT_S=${DRAIN_TIMEOUT_S:-$((EVENTS * DELAY_MS * 3 / WORKERS / 1000 + 60))}
[[ $DRAIN_TIMEOUT_S =~ ^[0-9]+$ ]] || die "DRAIN_TIMEOUT_S must be a whole number"
ws3_selftest || die "bench/lib/ws3.sh does not reproduce the API contract's test vectors"

work=$(mktemp -d "${TMPDIR:-/tmp}/vodup-webhooks-bench.XXXXXX")
# shellcheck disable=SC2034 # nginx_pid: bench_stop_servers reads it (no nginx here)
vodup_pid="" nginx_pid="" hook_pid="" wrk_pid="" upload_pid="" tick_fd=""
stop_hookrecv() {
  if [ -n "$hook_pid" ]; then
    kill -TERM "$hook_pid" 2>/dev/null || true
    wait "$hook_pid" 2>/dev/null || true
    hook_pid=""
  fi
}
cleanup() {
  local rc=$?
  [ -z "$wrk_pid" ] || { kill -TERM "$wrk_pid" 2>/dev/null || true; wait "$wrk_pid" 2>/dev/null || true; }
  # The uploads run in the process group of their `timeout` (its PID).
  [ -z "$upload_pid" ] || { kill -TERM -- "-$upload_pid" 2>/dev/null || true; wait "$upload_pid" 2>/dev/null || true; }
  bench_stop_servers
  stop_hookrecv
  if [ "$KEEP" = 1 ]; then echo "webhooks: kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkfifo "$work/tick"
exec {tick_fd}<>"$work/tick" # never written: `read -t` on it is a sleep without a process
sleep_ms() { # MS, without starting a process
  local t
  printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
  read -r -t "$t" -u "$tick_fd" _ || true
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

# ---- the servers ----
# Starts hookrecv answering after DELAY_MS; sets hook_pid and HOOK_PORT.
start_hookrecv() { # DIR
  "$HOOKRECV_BIN" --log "$1/hook.log" --delay-ms "$DELAY_MS" >"$1/hook.out" 2>"$1/hook.err" &
  hook_pid=$!
  HOOK_PORT=""
  for _ in $(seq 100); do
    HOOK_PORT=$(sed -n 's/^port=\([0-9]*\)$/\1/p' "$1/hook.out")
    [ -z "$HOOK_PORT" ] || return 0
    kill -0 "$hook_pid" 2>/dev/null || break
    sleep_ms 50
  done
  cat "$1/hook.err" >&2
  die "hookrecv did not start"
}
# Starts `vodup serve` on a port the kernel picks with WORKERS senders;
# sets vodup_pid, HOSTPORT and ENDPOINT once it prints that it listens.
start_vodup() { # DIR WORKERS
  # shellcheck disable=SC2086 # VODUP_ARGS is a list of flags
  "$VODUP_BIN" serve --listen 127.0.0.1:0 --data "$1/data" --processing off --rate-limit 0 --access-log off \
    --webhook-workers "$2" ${VODUP_ARGS:-} >"$1/vodup.out" 2>>"$1/vodup.err" &
  vodup_pid=$!
  HOSTPORT=""
  for _ in $(seq 200); do
    HOSTPORT=$(sed -n 's|^vodup: listening on http://\([^ ]*\) .*|\1|p' "$1/vodup.out")
    [ -z "$HOSTPORT" ] || { ENDPOINT=http://$HOSTPORT; return 0; }
    kill -0 "$vodup_pid" 2>/dev/null || break
    sleep_ms 50
  done
  cat "$1/vodup.err" >&2
  die "vodup did not start"
}
stop_vodup() { bench_stop_servers; vodup_pid=""; }
hwm_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$vodup_pid/status"; }
# The number of deliveries in STATE, read from the database without writing.
count_deliveries() { # DIR STATE
  sqlite3 -readonly -cmd '.timeout 5000' "$1/data/vodup.db" "SELECT count(*) FROM deliveries WHERE state = '$2'"
}

# ---- the API load ----
to_ms() { # wrk latency like 512.00us, 1.23ms, 2.01s
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
# Writes DIR/info.lua: getVideoInfo of VIDEO, signed now (valid for 300 s).
sign_info() { # DIR VIDEO
  ws3_sign_get "$INFO_PATH" "videoId=$2" "$HOSTPORT" "$AK" "$SK"
  INFO_HEADERS=(-H "X-WS-AccessKey: $AK" -H "X-WS-Timestamp: $WS3_TS" -H "Authorization: $WS3_AUTH")
  ws3_wrk_get_script "$1/info.lua" "$AK"
  [ "$API_DELAY_MS" -eq 0 ] || printf 'function delay() return %d end\n' "$API_DELAY_MS" >>"$1/info.lua"
}
# Started in the background so that cleanup can stop it by PID.
api_load_start() { # DIR VIDEO NAME
  sign_info "$1" "$2"
  wrk -t"$API_THREADS" -c"$API_CONNECTIONS" -d"$API_DURATION" --latency -s "$1/info.lua" \
    "$ENDPOINT$INFO_PATH?videoId=$2" >"$1/wrk.$3" 2>&1 &
  wrk_pid=$!
}
# Waits for wrk; sets API_RESULT to "p50_ms p99_ms req/s bad" (bad: non-2xx
# answers and socket errors) and API_END to when it ended.
api_load_finish() { # DIR NAME
  local out=$1/wrk.$2 p50 p99 rps bad
  wait "$wrk_pid" || { cat "$out" >&2; die "wrk failed"; }
  API_END=$EPOCHREALTIME
  wrk_pid=""
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {s += $NF} /Socket errors:/ {gsub(",", ""); s += $4 + $6 + $8 + $10}
    END {print s + 0}' "$out")
  [ -n "$rps" ] || { cat "$out" >&2; die "wrk printed no statistics"; }
  [ "$bad" -eq 0 ] || { cat "$out" >&2; die "wrk saw $bad non-2xx answers or socket errors ($2)"; }
  API_RESULT="$p50 $p99 $rps $bad"
}

# ---- the uploads ----
head -c 1024 /dev/zero | openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f -iv "$(openssl rand -hex 16)" \
  -out "$work/tiny.mp4"
# One video per fileId: `vodup upload` registers it (getUploadToken with its
# size and MD5) and sends it in one form upload (a file under 4 MiB).
upload_env() { # DIR
  export VODUP_ENDPOINT=$ENDPOINT VODUP_ACCESS_KEY=$AK VODUP_SECRET_KEY=$SK XDG_CACHE_HOME=$1/cache
}
# Uploads fileIds PREFIX-1 .. PREFIX-EVENTS, UPLOAD_JOBS at a time; one JSON
# line per upload goes to DIR/uploads.jsonl. xargs starts each `vodup
# upload` itself: no bash subshells, no `wait` on many children. The outer
# `timeout` puts itself, xargs and the uploads in one process group (its
# PID), which cleanup stops as a whole; the inner ones stay in it
# (--foreground) and bound each upload.
build_backlog() { # DIR PREFIX
  local rc=0 ok
  upload_env "$1"
  seq 1 "$EVENTS" | sed "s/^/$2-/" >"$1/file-ids"
  timeout "$BACKLOG_TIMEOUT_S" xargs -P "$UPLOAD_JOBS" -I'{}' \
    timeout --foreground "$UPLOAD_TIMEOUT_S" "$VODUP_BIN" upload "$work/tiny.mp4" --json --file-id '{}' \
    <"$1/file-ids" >"$1/uploads.jsonl" 2>"$1/uploads.err" &
  upload_pid=$!
  wait "$upload_pid" || rc=$?
  upload_pid=""
  if [ "$rc" -ne 0 ]; then
    grep -v '^[[:space:]]*$' "$1/uploads.err" | sort | uniq -c | sort -rn | head -n 5 >&2
    [ "$rc" -ne 124 ] || die "the uploads took more than BACKLOG_TIMEOUT_S ($BACKLOG_TIMEOUT_S s)"
    die "an upload failed (xargs exited $rc)"
  fi
  ok=$(jq -r 'select(.size == 1024 and (.videoId | type == "string")) | .videoId' "$1/uploads.jsonl" | sort -u | wc -l) ||
    die "the uploads' output is not one JSON line each (see $1/uploads.jsonl)"
  [ "$ok" -eq "$EVENTS" ] || die "$ok of $EVENTS uploads printed a videoId"
}

# ---- the receiver's log ----
# Sets RECV to "requests distinct duplicates rate_per_s" and checks that
# the distinct event ids are exactly the database's.
check_receiver() { # DIR
  local dir=$1 requests distinct span
  jq -r '.headers["x-vodup-event-id"] // "none"' "$dir/hook.log" >"$dir/hook.ids"
  requests=$(wc -l <"$dir/hook.ids")
  sort -u "$dir/hook.ids" >"$dir/hook.distinct"
  distinct=$(wc -l <"$dir/hook.distinct")
  sqlite3 -readonly -cmd '.timeout 5000' "$dir/data/vodup.db" \
    "SELECT e.event_id FROM deliveries d JOIN events e ON e.seq = d.event_seq" | sort -u >"$dir/db.ids"
  [ "$(wc -l <"$dir/db.ids")" -eq "$EVENTS" ] || die "the database holds $(wc -l <"$dir/db.ids") deliveries, not $EVENTS"
  cmp -s "$dir/hook.distinct" "$dir/db.ids" ||
    die "the receiver got $distinct distinct events, not the database's $EVENTS (see $dir/hook.log)"
  [ "$(jq -r '.status' "$dir/hook.log" | sort -u)" = 200 ] || die "hookrecv answered something else than 200"
  span=$(jq -s 'map(.recv_ms) | max - min' "$dir/hook.log")
  RECV="$requests $distinct $((requests - distinct)) $(awk -v n="$distinct" -v s="$span" -v d="$DELAY_MS" \
    'BEGIN {printf "%.2f", n * 1000 / (s + d)}')"
}

# ---- CPU accounting ----
# cpu_ticks: "machine ours vodup" in ticks (1/100 s): the machine's busy time
# (steal included); this script's with its reaped children (wrk, the
# uploads, sqlite3) plus hookrecv's; vodup's.
cpu_ticks() {
  local user nice system irq softirq steal ours=0 v=0
  local -a f
  read -r _ user nice system _ _ irq softirq steal _ </proc/stat
  read -r -a f <"/proc/$$/stat" && ours=$((f[13] + f[14] + f[15] + f[16])) # no space in either comm
  [ -z "$hook_pid" ] || { read -r -a f <"/proc/$hook_pid/stat" && ours=$((ours + f[13] + f[14])); } 2>/dev/null
  [ -z "$vodup_pid" ] || { read -r -a f <"/proc/$vodup_pid/stat" && v=$((f[13] + f[14])); } 2>/dev/null
  echo "$((user + nice + system + irq + softirq + steal)) $ours $v"
}
# cpu_use BEFORE AFTER T0 T1 (EPOCHREALTIME): "others_cores vodup_cores".
cpu_use() {
  awk -v b="$1" -v a="$2" -v t0="$3" -v t1="$4" 'BEGIN {
    split(b, x, " "); split(a, y, " "); o = (y[1] - x[1]) - (y[2] - x[2]) - (y[3] - x[3]); d = (t1 - t0) * 100
    printf "%.2f %.2f\n", (o < 0 ? 0 : o) / d, (y[3] - x[3]) / d }'
}
# api_window DIR VIDEO NAME: a wrk run; sets API_RESULT to
# "p50 p99 req/s bad others_cores vodup_cores".
api_window() {
  local b t0
  b=$(cpu_ticks) t0=$EPOCHREALTIME
  api_load_start "$1" "$2" "$3"
  api_load_finish "$1" "$3"
  API_RESULT="$API_RESULT $(cpu_use "$b" "$(cpu_ticks)" "$t0" "$EPOCHREALTIME")"
}
show_api() { # LABEL RESULT
  local p50 p99 rps bad others vcores
  read -r p50 p99 rps bad others vcores <<<"$2"
  printf '           API %-8s p50 %6.3f ms  p99 %7.3f ms  %6.0f req/s  vodup %s cores, others %s cores\n' \
    "$1" "$p50" "$p99" "$rps" "$vcores" "$others"
}

BOUND=$(awk -v w="$WORKERS" -v d="$DELAY_MS" 'BEGIN {if (d > 0) printf "%.1f", w * 1000 / d; else print "-"}')
echo "webhooks: $EVENTS events, $WORKERS senders, receiver answers after $DELAY_MS ms (bound $BOUND deliveries/s)," \
  "$ROUNDS round(s)"
echo "webhooks: API load wrk -t$API_THREADS -c$API_CONNECTIONS -d$API_DURATION, $API_DELAY_MS ms between requests," \
  "signed GET getVideoInfo; $UPLOAD_JOBS uploads at a time; vodup $VODUP_BIN; data in $work"
: >"$work/results"
for round in $(seq 1 "$ROUNDS"); do
  dir=$work/r$round
  mkdir -p "$dir"
  # 1. the receiver and the account
  start_hookrecv "$dir"
  "$VODUP_BIN" admin --data "$dir/data" key create --name bench --json >"$dir/key.json" || die "key create failed"
  AK=$(jq -r .accessKey "$dir/key.json") SK=$(jq -r .secretKey "$dir/key.json")
  # 2. no senders; one video (before the webhook exists: no delivery), and
  # the API with an empty outbox
  start_vodup "$dir" 0
  upload_env "$dir"
  "$VODUP_BIN" upload "$work/tiny.mp4" --json --file-id "look-$round" >"$dir/look.json" ||
    die "the first upload failed"
  vid=$(jq -r .videoId "$dir/look.json")
  sign_info "$dir" "$vid"
  curl -sS --max-time 10 "${INFO_HEADERS[@]}" "$ENDPOINT$INFO_PATH?videoId=$vid" | jq -e '.code == 200' >/dev/null ||
    die "the signed getVideoInfo is not answered 200"
  api_window "$dir" "$vid" idle
  idle=$API_RESULT
  # 3. the webhook, the backlog, and the API with it pending
  "$VODUP_BIN" admin --data "$dir/data" --account bench --json webhook add "http://127.0.0.1:$HOOK_PORT/hook" \
    --events FileUploadComplete >"$dir/webhook.json" || die "webhook add failed"
  t=$EPOCHREALTIME
  build_backlog "$dir" "ev$round"
  build_s=$(elapsed "$t" "$EPOCHREALTIME")
  pending=$(count_deliveries "$dir" pending)
  [ "$pending" -eq "$EVENTS" ] || die "$pending deliveries are pending, not $EVENTS"
  [ ! -s "$dir/hook.log" ] || die "hookrecv received a request while no sender ran"
  api_window "$dir" "$vid" backlog
  backlog=$API_RESULT
  hwm_backlog=$(hwm_mib)
  stop_vodup
  # 4. the drain: only wrk beside it while wrk measures, then the poll
  t0=$EPOCHREALTIME
  start_vodup "$dir" "$WORKERS"
  api_window "$dir" "$vid" drain
  drain=$API_RESULT
  api_end=$API_END
  mid_ticks=$(cpu_ticks) mid_done=$(count_deliveries "$dir" delivered)
  while :; do
    left=$(count_deliveries "$dir" pending)
    [ "$left" -ne 0 ] || break
    [ "$(elapsed "$t0" "$EPOCHREALTIME" | cut -d. -f1)" -lt "$DRAIN_TIMEOUT_S" ] ||
      die "$left deliveries still pending after DRAIN_TIMEOUT_S ($DRAIN_TIMEOUT_S s)"
    kill -0 "$vodup_pid" 2>/dev/null || die "vodup died during the drain"
    sleep_ms "$POLL_MS"
  done
  end_ticks=$(cpu_ticks)
  hwm_drain=$(hwm_mib)
  stop_vodup
  stop_hookrecv
  # 5. what arrived
  failed=$(count_deliveries "$dir" failed)
  [ "$failed" -eq 0 ] || die "$failed deliveries failed"
  [ "$(count_deliveries "$dir" delivered)" -eq "$EVENTS" ] || die "not every delivery is recorded as delivered"
  check_receiver "$dir"
  last_ms=$(sqlite3 -readonly -cmd '.timeout 5000' "$dir/data/vodup.db" "SELECT max(last_attempt_ms) FROM deliveries")
  drain_s=$(awk -v l="$last_ms" -v t="$t0" 'BEGIN {printf "%.3f", l / 1000 - t}')
  rate=$(awk -v n="$EVENTS" -v s="$drain_s" 'BEGIN {printf "%.2f", n / s}')
  overlap=full
  awk -v e="$api_end" -v t="$t0" -v s="$drain_s" 'BEGIN {exit !(e > t + s)}' && overlap=partial
  cpu_ms=$(awk -v a="$mid_ticks" -v b="$end_ticks" -v n=$((EVENTS - mid_done)) 'BEGIN {
    split(a, x, " "); split(b, y, " "); if (n < 50) print "-"; else printf "%.2f", (y[3] - x[3]) * 10 / n }')
  read -r requests distinct dups recv_rate <<<"$RECV"
  # fields: 1 drain_s 2 rate 3 recv_rate 4 dups 5-10 idle 11-16 backlog 17-22 drain
  #   (p50 p99 req/s bad others_cores vodup_cores) 23 hwm_backlog 24 hwm_drain 25 build_s 26 cpu_ms
  echo "$drain_s $rate $recv_rate $dups $idle $backlog $drain $hwm_backlog $hwm_drain $build_s $cpu_ms" \
    >>"$work/results"
  printf '  round %d: backlog of %d built in %.1f s; drained in %.1f s: %s/s (receiver side %s/s);' \
    "$round" "$EVENTS" "$build_s" "$drain_s" "$rate" "$recv_rate"
  printf ' %d requests, %d distinct events, %d duplicates; vodup CPU %s ms per delivery\n' \
    "$requests" "$distinct" "$dups" "$cpu_ms"
  show_api idle "$idle"
  show_api backlog "$backlog"
  show_api drain "$drain"
  printf '           vodup VmHWM: %s MiB holding the backlog, %s MiB draining it\n' "$hwm_backlog" "$hwm_drain"
  [ "$overlap" = full ] || echo "  WARNING: round $round's drain ended before its wrk run: its 'drain' p99 is partly idle"
done

# ---- summary ----
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
  else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { cut -d' ' -f"$1" "$work/results" | { grep -v '^-$' || true; } | median |
  awk -v f="${2:-%.2f}" '{if ($1 == "-") print; else printf f "\n", $1}'; }
colmax() { cut -d' ' -f"$1" "$work/results" | sort -g | tail -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b}'; }
rate=$(col 2) recv_rate=$(col 3)
echo
echo "median of $ROUNDS round(s): $EVENTS events, $WORKERS senders, receiver delay $DELAY_MS ms"
printf '  %-46s %s s\n' "backlog built ($UPLOAD_JOBS uploads at a time)" "$(col 25 %.1f)"
printf '  %-46s %s s\n' "drain (server start -> last delivery recorded)" "$(col 1 %.1f)"
printf '  %-46s %s/s (%s of the bound %s/s)\n' "deliveries/s, wall" "$rate" "$(ratio "$rate" "$BOUND")" "$BOUND"
printf '  %-46s %s/s (%s of the bound)\n' "deliveries/s, receiver side" "$recv_rate" "$(ratio "$recv_rate" "$BOUND")"
printf '  %-46s %s (sum of the rounds)\n' "duplicate deliveries" "$(awk '{s += $4} END {print s + 0}' "$work/results")"
printf '  %-46s %s ms\n' "vodup CPU per delivery (after wrk)" "$(col 26 %.2f)"
echo
printf '  %-34s %8s %8s %8s %10s %12s %12s\n' "API: signed GET getVideoInfo" "p50 ms" "p99 ms" "req/s" "p99/idle" \
  "vodup cores" "others max"
idle_p99=$(col 6 %.3f)
api_row() { # LABEL FIRST_FIELD
  local first=$2 p99
  p99=$(col $((first + 1)) %.3f)
  printf '  %-34s %8s %8s %8s %10s %12s %12s\n' "$1" "$(col "$first" %.3f)" "$p99" "$(col $((first + 2)) %.0f)" \
    "$(ratio "$p99" "$idle_p99")" "$(col $((first + 5)) %.2f)" "$(colmax $((first + 4)))"
}
api_row "idle, outbox empty" 5
api_row "$EVENTS pending, no sender" 11
api_row "during the drain ($WORKERS senders)" 17
echo
printf '  %-46s %s MiB\n' "vodup VmHWM, holding the backlog (no sender)" "$(col 23 %.1f)"
printf '  %-46s %s MiB (largest round: %s MiB)\n' "vodup VmHWM, draining it" "$(col 24 %.1f)" "$(colmax 24)"
echo "(others max: the most cores that processes outside this benchmark used in any round's window; above"
echo " about 0.1 the API figures of that window are disturbed)"
