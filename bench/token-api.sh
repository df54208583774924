#!/usr/bin/env bash
# token-api.sh: creating uploads, vodup's getUploadToken against the @tus/server
# peer's creation POST, throughput and latency in one run.
#
#   make bench          (builds build/vodup, installs wrk and nginx-light, runs this)
#   bench/token-api.sh  (environment: VODUP_BIN, VODUP_ARGS, ROUNDS, DURATION, ACCESS_LOG, PERF_OUT, ...)
#
# Starts vodup (release build, temp data dir, --rate-limit 0) on 127.0.0.1:18080,
# the peer, @tus/server 1.10 with its FileStore (npm, pinned by
# bench/js/package-lock.json, installed under build/bench-js), on
# 127.0.0.1:18082, and nginx (`return 200` of a ~300-byte JSON, 2 workers,
# access_log off) on 127.0.0.1:18081, all outside the kernel's ephemeral
# range 32768-60999.
# Drives each with wrk -t2 -c64 -d10s --latency: vodup with a pre-signed POST
# getUploadToken (form body; every request registers a video, with the
# default durable group commit: fsynced before the answer), the peer with a
# tus creation POST (Upload-Length 1 MiB; FileStore writes a file and its
# JSON metadata, fsyncing neither), nginx with the same request as vodup.
# Each is what a client does to start an upload. nginx's static answer is
# printed as the machine's ceiling only; its old 0.4 target is retired.
# Runs alternate nginx, peer, vodup, ... (ROUNDS triples) because this shared
# machine drifts by up to ~35% between runs, and the medians are compared.
# Then, unless REFERENCES=0, one round each of two cheaper requests on the
# same vodup, to show where the time goes: GET /healthz (the HTTP layer
# alone) and a signed GET getVideoInfo (authentication, a reader thread and
# suspend/resume, but no write); docs/performance.md explains the numbers.
# Targets: vodup req/s >= 1.0 x the peer's creations/s, vodup p99 <= 10 ms.
# Exits non-zero when vodup answered anything but 200 (or, with STRICT=1,
# when a target is missed). Everything it starts is stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib/ws3.sh"
# shellcheck source=lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

VODUP_BIN=${VODUP_BIN:-$ROOT/build/vodup}
VODUP_PORT=${VODUP_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
PEER_PORT=${PEER_PORT:-18082}
PEER_DEPS=${PEER_DEPS:-$ROOT/build/bench-js}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
# Off by default, like nginx's here: both servers then do no per-request logging.
ACCESS_LOG=${ACCESS_LOG:-off}
STRICT=${STRICT:-0}
REFERENCES=${REFERENCES:-1}
TARGET_RATIO=1.0
TARGET_P99_MS=10

die() { echo "token-api: $*" >&2; exit 1; }
for tool in wrk nginx openssl curl node npm; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh --bench installs wrk and nginx-light)"
done
[ -x "$VODUP_BIN" ] || die "$VODUP_BIN is missing: run 'make build' (or make bench)"
ws3_selftest || die "bench/lib/ws3.sh does not reproduce the API contract's test vectors"

work=$(mktemp -d "${TMPDIR:-/tmp}/vodup-bench.XXXXXX")
vodup_pid="" nginx_pid="" peer_pid=""
cleanup() {
  local rc=$?
  bench_stop_servers
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy "$VODUP_PORT" && die "port $VODUP_PORT is in use (set VODUP_PORT)"
port_busy "$NGINX_PORT" && die "port $NGINX_PORT is in use (set NGINX_PORT)"
port_busy "$PEER_PORT" && die "port $PEER_PORT is in use (set PEER_PORT)"

# ---- the peer: @tus/server with its FileStore ----
bench_peer_start "$PEER_PORT" "$work/tus"
cat >"$work/tus.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Tus-Resumable"] = "1.0.0"
wrk.headers["Upload-Length"] = "1048576"
EOF

# ---- vodup ----
# All load comes from one address: like the rate limit, the per-address
# connection bound (64, wrk's -c64 exactly) is lifted.
# shellcheck disable=SC2086 # VODUP_ARGS is a list of flags
bench_vodup_start "$VODUP_PORT" "$work/data" --rate-limit 0 --connections-per-ip 1024 --access-log "$ACCESS_LOG" \
  ${VODUP_ARGS:-}

# ---- nginx ----
# About 300 bytes, shaped like a getUploadToken answer.
json='{"code":200,"message":"Operation successfully","data":{"videoId":"019ab7c2d1e04f6a9c3b2e8d7f10a4b5","fileKey":"video/20261124/019ab7c2d1e04f6a9c3b2e8d7f10a4b5/bench.mp4","uploadUrl":"http://127.0.0.1:18080","uploadToken":"AKbench:c2lnbmF0dXJl:cG9saWN5","bucketName":"vod-bench","httpDnsServer":"","speedDomainlUrl":""}}'
bench_nginx_start "$NGINX_PORT" "    location / {
      default_type application/json;
      return 200 '$json';
    }"

# ---- the signed request ----
API_PATH=/vod/videoManage/getUploadToken
BODY='originFileName=bench.mp4'
CT='application/x-www-form-urlencoded'
# Writes the wrk script for a request signed now (timestamps are accepted
# within +-300 s, so each vodup round gets a fresh one).
sign_request() {
  local ts sig
  ts=$(date +%s)
  sig=$(ws3_signature POST "$API_PATH" '' "127.0.0.1:$VODUP_PORT" "$CT" "$BODY" "$ts" "$SK")
  AUTH="WS3-HMAC-SHA256 Credential=$AK, SignedHeaders=content-type;host, Signature=$sig"
  TS=$ts
  cat >"$work/request.lua" <<EOF
wrk.method = "POST"
wrk.body = "$BODY"
wrk.headers["Content-Type"] = "$CT"
wrk.headers["X-WS-AccessKey"] = "$AK"
wrk.headers["X-WS-Timestamp"] = "$ts"
wrk.headers["Authorization"] = "$AUTH"
EOF
}
# One request with the same headers; true when it is a 200 with code 200.
sample_ok() {
  local out
  out=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$VODUP_PORT$API_PATH" -H "Content-Type: $CT" \
    -H "X-WS-AccessKey: $AK" -H "X-WS-Timestamp: $TS" -H "Authorization: $AUTH" --data "$BODY")
  [ "$(tail -n 1 <<<"$out")" = 200 ] && grep -q '"code":200' <<<"$out"
}

# ---- wrk runs ----
to_ms() { # wrk latency like 512.00us, 1.23ms, 2.01s
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
# run_wrk NAME PORT DURATION [SCRIPT URL_PATH] -> prints "rps p50 p99 non2xx errors"
run_wrk() {
  local name=$1 port=$2 dur=$3 script=${4:-$work/request.lua} url_path=${5:-$API_PATH} out
  out="$work/$name.$RANDOM.wrk"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --latency -s "$script" \
    "http://127.0.0.1:$port$url_path" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  local rps p50 p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
  echo "${rps:-0} ${p50:-0} ${p99:-0} ${non2xx:-0} ${errors:-0}"
}
median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

sign_request
sample_ok || { curl -s "http://127.0.0.1:$VODUP_PORT$API_PATH" -H "Content-Type: $CT" -H "X-WS-AccessKey: $AK" \
  -H "X-WS-Timestamp: $TS" -H "Authorization: $AUTH" --data "$BODY" >&2; die "the signed request is not answered 200"; }

[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 1048576' \
  "http://127.0.0.1:$PEER_PORT/files")" = 201 ] || die "@tus/server does not answer a creation with 201"
echo "token-api: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds of nginx, @tus/server, vodup"
echo "token-api: vodup $VODUP_BIN, --rate-limit 0, --access-log $ACCESS_LOG, db-sync full (default), data in $work"
run_wrk nginx "$NGINX_PORT" "$WARMUP" >/dev/null || die "wrk failed"
run_wrk vodup "$VODUP_PORT" "$WARMUP" >/dev/null || die "wrk failed"
run_wrk peer "$PEER_PORT" "$WARMUP" "$work/tus.lua" /files >/dev/null || die "wrk failed"
[ "$(cat "$work/nginx/nginx.pid")" = "$nginx_pid" ] || die "nginx's pid file does not name the process started"
: >"$work/nginx.results"
: >"$work/peer.results"
: >"$work/vodup.results"
for round in $(seq 1 "$ROUNDS"); do
  r=$(run_wrk nginx "$NGINX_PORT" "$DURATION") || die "wrk failed"; echo "$r" >>"$work/nginx.results"
  printf '  round %d nginx: %s req/s, p50 %s ms, p99 %s ms\n' "$round" $(cut -d' ' -f1-3 <<<"$r")
  r=$(run_wrk peer "$PEER_PORT" "$DURATION" "$work/tus.lua" /files) || die "wrk failed"
  echo "$r" >>"$work/peer.results"
  printf '  round %d @tus/server: %s creations/s, p50 %s ms, p99 %s ms, non-2xx %s\n' "$round" $(cut -d' ' -f1-4 <<<"$r")
  sign_request
  n_round=$(cut -d' ' -f1 <<<"$r")
  # PERF_OUT=FILE: profile vodup (perf record -g) during its round.
  if [ -n "${PERF_OUT:-}" ]; then
    perf record -F 999 -g -p "$vodup_pid" -o "$PERF_OUT" -- sleep 8 >/dev/null 2>&1 &
  fi
  r=$(run_wrk vodup "$VODUP_PORT" "$DURATION") || die "wrk failed"; echo "$r" >>"$work/vodup.results"
  printf '  round %d vodup: %s req/s, p50 %s ms, p99 %s ms, non-2xx %s, socket errors %s (ratio %s)\n' "$round" $r \
    "$(awk -v a="$(cut -d' ' -f1 <<<"$r")" -v b="$n_round" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
done

col() { cut -d' ' -f"$2" "$work/$1.results" | median; }
n_rps=$(col nginx 1); n_p50=$(col nginx 2); n_p99=$(col nginx 3)
t_rps=$(col peer 1); t_p50=$(col peer 2); t_p99=$(col peer 3)
t_non2xx=$(awk '{s += $4} END {print s + 0}' "$work/peer.results")
v_rps=$(col vodup 1); v_p50=$(col vodup 2); v_p99=$(col vodup 3)
v_non2xx=$(awk '{s += $4} END {print s + 0}' "$work/vodup.results")
v_errors=$(awk '{s += $5} END {print s + 0}' "$work/vodup.results")
sample=bad; sign_request; sample_ok && sample=200
ratio=$(awk -v a="$v_rps" -v b="$t_rps" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
ceiling=$(awk -v a="$v_rps" -v b="$n_rps" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
ratio_ok=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN {print (r >= t) ? "met" : "MISSED"}')
p99_ok=$(awk -v p="$v_p99" -v t="$TARGET_P99_MS" 'BEGIN {print (p <= t) ? "met" : "MISSED"}')
rss=$(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {printf "VmRSS %.1f MiB, VmHWM %.1f MiB", r / 1024, h / 1024}' "/proc/$vodup_pid/status")
videos=$(cut -d' ' -f1 "$work/vodup.results" | awk -v d="${DURATION%s}" '{s += $1 * d} END {printf "%d", s}')

echo
printf '%-22s %12s %10s %10s\n' "median of $ROUNDS" "req/s" "p50 ms" "p99 ms"
printf '%-34s %12.0f %10.3f %10.3f\n' "nginx return 200 (ceiling)" "$n_rps" "$n_p50" "$n_p99"
printf '%-34s %12.0f %10.3f %10.3f\n' "@tus/server FileStore creation" "$t_rps" "$t_p50" "$t_p99"
printf '%-34s %12.0f %10.3f %10.3f\n' "vodup getUploadToken (fsynced)" "$v_rps" "$v_p50" "$v_p99"
echo "ratio vodup / @tus/server creations: $ratio (target >= $TARGET_RATIO: $ratio_ok); vodup / nginx's static" \
  "answer: $ceiling (the machine's ceiling; no target); @tus/server non-2xx: $t_non2xx"
echo "vodup p99: $v_p99 ms (target <= $TARGET_P99_MS ms: $p99_ok)"
echo "vodup non-2xx responses: $v_non2xx, socket errors: $v_errors, sample response after the run: $sample"
echo "vodup memory after the run (~$videos videos registered): $rss"

[ "$v_non2xx" -eq 0 ] && [ "$sample" = 200 ] || die "vodup answered errors"

# ---- references: cheaper requests on the same vodup ----
if [ "$REFERENCES" = 1 ]; then
  # A video to look up: one more registration, answered like the sample.
  vid=$(curl -s "http://127.0.0.1:$VODUP_PORT$API_PATH" -H "Content-Type: $CT" -H "X-WS-AccessKey: $AK" \
    -H "X-WS-Timestamp: $TS" -H "Authorization: $AUTH" --data "$BODY" | sed -n 's/.*"videoId":"\([0-9a-f]*\)".*/\1/p')
  [ -n "$vid" ] || die "getUploadToken answered no videoId"
  printf 'wrk.method = "GET"\n' >"$work/health.lua"
  info_path=/vod/videoManage/getVideoInfo
  ws3_sign_get "$info_path" "videoId=$vid" "127.0.0.1:$VODUP_PORT" "$AK" "$SK"
  ws3_wrk_get_script "$work/info.lua" "$AK"
  h=$(run_wrk health "$VODUP_PORT" "$DURATION" "$work/health.lua" /healthz) || die "wrk failed"
  i=$(run_wrk info "$VODUP_PORT" "$DURATION" "$work/info.lua" "$info_path?videoId=$vid") || die "wrk failed"
  [ "$(cut -d' ' -f4 <<<"$h")" = 0 ] && [ "$(cut -d' ' -f4 <<<"$i")" = 0 ] ||
    die "vodup answered errors to a reference request"
  echo
  echo "references on the same vodup, one round each (ratio against the nginx median):"
  ref() {
    printf '%-40s %9.0f req/s  p99 %6.3f ms  ratio %.2f\n' "$1" "$(cut -d' ' -f1 <<<"$2")" \
      "$(cut -d' ' -f3 <<<"$2")" "$(awk -v a="$(cut -d' ' -f1 <<<"$2")" -v b="$n_rps" 'BEGIN {print a / b}')"
  }
  ref "GET /healthz (HTTP layer only)" "$h"
  ref "signed GET getVideoInfo (no write)" "$i"
fi
if [ "$STRICT" = 1 ] && { [ "$ratio_ok" != met ] || [ "$p99_ok" != met ]; }; then
  die "a target was missed"
fi
