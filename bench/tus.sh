#!/usr/bin/env bash
# tus.sh: vodup's tus 1.0 endpoint against the @tus/server peer with its
# FileStore, same machine, same run: upload throughput, peak memory, CPU, and
# the rate of creating uploads.
#
#   make bench-tus      (builds build/vodup, installs wrk, runs this)
#   bench/tus.sh        (environment: VODUP_BIN, VODUP_ARGS, BIG_MIB, SMALL_MIB, STREAMS,
#                        CHUNK_MIB, ROUNDS, DURATION, CONNECTIONS, TOKENS, CREATE=0, STRICT)
#
# Run by hand, never by the test suite: it needs about 5 GiB under $TMPDIR
# and takes about ten minutes.
#
# Servers: vodup (release build, temp data dir, --processing off so ffmpeg
# takes no CPU from the uploads, --rate-limit 0) on 127.0.0.1:18084; the peer,
# @tus/server 1.10 with its FileStore (npm, pinned by bench/js/package-lock.json,
# installed under build/bench-js; one Node process as its README runs it) on
# 127.0.0.1:18085.
# Clients for both: tus-js-client 4.3.1 in one Node process
# (bench/js/tus-upload.mjs), the client the upload page and Uppy use, timed
# from the first request to the last upload's success; and `curl -T`, one
# PATCH per upload after an untimed creation POST, a client that costs
# almost no CPU (this machine's 2 cores also run the client). vodup's uploads carry
# `Authorization: UpToken` from an untimed getUploadToken with fileSize and
# fileMd5, so its last PATCH also checks the size and MD5 and registers the
# video, as in production.
# Cases, each in 8 MiB chunks (CHUNK_MIB) and in one PATCH per upload with
# tus-js-client, and in one PATCH with curl:
#   single:     one BIG_MIB (1024) MiB file.
#   concurrent: STREAMS (16) uploads of SMALL_MIB (64) MiB files at once.
# Per round the peer and vodup alternate case by case, with a `sync` before
# each so one server's dirty pages are not written back during the other's
# timing; the medians of ROUNDS (3) count (this shared VM drifts by ~35%).
#
# Not the same work, by design of each server: vodup fdatasyncs the bytes of
# every PATCH and commits the new offset to SQLite before it answers (a
# tus client resumes from that offset after any crash), and keeps the MD5
# and etag of the whole file as bytes arrive; the FileStore neither syncs nor
# hashes. The fair reference, which the target is against, is the peer timed
# until what it stored is fdatasynced (`sync -d` of its data and .json files
# right after the last answer); its MiB/s to the answer is shown beside it.
# Every upload is verified: the peer's stored sizes, vodup's getVideoInfo
# (uploaded, size and MD5). Then what the case stored is removed (the peer's
# files; vodup's videos with deleteVideo), untimed, so that every case of
# both servers writes into page cache the kernel has just freed: on this VM,
# growing the page cache into memory the guest has not touched for a while
# costs the writing process up to twice the CPU, whichever server it is.
#
# Memory: each server's RSS is sampled every 50 ms during each case; the
# table shows the median of the cases' peaks, and VmHWM at the end.
# (The machine is the same for both; absolute MiB/s move by 2x between runs.)
# CPU: each server's user+system CPU-seconds per GiB received.
#
# Creating uploads (CREATE=1): wrk -t2 -c64 -d10s, ROUNDS alternating, a tus
# creation POST /files/ (Upload-Length 1 MiB, no body) to each: the peer's
# FileStore writes a data file and its .json; vodup counts the fileKey's
# unfinished uploads and writes the upload's row durably (SQLite commit,
# fsynced) before it answers 201. vodup's POSTs cycle through TOKENS (8192)
# upload tokens, registered untimed beforehand (bench/js/tokens.mjs), as
# many devices would send them, so that no fileKey reaches
# max-tus-uploads-per-file (64).
#
# Targets: vodup >= 1.5 x the peer's MiB/s (to fdatasync) in every case,
# vodup's peak RSS < 0.5 x the peer's, vodup creations/s >= 1.0 x the peer's.
# Exits non-zero when an upload fails or is stored wrong; a missed target
# only with STRICT=1. Everything it starts is stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib/ws3.sh"
# shellcheck source=lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

VODUP_BIN=${VODUP_BIN:-$ROOT/build/vodup}
VODUP_PORT=${VODUP_PORT:-18084}
PEER_PORT=${PEER_PORT:-18085}
PEER_DEPS=${PEER_DEPS:-$ROOT/build/bench-js}
BIG_MIB=${BIG_MIB:-1024}
SMALL_MIB=${SMALL_MIB:-64}
STREAMS=${STREAMS:-16}
CHUNK_MIB=${CHUNK_MIB:-8}
ROUNDS=${ROUNDS:-3}
CREATE=${CREATE:-1}
TOKENS=${TOKENS:-8192}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
STRICT=${STRICT:-0}
TARGET_RATIO=1.5
TARGET_RSS_RATIO=0.5
TARGET_CREATE_RATIO=1.0

die() { echo "tus: $*" >&2; exit 1; }
tools="node npm curl jq openssl md5sum"
[ "$CREATE" = 1 ] && tools="$tools wrk"
for tool in $tools; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh --bench installs what this needs)"
done
[ -x "$VODUP_BIN" ] || die "$VODUP_BIN is missing: run 'make build' (or set VODUP_BIN)"
ws3_selftest || die "bench/lib/ws3.sh does not reproduce the API contract's test vectors"

work=$(mktemp -d "${TMPDIR:-/tmp}/vodup-tus-bench.XXXXXX")
vodup_pid="" peer_pid="" client_pid="" sampler_pids=()
cleanup() {
  local rc=$? p
  for p in $client_pid "${sampler_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  bench_stop_servers
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy "$VODUP_PORT" && die "port $VODUP_PORT is in use (set VODUP_PORT)"
port_busy "$PEER_PORT" && die "port $PEER_PORT is in use (set PEER_PORT)"
need_mib=$((4 * (BIG_MIB + STREAMS * SMALL_MIB)))
avail_mib=$(df -Pm "$work" | awk 'NR == 2 {print $4}')
[ "$avail_mib" -gt "$need_mib" ] || die "$work has $avail_mib MiB free, this run needs about $need_mib MiB"

# ---- the test files: one big, STREAMS small ones (distinct bytes) ----
BIG=$work/big.bin
BIG_BYTES=$((BIG_MIB * 1048576)) SMALL_BYTES=$((SMALL_MIB * 1048576)) CHUNK_BYTES=$((CHUNK_MIB * 1048576))
bench_make_file "$BIG" "$BIG_BYTES"
declare -A MD5
MD5[$BIG]=$(md5sum <"$BIG" | cut -d' ' -f1)
SMALLS=()
for i in $(seq 1 "$STREAMS"); do
  f=$work/small.$i.bin
  bench_make_file "$f" "$SMALL_BYTES"
  MD5[$f]=$(md5sum <"$f" | cut -d' ' -f1)
  SMALLS+=("$f")
done

# ---- the peer (its npm ci also installs the client, tus-js-client) ----
bench_peer_start "$PEER_PORT" "$work/peer"
export NODE_PATH=$PEER_DEPS/node_modules

# ---- vodup ----
# shellcheck disable=SC2086 # VODUP_ARGS is a list of flags
bench_vodup_start "$VODUP_PORT" "$work/vodup-data" --rate-limit 0 --connections-per-ip 1024 --access-log off \
  --processing off ${VODUP_ARGS:-}

# ---- signed API calls (bench_vodup_post: bench/lib/servers.sh) ----
vodup_token() { # [BYTES MD5]: registers a video; prints "videoId uploadUrl uploadToken"
  local body=originFileName=bench.mp4
  [ $# -eq 0 ] || body="$body&fileSize=$1&fileMd5=$2"
  bench_vodup_post /vod/videoManage/getUploadToken "$body" | jq -r '.data | "\(.videoId) \(.uploadUrl) \(.uploadToken)"'
}
vodup_check() { # VIDEOID BYTES MD5: getVideoInfo shows the upload complete and intact
  local info
  info=$(bench_vodup_post /vod/videoManage/getVideoInfo "videoId=$1") || return 1
  jq -e --arg md5 "$3" --argjson size "$2" \
    '(.data.status == "uploaded" or .data.status == "processing") and .data.uploadedAt != null and
     .data.md5 == $md5 and .data.size == $size' <<<"$info" >/dev/null || {
    echo "tus: video $1 is not uploaded intact: $info" >&2
    return 1
  }
}

# ---- measuring a server while a case runs ----
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Samples PID's VmRSS every 50 ms until TERM, then writes the peak (KiB) to OUT.
rss_sampler() { # PID OUT
  local max=0 k v _
  trap 'echo "$max" >"$2"; exit 0' TERM
  while :; do
    while read -r k v _; do
      if [ "$k" = VmRSS: ]; then [ "$v" -le "$max" ] || max=$v; break; fi
    done <"/proc/$1/status" || break
    sleep 0.05
  done
  echo "$max" >"$2"
}
mibps() { awk -v b="$1" -v ms="$2" 'BEGIN {printf "%.1f", b / 1048576 / (ms / 1000)}'; }

# run_client SERVER_PID ENDPOINT CHUNK ARGS...: runs the client while
# sampling the server; sets OUT (the client's JSON line), PEAK_MIB and CPU_S.
# CHUNK: bytes per PATCH, 0 for one PATCH per upload (both tus-js-client),
# or "curl": ARGS are upload URLs and files (URL FILE URL FILE ...; the
# uploads exist already), each sent by its own `curl -T` in one PATCH.
run_client() {
  local pid=$1 endpoint=$2 chunk=$3 c0 c1
  shift 3
  sync
  c0=$(cpu_ticks "$pid")
  rss_sampler "$pid" "$work/peak" &
  sampler_pids=($!)
  if [ "$chunk" = curl ]; then
    curl_client "$endpoint" "$@" >"$work/client.out" &
  else
    local chunk_arg=()
    [ "$chunk" = 0 ] || chunk_arg=(--chunk-size "$chunk")
    node "$ROOT/bench/js/tus-upload.mjs" --endpoint "$endpoint" "${chunk_arg[@]}" "$@" >"$work/client.out" &
  fi
  client_pid=$!
  wait "$client_pid" || { cat "$work/client.out" >&2; die "an upload failed"; }
  client_pid=""
  c1=$(cpu_ticks "$pid")
  kill -TERM "${sampler_pids[0]}"; wait "${sampler_pids[0]}" || true
  sampler_pids=()
  OUT=$(cat "$work/client.out")
  PEAK_MIB=$(awk '{printf "%.1f", $1 / 1024}' "$work/peak")
  CPU_S=$(awk -v a="$c0" -v b="$c1" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b - a) / t}')
}
# curl_client AUTH URL FILE URL FILE ...: one PATCH per upload, all at once;
# prints the JSON line tus-upload.mjs prints.  AUTH: a file of one token per
# upload (vodup) or "" (the peer).
curl_client() {
  local auth=$1 t0 t1 bytes=0 i=0 p fail=0 urls=() pids=() hdr=()
  shift
  t0=$EPOCHREALTIME
  while [ $# -gt 0 ]; do
    hdr=()
    [ -z "$auth" ] || hdr=(-H "Authorization: UpToken $(sed -n "$((i + 1))p" "$auth")")
    curl -sS -o /dev/null -w '%{http_code}\n' -X PATCH -T "$2" -H 'Expect:' -H 'Tus-Resumable: 1.0.0' \
      -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' "${hdr[@]}" "$1" >"$work/code.$i" &
    pids+=($!); urls+=("$1"); bytes=$((bytes + $(stat -c %s "$2"))); i=$((i + 1))
    shift 2
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  t1=$EPOCHREALTIME
  [ "$fail" = 0 ] && ! grep -vqx 204 "$work"/code.* || { echo '{"ok":false,"error":"a PATCH failed"}'; return 1; }
  rm -f "$work"/code.*
  printf '{"ok":true,"ms":%s,"bytes":%s,"urls":%s}\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) * 1000}')" \
    "$bytes" "$(printf '%s\n' "${urls[@]}" | jq -R . | jq -sc .)"
}
# create BASE FILE [TOKEN]: an untimed creation POST; prints the upload URL.
create() {
  local hdr=() loc
  [ -z "${3:-}" ] || hdr=(-H "Authorization: UpToken $3")
  loc=$(curl -sS -D - -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $(stat -c %s "$2")" \
    "${hdr[@]}" "$1" | sed -n 's/^[Ll]ocation: *//p' | tr -d '\r')
  [ -n "$loc" ] || die "$1 answered a creation POST without a Location"
  case $loc in http*) echo "$loc" ;; /*) echo "${1%%/files*}$loc" ;; *) echo "${1%/}/$loc" ;; esac
}
per_gib() { awk -v s="$1" -v b="$2" 'BEGIN {printf "%.2f", s / (b / 1073741824)}'; }

# ---- the cases: each sets RESULT to "MiB/s peak_MiB cpu_s/GiB [MiB/s_to_fdatasync]" ----
peer_case() { # CHUNK FILES...
  local chunk=$1 ms bytes t1 t2 f n=0 stored
  shift
  local args=() base=http://127.0.0.1:$PEER_PORT/files
  touch "$work/mark"; sleep 0.01
  for f in "$@"; do
    if [ "$chunk" = curl ]; then args+=("$(create "$base" "$f")" "$f"); else args+=(--file "$f"); fi
  done
  [ "$chunk" != curl ] || base=""
  run_client "$peer_pid" "$base" "$chunk" "${args[@]}"
  t1=$EPOCHREALTIME
  # The reference with vodup's durability: fdatasync what the case stored.
  find "$work/peer" -type f -newer "$work/mark" -print0 | xargs -0 -r sync -d
  t2=$EPOCHREALTIME
  ms=$(jq -r .ms <<<"$OUT"); bytes=$(jq -r .bytes <<<"$OUT")
  while read -r stored; do
    n=$((n + 1))
    [ "$stored" -eq "$(stat -c %s "${!n}")" ] || die "the peer stored upload $n with $stored bytes"
  done < <(jq -r '.urls[]' <<<"$OUT" | while read -r u; do stat -c %s "$work/peer/${u##*/}"; done)
  [ "$n" -eq $# ] || die "the peer answered $n upload URLs for $# files"
  find "$work/peer" -type f -newer "$work/mark" -delete
  RESULT="$(mibps "$bytes" "$ms") $PEAK_MIB $(per_gib "$CPU_S" "$bytes") \
$(mibps "$bytes" "$(awk -v ms="$ms" -v a="$t1" -v b="$t2" 'BEGIN {print ms + (b - a) * 1000}')")"
}
vodup_case() { # CHUNK FILES...
  local chunk=$1 f i=0 ms bytes
  shift
  local args=() vids=() url="" vid token
  # getUploadToken is the backend's call before the device uploads: not timed.
  for f in "$@"; do
    read -r vid url token < <(vodup_token "$(stat -c %s "$f")" "${MD5[$f]}") || die "getUploadToken failed"
    [ -n "$token" ] || die "getUploadToken answered no uploadToken"
    vids+=("$vid")
    if [ "$chunk" = curl ]; then
      args+=("$(create "$url/files/" "$f" "$token")" "$f"); echo "$token" >>"$work/tokens"
    else
      args+=(--file "$f" --token "$token")
    fi
  done
  if [ "$chunk" = curl ]; then
    run_client "$vodup_pid" "$work/tokens" curl "${args[@]}"
    rm -f "$work/tokens"
  else
    run_client "$vodup_pid" "$url/files/" "$chunk" "${args[@]}"
  fi
  for f in "$@"; do
    vodup_check "${vids[i]}" "$(stat -c %s "$f")" "${MD5[$f]}" || die "a vodup upload is not stored intact"
    bench_vodup_post /vod/videoManage/deleteVideo "videoId=${vids[i]}" >/dev/null || die "deleteVideo failed"
    i=$((i + 1))
  done
  ms=$(jq -r .ms <<<"$OUT"); bytes=$(jq -r .bytes <<<"$OUT")
  RESULT="$(mibps "$bytes" "$ms") $PEAK_MIB $(per_gib "$CPU_S" "$bytes")"
}

# ---- an untimed upload to each first: fails fast ----
peer_case 0 "${SMALLS[0]}"
vodup_case "$CHUNK_BYTES" "${SMALLS[0]}"
echo "tus: tus-js-client uploads to both work; single $BIG_MIB MiB, concurrent $STREAMS x $SMALL_MIB MiB," \
  "in $CHUNK_MIB MiB chunks and in one PATCH, $ROUNDS round(s); data in $work"

CASES="single.chunk single.one single.curl multi.chunk multi.one multi.curl"
label() {
  case $1 in
    single.chunk) echo "single $BIG_MIB MiB, $CHUNK_MIB MiB chunks" ;;
    single.one) echo "single $BIG_MIB MiB, one PATCH" ;;
    single.curl) echo "single $BIG_MIB MiB, curl one PATCH" ;;
    multi.chunk) echo "$STREAMS x $SMALL_MIB MiB, $CHUNK_MIB MiB chunks" ;;
    multi.one) echo "$STREAMS x $SMALL_MIB MiB, one PATCH each" ;;
    multi.curl) echo "$STREAMS x $SMALL_MIB MiB, curl one PATCH" ;;
  esac
}
for c in $CASES; do : >"$work/peer.$c.results"; : >"$work/vodup.$c.results"; done
for round in $(seq 1 "$ROUNDS"); do
  for c in $CASES; do
    case ${c#*.} in chunk) chunk=$CHUNK_BYTES ;; one) chunk=0 ;; curl) chunk=curl ;; esac
    files=("$BIG")
    [ "${c%.*}" = multi ] && files=("${SMALLS[@]}")
    for server in peer vodup; do
      "${server}_case" "$chunk" "${files[@]}"
      echo "$RESULT" >>"$work/$server.$c.results"
      read -r m p cpu synced <<<"$RESULT"
      printf '  round %d %-5s %-32s %7s MiB/s%s, peak RSS %6s MiB, %5s CPU-s/GiB\n' "$round" "$server" \
        "$(label "$c")" "$m" "${synced:+ ($synced to fdatasync)}" "$p" "$cpu"
    done
  done
done

# ---- creating uploads ----
if [ "$CREATE" = 1 ]; then
  node "$ROOT/bench/js/tokens.mjs" "http://127.0.0.1:$VODUP_PORT" "$AK" "$SK" "$TOKENS" >"$work/tokens.txt" ||
    die "registering $TOKENS videos failed"
  token=$(head -n 1 "$work/tokens.txt")
  printf 'wrk.method = "POST"\nwrk.headers["Tus-Resumable"] = "1.0.0"\nwrk.headers["Upload-Length"] = "1048576"\n' \
    >"$work/peer.lua"
  # Each wrk thread walks the tokens from its own start, one per request.
  cat >"$work/vodup.lua" <<EOF
local tokens, i = {}, 0
for line in io.lines("$work/tokens.txt") do tokens[#tokens + 1] = "UpToken " .. line end
local headers = {["Tus-Resumable"] = "1.0.0", ["Upload-Length"] = "1048576"}
local n = 0
setup = function(thread) n = n + 1; thread:set("start", n * 4099) end
init = function() i = start or 0 end
request = function()
  i = i + 1
  headers["Authorization"] = tokens[i % #tokens + 1]
  return wrk.format("POST", nil, headers)
end
EOF
  for server in peer vodup; do
    port=$PEER_PORT; [ "$server" = vodup ] && port=$VODUP_PORT
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 1048576' \
      -H "Authorization: UpToken $token" "http://127.0.0.1:$port/files/")
    [ "$code" = 201 ] || die "$server answers a creation POST with $code"
  done
  to_ms() { # wrk latency like 512.00us, 1.23ms, 2.01s
    awk -v v="$1" 'BEGIN {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
      printf "%.3f", n }'
  }
  run_wrk() { # SERVER PORT DURATION -> "rps p50 p99 non2xx errors"
    local out=$work/$1.wrk
    wrk -t2 -c"$CONNECTIONS" -d"$3" --latency -s "$work/$1.lua" "http://127.0.0.1:$2/files/" >"$out" 2>&1 ||
      { cat "$out" >&2; return 1; }
    echo "$(awk '/^Requests\/sec:/ {print $2}' "$out") $(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")" \
      "$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")" \
      "$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out" | grep . || echo 0)" \
      "$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out" | grep . || echo 0)"
  }
  run_wrk peer "$PEER_PORT" 2s >/dev/null || die "wrk failed"
  run_wrk vodup "$VODUP_PORT" 2s >/dev/null || die "wrk failed"
  : >"$work/peer.create.results"; : >"$work/vodup.create.results"
  echo "tus: creating uploads, wrk -t2 -c$CONNECTIONS -d$DURATION POST /files/, $ROUNDS round(s)"
  for round in $(seq 1 "$ROUNDS"); do
    for server in peer vodup; do
      port=$PEER_PORT; [ "$server" = vodup ] && port=$VODUP_PORT
      r=$(run_wrk "$server" "$port" "$DURATION") || die "wrk failed"
      echo "$r" >>"$work/$server.create.results"
      printf '  round %d %-5s %8.0f creations/s, p50 %s ms, p99 %s ms, non-2xx %s, socket errors %s\n' \
        "$round" "$server" $r
    done
  done
fi

# ---- summary ----
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
  else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { # RESULTS FIELD [FORMAT]
  cut -d' ' -f"$2" "$work/$1.results" | median | awk -v f="${3:-%.1f}" '{if ($1 == "-") print; else printf f "\n", $1}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b <= 0) print "-"; else printf "%.2f", a / b}'; }
verdict() { # VALUE OP TARGET
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "-") print "-"; else if ((op == ">=" && v >= t) || (op == "<" && v < t)) print "met"; else print "MISSED" }'
}
missed=0
echo
printf '%-34s %10s %11s %6s %-7s %11s %6s\n' "MiB/s, median of $ROUNDS" "peer+sync" "vodup" ratio target \
  "peer answer" ratio
for c in $CASES; do
  ps=$(col "peer.$c" 4) v=$(col "vodup.$c" 1) pa=$(col "peer.$c" 1)
  r=$(ratio "$v" "$ps") t=$(verdict "$(ratio "$v" "$ps")" '>=' "$TARGET_RATIO")
  [ "$t" != MISSED ] || missed=1
  printf '%-34s %10s %11s %6s %-7s %11s %6s\n' "$(label "$c")" "$ps" "$v" "$r" "$t" "$pa" "$(ratio "$v" "$pa")"
done
echo "(target: vodup >= $TARGET_RATIO x the peer timed until what it stored is fdatasynced, as vodup's"
echo " bytes are before it answers; the peer's answer without the sync is shown beside it)"
echo
printf '%-34s %10s %11s %6s %-7s %10s %10s\n' "peak RSS MiB, median of $ROUNDS" peer vodup ratio target \
  "peer CPU-s/GiB" "vodup CPU-s/GiB"
for c in $CASES; do
  p=$(col "peer.$c" 2) v=$(col "vodup.$c" 2)
  r=$(ratio "$v" "$p") t=$(verdict "$(ratio "$v" "$p")" '<' "$TARGET_RSS_RATIO")
  [ "$t" != MISSED ] || missed=1
  printf '%-34s %10s %11s %6s %-7s %10s %10s\n' "$(label "$c")" "$p" "$v" "$r" "$t" \
    "$(col "peer.$c" 3 %.2f)" "$(col "vodup.$c" 3 %.2f)"
done
hwm() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
echo "VmHWM at the end: peer $(hwm "$peer_pid") MiB, vodup $(hwm "$vodup_pid") MiB"
if [ "$CREATE" = 1 ]; then
  pc=$(col peer.create 1 %.0f) vc=$(col vodup.create 1 %.0f)
  r=$(ratio "$vc" "$pc") t=$(verdict "$(ratio "$vc" "$pc")" '>=' "$TARGET_CREATE_RATIO")
  [ "$t" != MISSED ] || missed=1
  echo
  printf '%-34s %10s %11s %6s %-7s\n' "creating uploads, median of $ROUNDS" peer vodup ratio target
  printf '%-34s %10s %11s %6s %-7s\n' "creations/s" "$pc" "$vc" "$r" "$t"
  printf '%-34s %10s %11s\n' "p99 ms" "$(col peer.create 3 %.2f)" "$(col vodup.create 3 %.2f)"
  bad=$(cat "$work/vodup.create.results" | awk '{s += $4 + $5} END {print s + 0}')
  [ "$bad" -eq 0 ] || die "vodup answered $bad creation POSTs with an error or a socket error"
fi
if [ "$STRICT" = 1 ] && [ "$missed" = 1 ]; then
  die "a target was missed"
fi
