#!/usr/bin/env bash
# upload.sh: upload throughput of vodup's block protocol against nginx's WebDAV
# PUT, in one run, with vodup's API latency and peak memory measured meanwhile.
#
#   scripts/install-deps.sh --bench && make build && bench/upload.sh
#   (environment: VODUP_BIN, BIG_MIB, SMALL_MIB, STREAMS, BLOCK_MIB, ROUNDS,
#    API_CONNECTIONS, API_DELAY_MS, NGINX_ONLY, STRICT, ...)
#
# Run by hand, never by the test suite: it writes 2 x (BIG + STREAMS x SMALL)
# per round, kept until it exits (3 rounds: 12 GiB by default, plus vodup's
# block staging), under $TMPDIR, and takes a few minutes.
#
# Cases, each timed as bytes sent / wall time of the upload processes:
#   single:     one BIG_MIB (1024) MiB file, one stream.
#   concurrent: STREAMS (16) uploads of a SMALL_MIB (64) MiB file at once.
# nginx gets `curl -T FILE` (WebDAV PUT; 2 workers, body spooled to a temp
# file on the same filesystem and renamed into place). vodup gets
# bench/lib/blockup (libcurl, one kept-alive connection per upload, one mkblk
# per BLOCK_MIB block, then mkfile; see the comment at its top for why not a
# curl loop), after an untimed getUploadToken with fileSize and fileMd5.
# Order per round: nginx single, vodup single, nginx concurrent, vodup
# concurrent, with a `sync` before each so one server's dirty pages are not
# written back during the other's timing. The medians of ROUNDS (3) count:
# on a VM, growing the page cache into memory the guest has not touched lately
# is slow, and the same nginx case measured 230..1090 MiB/s between rounds on
# the 2-core dev VM. Compare numbers within one run, not across runs.
# Every upload is verified: nginx's stored size (and MD5 for the single
# file); vodup's mkfile hash, then getVideoInfo status "uploaded", size and
# md5. A failed upload exits non-zero; a missed target does not (STRICT=1
# makes it).
#
# Not the same work, by design of each server: vodup fdatasyncs every block
# before answering and fsyncs the object before mkfile answers, and computes
# MD5, CRC-32 and the etag; nginx's PUT neither syncs nor hashes. The fair
# reference, which the target is against, is nginx timed until its stored
# files are fdatasynced; the ratio to nginx's answer is shown beside it.
#
# API latency: during every timed phase, wrk (-t1 -c$API_CONNECTIONS) sends
# the pre-signed POST getUploadToken of bench/token-api.sh to the server
# being measured (vodup with --rate-limit 0; nginx a `return 200` of the same
# path, so both uploads share the machine with the same client load). Each
# connection waits API_DELAY_MS (10) between requests, so this is a steady
# background load (at most ~API_CONNECTIONS x 1000 / API_DELAY_MS req/s), not
# a saturating one that would measure overload instead of how uploads delay
# API answers; API_DELAY_MS=0 makes it closed-loop. wrk starts 0.3 s before
# the uploads and stops (SIGINT) when they end.
#
# Targets: vodup >= 0.8 x nginx-to-fdatasync MiB/s in both cases, vodup's API p99 <= 20 ms
# during its uploads, vodup's peak RSS (VmHWM at the end) <= 64 MiB.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib/ws3.sh"
# shellcheck source=lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

VODUP_BIN=${VODUP_BIN:-$ROOT/build/vodup}
VODUP_PORT=${VODUP_PORT:-18082}
NGINX_PORT=${NGINX_PORT:-18083}
BIG_MIB=${BIG_MIB:-1024}
SMALL_MIB=${SMALL_MIB:-64}
STREAMS=${STREAMS:-16}
# mkblk block size: a multiple of 4 MiB; each block goes as one chunk.
BLOCK_MIB=${BLOCK_MIB:-4}
# The machine's speed drifts between runs: the medians of the rounds count.
ROUNDS=${ROUNDS:-3}
API_CONNECTIONS=${API_CONNECTIONS:-8}
API_DELAY_MS=${API_DELAY_MS:-10}
# NGINX_ONLY=1: measure nginx alone (no vodup binary needed).
NGINX_ONLY=${NGINX_ONLY:-0}
STRICT=${STRICT:-0}
TARGET_RATIO=0.8
TARGET_P99_MS=20
TARGET_RSS_MIB=64

die() { echo "upload: $*" >&2; exit 1; }
for tool in nginx wrk curl openssl jq cc md5sum; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh --bench installs what this needs)"
done
[ "$NGINX_ONLY" = 1 ] || [ -x "$VODUP_BIN" ] || die "$VODUP_BIN is missing: run 'make build' (or set VODUP_BIN)"
[ $((BLOCK_MIB % 4)) -eq 0 ] && [ "$BLOCK_MIB" -gt 0 ] || die "BLOCK_MIB must be a positive multiple of 4"
nginx -V 2>&1 | grep -- --with-http_dav_module >/dev/null || die "this nginx has no WebDAV module (nginx -V)"
ws3_selftest || die "bench/lib/ws3.sh does not reproduce the API contract's test vectors"

work=$(mktemp -d "${TMPDIR:-/tmp}/vodup-upload-bench.XXXXXX")
vodup_pid="" nginx_pid="" wrk_pid=""
bg_pids=()
cleanup() {
  local rc=$? p
  for p in "${bg_pids[@]}" $wrk_pid; do
    kill -TERM "$p" 2>/dev/null || true
  done
  bench_stop_servers
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy "$NGINX_PORT" && die "port $NGINX_PORT is in use (set NGINX_PORT)"
[ "$NGINX_ONLY" = 1 ] || ! port_busy "$VODUP_PORT" || die "port $VODUP_PORT is in use (set VODUP_PORT)"
# ---- the client and the test files ----
# Stored by both servers, kept until exit, plus the test files and room for
# one upload's staging.
need_mib=$((ROUNDS * 2 * (BIG_MIB + STREAMS * SMALL_MIB) + 2 * BIG_MIB + SMALL_MIB))
avail_mib=$(df -Pm "$work" | awk 'NR == 2 {print $4}')
[ "$avail_mib" -gt "$need_mib" ] || die "$work has $avail_mib MiB free, this run needs about $need_mib MiB"
cc -O2 -o "$work/blockup" "$ROOT/bench/lib/blockup.c" -lcurl ||
  die "cannot build bench/lib/blockup.c (needs libcurl4-openssl-dev)"
BIG=$work/big.bin SMALL=$work/small.bin
BIG_BYTES=$((BIG_MIB * 1048576)) SMALL_BYTES=$((SMALL_MIB * 1048576))
BLOCK_BYTES=$((BLOCK_MIB * 1048576))
bench_make_file "$BIG" "$BIG_BYTES"
bench_make_file "$SMALL" "$SMALL_BYTES"
BIG_MD5=$(md5sum "$BIG" | cut -d' ' -f1)
SMALL_MD5=$(md5sum "$SMALL" | cut -d' ' -f1)
[ "$(stat -c %s "$BIG")" -eq "$BIG_BYTES" ] && [ "$(stat -c %s "$SMALL")" -eq "$SMALL_BYTES" ] ||
  die "could not create the test files"

# ---- nginx: WebDAV PUT into $work/nginx/root, and the API stand-in ----
API_PATH=/vod/videoManage/getUploadToken
json='{"code":200,"message":"Operation successfully","data":{"videoId":"019ab7c2d1e04f6a9c3b2e8d7f10a4b5","fileKey":"video/20261124/019ab7c2d1e04f6a9c3b2e8d7f10a4b5/bench.mp4","uploadUrl":"http://127.0.0.1:18080","uploadToken":"AKbench:c2lnbmF0dXJl:cG9saWN5","bucketName":"vod-bench","httpDnsServer":"","speedDomainlUrl":""}}'
bench_nginx_start "$NGINX_PORT" "    location = $API_PATH {
      default_type application/json;
      return 200 '$json';
    }
$(bench_nginx_webdav)"

# ---- vodup ----
if [ "$NGINX_ONLY" != 1 ]; then
  # shellcheck disable=SC2086 # VODUP_ARGS is a list of flags
  # Processing off: the bench files are not media, and ffmpeg would take the
  # CPU the uploads are measured on (their tasks stay queued).
  bench_vodup_start "$VODUP_PORT" "$work/vodup-data" --rate-limit 0 --access-log off --processing off ${VODUP_ARGS:-}
fi

# ---- signed API calls ----
CT='application/x-www-form-urlencoded'
# vodup_token BYTES MD5: registers a video; prints "videoId uploadUrl uploadToken".
vodup_token() {
  bench_vodup_post "$API_PATH" "originFileName=bench.mp4&fileSize=$1&fileMd5=$2" |
    jq -r '.data | "\(.videoId) \(.uploadUrl) \(.uploadToken)"'
}
# vodup_check VIDEOID BYTES MD5: getVideoInfo must show the upload complete and intact.
vodup_check() {
  local info
  info=$(bench_vodup_post /vod/videoManage/getVideoInfo "videoId=$1") || return 1
  jq -e --arg md5 "$3" --argjson size "$2" \
    '(.data.status == "uploaded" or .data.status == "processing") and .data.uploadedAt != null and
     .data.md5 == $md5 and .data.size == $size' <<<"$info" >/dev/null || {
    echo "upload: video $1 is not uploaded intact: $info" >&2
    return 1
  }
}

# The wrk request: vodup's pre-signed getUploadToken (valid for clock-skew,
# 300 s, so it is signed again before every phase); nginx ignores the headers.
API_BODY='originFileName=bench.mp4'
sign_api_request() {
  local ts sig="" ak=${AK:-none}
  ts=$(date +%s)
  [ "$NGINX_ONLY" = 1 ] || sig=$(ws3_signature POST "$API_PATH" '' "127.0.0.1:$VODUP_PORT" "$CT" "$API_BODY" "$ts" "$SK")
  cat >"$work/api.lua" <<EOF
wrk.method = "POST"
wrk.body = "$API_BODY"
wrk.headers["Content-Type"] = "$CT"
wrk.headers["X-WS-AccessKey"] = "$ak"
wrk.headers["X-WS-Timestamp"] = "$ts"
wrk.headers["Authorization"] = "WS3-HMAC-SHA256 Credential=$ak, SignedHeaders=content-type;host, Signature=$sig"
EOF
  [ "$API_DELAY_MS" -eq 0 ] || printf 'function delay() return %d end\n' "$API_DELAY_MS" >>"$work/api.lua"
}
to_ms() { # wrk latency like 512.00us, 1.23ms, 2.01s
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
api_load_start() { # PORT
  sign_api_request
  wrk -t1 -c"$API_CONNECTIONS" -d3600s --latency -s "$work/api.lua" "http://127.0.0.1:$1$API_PATH" \
    >"$work/wrk.out" 2>&1 &
  wrk_pid=$!
  sleep 0.3
  kill -0 "$wrk_pid" 2>/dev/null || { cat "$work/wrk.out" >&2; die "wrk did not start"; }
}
# Stops wrk (it prints its statistics on SIGINT); sets API_RESULT to
# "p99_ms req/s bad", bad counting non-2xx answers and socket errors.
api_load_stop() {
  local out=$work/wrk.out p99 rps bad
  kill -INT "$wrk_pid"
  wait "$wrk_pid" || { cat "$out" >&2; die "wrk failed"; }
  wrk_pid=""
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {s += $NF} /Socket errors:/ {gsub(",", ""); s += $4 + $6 + $8 + $10}
    END {print s + 0}' "$out")
  [ -n "$rps" ] || { cat "$out" >&2; die "wrk printed no statistics"; }
  API_RESULT="$p99 $rps $bad"
}
mibps() { # BYTES T0 T1
  awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN {printf "%.1f", b / 1048576 / (t1 - t0)}'
}
# Waits for the upload processes in bg_pids; fails if any failed.
wait_uploads() {
  local p fail=0
  for p in "${bg_pids[@]}"; do wait "$p" || fail=1; done
  bg_pids=()
  return "$fail"
}

# ---- timed cases: each sets RESULT to "MiB/s p99_ms req/s bad"; nginx's
# adds a fifth field, MiB/s up to its files being on disk ----
# The upload processes are started directly (not inside functions or
# subshells) so that cleanup can stop them by PID if the script fails.
# nginx's files stay until the end, like vodup's objects, so that both leave
# the same amount of data in the page cache for the phases after them.
nginx_runs=0
nginx_case() { # FILE BYTES MD5 COUNT
  local file=$1 bytes=$2 md5=$3 count=$4 i t0 t1 t2 code dir
  nginx_runs=$((nginx_runs + 1))
  dir=put$nginx_runs
  sync
  api_load_start "$NGINX_PORT"
  t0=$EPOCHREALTIME
  for i in $(seq 1 "$count"); do
    curl -sS -T "$file" -H 'Expect:' -o /dev/null -w '%{http_code}' \
      "http://127.0.0.1:$NGINX_PORT/$dir/$i.bin" >"$work/code.$i" &
    bg_pids+=($!)
  done
  wait_uploads || die "an nginx PUT failed"
  t1=$EPOCHREALTIME
  api_load_stop
  for i in $(seq 1 "$count"); do
    code=$(cat "$work/code.$i")
    [ "$code" = 201 ] || [ "$code" = 204 ] || die "PUT /$dir/$i.bin answered $code"
    [ "$(stat -c %s "$work/nginx/root/$dir/$i.bin")" -eq "$bytes" ] || die "nginx stored $dir/$i.bin with the wrong size"
  done
  # The reference with vodup's durability: the same PUTs, then fdatasync of
  # what they stored (one flush at the end, the cheapest way to get there).
  sync -d "$work/nginx/root/$dir/"*.bin
  t2=$EPOCHREALTIME
  if [ "$count" = 1 ]; then
    [ "$(md5sum <"$work/nginx/root/$dir/1.bin" | cut -d' ' -f1)" = "$md5" ] || die "nginx stored $dir/1.bin with the wrong MD5"
  fi
  RESULT="$(mibps $((bytes * count)) "$t0" "$t1") $API_RESULT $(mibps $((bytes * count)) "$t0" "$t2")"
}
vodup_case() { # FILE BYTES MD5 COUNT
  local file=$1 bytes=$2 md5=$3 count=$4 i t0 t1
  local -a vids=() urls=() tokens=()
  # getUploadToken is the backend's call before the device uploads: not timed.
  for i in $(seq 1 "$count"); do
    read -r 'vids[i]' 'urls[i]' 'tokens[i]' < <(vodup_token "$bytes" "$md5") || die "getUploadToken failed"
    [ -n "${tokens[i]}" ] || die "getUploadToken answered no uploadToken"
  done
  sync
  api_load_start "$VODUP_PORT"
  t0=$EPOCHREALTIME
  for i in $(seq 1 "$count"); do
    "$work/blockup" "${urls[i]}" "${tokens[i]}" "$file" "$BLOCK_BYTES" >"$work/hash.$i" &
    bg_pids+=($!)
  done
  wait_uploads || die "a vodup upload failed"
  t1=$EPOCHREALTIME
  api_load_stop
  for i in $(seq 1 "$count"); do
    [ -s "$work/hash.$i" ] || die "mkfile answered no hash"
    vodup_check "${vids[i]}" "$bytes" "$md5" || die "a vodup upload is not stored intact"
  done
  RESULT="$(mibps $((bytes * count)) "$t0" "$t1") $API_RESULT"
}

# ---- an untimed upload to each first: fails fast, before minutes of timing ----
code=$(curl -sS -T "$SMALL" -H 'Expect:' -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX_PORT/preflight.bin") &&
  [ "$code" = 201 ] || die "nginx's WebDAV PUT does not work (${code:-no answer})"
[ "$(stat -c %s "$work/nginx/root/preflight.bin")" -eq "$SMALL_BYTES" ] || die "nginx's WebDAV PUT stored a wrong size"
rm -f "$work/nginx/root/preflight.bin"
if [ "$NGINX_ONLY" != 1 ]; then
  read -r vid url token < <(vodup_token "$SMALL_BYTES" "$SMALL_MD5") || die "getUploadToken failed"
  [ -n "${token:-}" ] || die "getUploadToken answered no uploadToken"
  echo "upload: getUploadToken works (videoId $vid, uploadUrl $url); trying the block protocol"
  "$work/blockup" "$url" "$token" "$SMALL" "$BLOCK_BYTES" >/dev/null ||
    die "vodup's block upload failed (see above)"
  vodup_check "$vid" "$SMALL_BYTES" "$SMALL_MD5" || die "the first vodup upload is not stored intact"
fi

echo "upload: single $BIG_MIB MiB, concurrent $STREAMS x $SMALL_MIB MiB, vodup block $BLOCK_MIB MiB, $ROUNDS round(s)"
echo "upload: API load wrk -t1 -c$API_CONNECTIONS, ${API_DELAY_MS} ms between requests per connection; data in $work"
for f in nginx.single vodup.single nginx.multi vodup.multi; do : >"$work/$f.results"; done
show() { # ROUND NAME RESULT
  local mibs p99 rps bad synced
  read -r mibs p99 rps bad synced <<<"$3"
  printf '  round %d %-16s %7s MiB/s  API p99 %7s ms, %7s req/s, %s errors%s\n' "$1" "$2" \
    "$mibs" "$p99" "$rps" "$bad" "${synced:+; $synced MiB/s to fdatasync}"
}
run_case() { # SERVER KIND ROUND LABEL FILE BYTES MD5 COUNT
  "$1_case" "${@:5}"
  echo "$RESULT" >>"$work/$1.$2.results"
  show "$3" "$4" "$RESULT"
}
for round in $(seq 1 "$ROUNDS"); do
  run_case nginx single "$round" "nginx single" "$BIG" "$BIG_BYTES" "$BIG_MD5" 1
  [ "$NGINX_ONLY" = 1 ] || run_case vodup single "$round" "vodup single" "$BIG" "$BIG_BYTES" "$BIG_MD5" 1
  run_case nginx multi "$round" "nginx concurrent" "$SMALL" "$SMALL_BYTES" "$SMALL_MD5" "$STREAMS"
  [ "$NGINX_ONLY" = 1 ] || run_case vodup multi "$round" "vodup concurrent" "$SMALL" "$SMALL_BYTES" "$SMALL_MD5" "$STREAMS"
done

# ---- summary ----
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
  else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { # RESULTS FIELD [FORMAT]: the median of a field, formatted; "-" when there is none
  cut -d' ' -f"$2" "$work/$1.results" | median | awk -v f="${3:-%.1f}" '{if ($1 == "-") print; else printf f "\n", $1}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b <= 0) print "-"; else printf "%.2f", a / b}'; }
verdict() { # VALUE OP TARGET
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "-") print "-"; else if ((op == ">=" && v >= t) || (op == "<=" && v <= t)) print "met"; else print "MISSED" }'
}
ns=$(col nginx.single 5) vs=$(col vodup.single 1) nm=$(col nginx.multi 5) vm=$(col vodup.multi 1)
rs=$(ratio "$vs" "$ns") rm_=$(ratio "$vm" "$nm")
echo
printf '%-30s %12s %11s %6s %-7s %13s %6s\n' "case (median of $ROUNDS)" "nginx+fsync" "vodup MiB/s" ratio \
  target "nginx answer" ratio
printf '%-30s %12s %11s %6s %-7s %13s %6s\n' "single $BIG_MIB MiB" "$ns" "$vs" "$rs" \
  "$(verdict "$rs" '>=' "$TARGET_RATIO")" "$(col nginx.single 1)" "$(ratio "$vs" "$(col nginx.single 1)")"
printf '%-30s %12s %11s %6s %-7s %13s %6s\n' "concurrent $STREAMS x $SMALL_MIB MiB" "$nm" "$vm" "$rm_" \
  "$(verdict "$rm_" '>=' "$TARGET_RATIO")" "$(col nginx.multi 1)" "$(ratio "$vm" "$(col nginx.multi 1)")"
echo "(target: vodup >= $TARGET_RATIO x nginx+fsync MiB/s: the same PUTs timed until their files are"
echo " fdatasynced, as vodup's are before it answers; nginx's answer without the sync is shown beside it)"
echo
printf '%-32s %12s %12s  %s\n' "API during uploads (median)" "nginx p99 ms" "vodup p99 ms" "vodup req/s, target p99 <= $TARGET_P99_MS ms"
for c in single multi; do
  label="during the single upload"
  [ "$c" = single ] || label="during the concurrent uploads"
  vp=$(col vodup.$c 2 %.2f)
  printf '%-32s %12s %12s  %s req/s, %s\n' "$label" "$(col nginx.$c 2 %.2f)" "$vp" "$(col vodup.$c 3 %.0f)" \
    "$(verdict "$vp" '<=' "$TARGET_P99_MS")"
done
bad=$(cat "$work"/*.results | awk '{s += $4} END {print s + 0}')
[ "$bad" -eq 0 ] || echo "WARNING: $bad API requests got a non-2xx answer or a socket error: the p99 above is not valid"
missed=0
for v in "$rs" "$rm_"; do [ "$(verdict "$v" '>=' "$TARGET_RATIO")" != MISSED ] || missed=1; done
for c in single multi; do [ "$(verdict "$(col vodup.$c 2 %.3f)" '<=' "$TARGET_P99_MS")" != MISSED ] || missed=1; done
if [ "$NGINX_ONLY" != 1 ]; then
  hwm=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$vodup_pid/status")
  rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$vodup_pid/status")
  v=$(verdict "$hwm" '<=' "$TARGET_RSS_MIB"); [ "$v" != MISSED ] || missed=1
  echo
  echo "vodup peak RSS (VmHWM): $hwm MiB, now $rss MiB (target <= $TARGET_RSS_MIB MiB: $v)"
fi
if [ "$STRICT" = 1 ] && [ "$missed" = 1 ]; then
  die "a target was missed"
fi
