#!/usr/bin/env bash
# client.sh: the `vodup upload` client against `curl -T` to nginx's WebDAV PUT,
# in one run: upload throughput (MiB/s) and the client's peak memory.
#
#   scripts/install-deps.sh --bench && make build && bench/client.sh
#   (environment: VODUP_BIN, BIG_MIB, ROUNDS, VODUP_UPLOAD_ARGS, NGINX_ONLY,
#    STRICT, VODUP_PORT, NGINX_PORT)
#
# Run by hand, never by the test suite: it writes 2 x BIG_MIB (1024) MiB per
# round, kept until it exits (3 rounds: 6 GiB, plus vodup's block staging),
# under $TMPDIR, and takes a few minutes.
#
# One case, one stream each: a BIG_MIB MiB file uploaded by
#   nginx: `curl -T FILE` (WebDAV PUT, body spooled to a temp file and renamed);
#   vodup: `vodup upload FILE --json $VODUP_UPLOAD_ARGS` against `vodup serve`
#          (credentials and endpoint from VODUP_ACCESS_KEY, VODUP_SECRET_KEY,
#          VODUP_ENDPOINT; the key is the one the server prints at first start).
# Each is timed as the wall time of the client process, so vodup's figure
# holds everything its user waits for: the file's MD5 (getUploadToken gets
# fileSize and fileMd5), getUploadToken, the blocks (in parallel, the client's
# default concurrency unless VODUP_UPLOAD_ARGS says otherwise), mkfile.
# Each client runs under /usr/bin/time, whose %M (the peak resident set, KiB)
# is the client's peak RSS; curl's is shown for reference.
# The two alternate, and which goes first alternates by round (a `sync`
# before each), so that drift of the machine (the page cache growing into
# memory the VM has not touched lately) does not favour one; the medians of
# ROUNDS (3) count, and the peak RSS is the largest of the rounds.
# Every upload is verified, so a failed one cannot count: nginx's stored size
# and MD5; vodup's JSON line (size, resumedBytes 0, videoId), then
# getVideoInfo status "uploaded", size and md5. Each vodup round gets an
# empty XDG_CACHE_HOME so no resume record of an earlier round is found.
# A failed upload exits non-zero; a missed target does not (STRICT=1 makes it).
#
# Not the same work, by design: vodup's server fdatasyncs every block and the
# object before it answers and hashes what it receives; nginx's PUT does
# neither. The fair reference is therefore nginx timed until its stored file
# is fdatasynced (`sync -d FILE` after curl returns): the durability vodup
# gives before it answers. Both figures are shown; the target is against the
# fdatasynced one. The clients differ too: curl streams one request; vodup
# upload hashes the file (MD5, on a thread beside the blocks, which read the
# same pages) and CRC32s each block, and pays a request per block.
#
# CPU: the client's user+system seconds (GNU time %U %S) and the server's
# (utime+stime from /proc/PID/stat of vodup, or of nginx's master and
# workers, before and after), each per GiB uploaded: where the time goes on
# a machine whose cores run both.
#
# Targets: vodup upload >= 0.8 x (curl-to-nginx, fdatasynced) MiB/s; its peak RSS <= 32 MiB.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib/ws3.sh"
# shellcheck source=lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

VODUP_BIN=${VODUP_BIN:-$ROOT/build/vodup}
VODUP_PORT=${VODUP_PORT:-18084}
NGINX_PORT=${NGINX_PORT:-18085}
BIG_MIB=${BIG_MIB:-1024}
ROUNDS=${ROUNDS:-3}
# Extra flags for `vodup upload`, e.g. "--concurrency 4 --block-size 8".
VODUP_UPLOAD_ARGS=${VODUP_UPLOAD_ARGS:-}
# NGINX_ONLY=1: measure curl -> nginx alone (no vodup binary needed).
NGINX_ONLY=${NGINX_ONLY:-0}
STRICT=${STRICT:-0}
TARGET_RATIO=0.8
TARGET_RSS_MIB=32
TIME_BIN=/usr/bin/time
SMALL_MIB=8 # the untimed first upload of each client

die() { echo "client: $*" >&2; exit 1; }
for tool in nginx curl openssl jq md5sum; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh --bench installs what this needs)"
done
[ -x "$TIME_BIN" ] || die "$TIME_BIN is missing (Debian package 'time'; scripts/install-deps.sh --bench installs it)"
"$TIME_BIN" -f %M -o /dev/null true 2>/dev/null || die "$TIME_BIN is not GNU time (needs -f %M)"
[ "$NGINX_ONLY" = 1 ] || [ -x "$VODUP_BIN" ] || die "$VODUP_BIN is missing: run 'make build' (or set VODUP_BIN)"
nginx -V 2>&1 | grep -- --with-http_dav_module >/dev/null || die "this nginx has no WebDAV module (nginx -V)"
ws3_selftest || die "bench/lib/ws3.sh does not reproduce the API contract's test vectors"

work=$(mktemp -d "${TMPDIR:-/tmp}/vodup-client-bench.XXXXXX")
vodup_pid="" nginx_pid="" client_pid=""
cleanup() {
  local rc=$?
  if [ -n "$client_pid" ]; then
    kill -TERM "$client_pid" 2>/dev/null || true
    wait "$client_pid" 2>/dev/null || true
  fi
  bench_stop_servers
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy "$NGINX_PORT" && die "port $NGINX_PORT is in use (set NGINX_PORT)"
[ "$NGINX_ONLY" = 1 ] || ! port_busy "$VODUP_PORT" || die "port $VODUP_PORT is in use (set VODUP_PORT)"
# ---- the test files ----
# Stored by both servers each round and kept until exit, plus the files
# themselves and room for one upload's staging.
need_mib=$((ROUNDS * 2 * BIG_MIB + 2 * BIG_MIB + 4 * SMALL_MIB))
avail_mib=$(df -Pm "$work" | awk 'NR == 2 {print $4}')
[ "$avail_mib" -gt "$need_mib" ] || die "$work has $avail_mib MiB free, this run needs about $need_mib MiB"
BIG=$work/big.mp4 SMALL=$work/small.mp4
BIG_BYTES=$((BIG_MIB * 1048576)) SMALL_BYTES=$((SMALL_MIB * 1048576))
bench_make_file "$BIG" "$BIG_BYTES"
bench_make_file "$SMALL" "$SMALL_BYTES"
BIG_MD5=$(md5sum "$BIG" | cut -d' ' -f1)
SMALL_MD5=$(md5sum "$SMALL" | cut -d' ' -f1)
[ "$(stat -c %s "$BIG")" -eq "$BIG_BYTES" ] && [ "$(stat -c %s "$SMALL")" -eq "$SMALL_BYTES" ] ||
  die "could not create the test files"

# ---- nginx: WebDAV PUT into $work/nginx/root ----
bench_nginx_start "$NGINX_PORT" "$(bench_nginx_webdav)"

# ---- vodup ----
ENDPOINT=http://127.0.0.1:$VODUP_PORT
if [ "$NGINX_ONLY" != 1 ]; then
  # Processing off: the bench files are not media, and ffmpeg would take the
  # CPU the uploads are measured on (their tasks stay queued).
  bench_vodup_start "$VODUP_PORT" "$work/vodup-data" --rate-limit 0 --access-log off --processing off
fi

# vodup_info VIDEOID: prints getVideoInfo's answer (a signed POST); fails unless HTTP 200 and code 200.
vodup_info() { bench_vodup_post /vod/videoManage/getVideoInfo "videoId=$1"; }

mibps() { # BYTES T0 T1
  awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN {printf "%.1f", b / 1048576 / (t1 - t0)}'
}
# What GNU time wrote with -f '%M %U %S' (its last line: it puts "Command
# exited with non-zero status" lines before it): the peak RSS in MiB, and
# the client's CPU seconds per GiB of BYTES.
rss_mib() { awk 'NF {k = $1} END {printf "%.1f", k / 1024}' "$work/rss"; }
client_cpu() { # BYTES
  awk -v b="$1" 'NF {u = $2; s = $3} END {printf "%.2f", (u + s) / (b / 1073741824)}' "$work/rss"
}
# utime+stime clock ticks of the server's processes: vodup, or nginx's
# master and its workers (its children).
server_ticks() { # PID
  local total=0 pid f
  for pid in "$1" $(ps --ppid "$1" -o pid= 2>/dev/null); do
    read -r -a f <"/proc/$pid/stat" 2>/dev/null || continue
    total=$((total + f[13] + f[14]))
  done
  echo "$total"
}
server_cpu() { # TICKS0 TICKS1 BYTES
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.2f", (b - a) / hz / (n / 1073741824)}'
}

# ---- one upload per client; each sets RESULT to "MiB/s peak_rss_MiB" ----
# The clients are started directly (not inside $(...)) so that cleanup can
# stop them by PID if the script is interrupted.
nginx_runs=0
nginx_upload() { # FILE BYTES MD5
  local file=$1 bytes=$2 md5=$3 name t0 t1 t2 code k0 k1
  nginx_runs=$((nginx_runs + 1))
  name=put$nginx_runs.bin
  sync
  k0=$(server_ticks "$nginx_pid")
  t0=$EPOCHREALTIME
  "$TIME_BIN" -f '%M %U %S' -o "$work/rss" curl -sS -T "$file" -H 'Expect:' -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$NGINX_PORT/$name" >"$work/code" &
  client_pid=$!
  wait "$client_pid" || { client_pid=""; die "curl -T to nginx failed"; }
  t1=$EPOCHREALTIME
  client_pid=""
  k1=$(server_ticks "$nginx_pid")
  # The fair reference: vodup answers only once the bytes are on disk.
  sync -d "$work/nginx/root/$name"
  t2=$EPOCHREALTIME
  code=$(cat "$work/code")
  [ "$code" = 201 ] || [ "$code" = 204 ] || die "PUT /$name answered $code"
  [ "$(stat -c %s "$work/nginx/root/$name")" -eq "$bytes" ] || die "nginx stored $name with the wrong size"
  [ "$(md5sum <"$work/nginx/root/$name" | cut -d' ' -f1)" = "$md5" ] || die "nginx stored $name with the wrong MD5"
  RESULT="$(mibps "$bytes" "$t0" "$t1") $(rss_mib) $(client_cpu "$bytes") $(server_cpu "$k0" "$k1" "$bytes")"
  RESULT="$RESULT $(mibps "$bytes" "$t0" "$t2")"
}
vodup_runs=0
vodup_upload() { # FILE BYTES MD5
  local file=$1 bytes=$2 md5=$3 t0 t1 rc=0 line vid info k0 k1
  vodup_runs=$((vodup_runs + 1))
  mkdir -p "$work/cache$vodup_runs"
  sync
  k0=$(server_ticks "$vodup_pid")
  t0=$EPOCHREALTIME
  # Each run is a new video (a fresh fileId; the derived one would name the
  # finished upload of the previous round) with a fresh resume cache, so
  # every round hashes and sends the whole file.
  # shellcheck disable=SC2086 # VODUP_UPLOAD_ARGS is a list of flags
  VODUP_ENDPOINT=$ENDPOINT VODUP_ACCESS_KEY=$AK VODUP_SECRET_KEY=$SK XDG_CACHE_HOME=$work/cache$vodup_runs \
    "$TIME_BIN" -f '%M %U %S' -o "$work/rss" "$VODUP_BIN" upload "$file" --json --file-id "bench-$$-$vodup_runs" \
    $VODUP_UPLOAD_ARGS \
    >"$work/upload.out" 2>"$work/upload.err" &
  client_pid=$!
  wait "$client_pid" || rc=$?
  t1=$EPOCHREALTIME
  client_pid=""
  k1=$(server_ticks "$vodup_pid")
  if [ "$rc" -ne 0 ]; then
    cat "$work/upload.err" >&2
    if [ "$rc" -eq 2 ] && grep -q 'unknown command' "$work/upload.err"; then
      die "vodup upload exited 2: unknown command: $VODUP_BIN has no 'upload' command yet; the vodup half stops" \
        "here (NGINX_ONLY=1 measures nginx alone)"
    fi
    die "vodup upload exited $rc: $(grep -v '^[[:space:]]*$' "$work/upload.err" | tail -n 1)"
  fi
  line=$(grep -v '^[[:space:]]*$' "$work/upload.out" | tail -n 1)
  jq -e --argjson size "$bytes" \
    'type == "object" and .size == $size and .resumedBytes == 0 and (.videoId | type == "string")' \
    <<<"$line" >/dev/null 2>&1 || die "vodup upload --json printed no valid final line (size $bytes, resumedBytes 0): $line"
  vid=$(jq -r .videoId <<<"$line")
  info=$(vodup_info "$vid") || die "getVideoInfo failed"
  jq -e --arg md5 "$md5" --argjson size "$bytes" \
    '(.data.status == "uploaded" or .data.status == "processing") and .data.uploadedAt != null and
     .data.md5 == $md5 and .data.size == $size' <<<"$info" >/dev/null ||
    die "video $vid is not uploaded intact: $info"
  RESULT="$(mibps "$bytes" "$t0" "$t1") $(rss_mib) $(client_cpu "$bytes") $(server_cpu "$k0" "$k1" "$bytes")"
}

# ---- an untimed small upload with each client first: fails fast ----
nginx_upload "$SMALL" "$SMALL_BYTES" "$SMALL_MD5"
set -- $RESULT
echo "client: curl -T to nginx works ($SMALL_MIB MiB: $1 MiB/s, $2 MiB peak RSS)"
if [ "$NGINX_ONLY" != 1 ]; then
  vodup_upload "$SMALL" "$SMALL_BYTES" "$SMALL_MD5"
  set -- $RESULT
  echo "client: vodup upload works ($SMALL_MIB MiB: $1 MiB/s, $2 MiB peak RSS)"
fi

flags=""
[ "$NGINX_ONLY" = 1 ] || flags="; vodup upload ${VODUP_UPLOAD_ARGS:-with its default flags}"
echo "client: $BIG_MIB MiB, one stream each, $ROUNDS round(s)$flags; data in $work"
: >"$work/nginx.results"
: >"$work/vodup.results"
run() { # NAME ROUND LABEL
  "$1_upload" "$BIG" "$BIG_BYTES" "$BIG_MD5"
  echo "$RESULT" >>"$work/$1.results"
  local r=($RESULT)
  printf '  round %d %-22s %7s MiB/s%s  CPU-s/GiB client %5s server %5s  peak RSS %6s MiB\n' "$2" "$3" "${r[0]}" \
    "${r[4]:+ (${r[4]} to fdatasync)}" "${r[2]}" "${r[3]}" "${r[1]}"
}
for round in $(seq 1 "$ROUNDS"); do
  if [ "$NGINX_ONLY" = 1 ] || [ $((round % 2)) = 1 ]; then
    run nginx "$round" "curl -T -> nginx"
    [ "$NGINX_ONLY" = 1 ] || run vodup "$round" "vodup upload -> vodup"
  else
    run vodup "$round" "vodup upload -> vodup"
    run nginx "$round" "curl -T -> nginx"
  fi
done

# ---- summary ----
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
  else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col_median() { cut -d' ' -f"$2" "$work/$1.results" | median | awk '{if ($1 == "-") print; else printf "%.1f\n", $1}'; }
col_max() { cut -d' ' -f"$2" "$work/$1.results" | sort -g | tail -n 1 | awk 'END {if (NR == 0) print "-"; else printf "%.1f\n", $1}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b}'; }
verdict() { # VALUE OP TARGET
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "-") print "-"; else if ((op == ">=" && v >= t) || (op == "<=" && v <= t)) print "met"; else print "MISSED" }'
}
nm=$(col_median nginx 1) vm=$(col_median vodup 1) ns=$(col_median nginx 5)
nr=$(col_max nginx 2) vr=$(col_max vodup 2)
r=$(ratio "$vm" "$ns") r_answer=$(ratio "$vm" "$nm")
echo
printf '%-40s %8s %18s %18s %13s\n' "client ($BIG_MIB MiB, median of $ROUNDS)" "MiB/s" "client CPU-s/GiB" \
  "server CPU-s/GiB" "peak RSS MiB"
printf '%-40s %8s %18s %18s %13s\n' "curl -T -> nginx, to its answer" "$nm" "$(col_median nginx 3)" \
  "$(col_median nginx 4)" "$nr"
printf '%-40s %8s %18s %18s %13s\n' "curl -T -> nginx, to fdatasync (reference)" "$ns" "" "" ""
printf '%-40s %8s %18s %18s %13s\n' "vodup upload -> vodup serve" "$vm" "$(col_median vodup 3)" \
  "$(col_median vodup 4)" "$vr"
echo
echo "ratio vodup / nginx-to-fdatasync: $r (target >= $TARGET_RATIO: $(verdict "$r" '>=' "$TARGET_RATIO"));" \
  "vodup / nginx-to-answer: $r_answer"
echo "vodup upload peak RSS, largest of the rounds: $vr MiB (target <= $TARGET_RSS_MIB MiB: $(verdict "$vr" '<=' "$TARGET_RSS_MIB"))"
if [ "$STRICT" = 1 ]; then
  [ "$(verdict "$r" '>=' "$TARGET_RATIO")" != MISSED ] && [ "$(verdict "$vr" '<=' "$TARGET_RSS_MIB")" != MISSED ] ||
    die "a target was missed"
fi
