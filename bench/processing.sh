#!/usr/bin/env bash
# processing.sh: how much a processing task costs on top of the ffmpeg runs
# it is made of, how soon it starts, and how much it slows the API.
#
#   make bench-processing  (builds build/vodup, installs wrk, runs this)
#   bench/processing.sh    (environment: VODUP_BIN, VODUP_PORT, ROUNDS,
#                           SOURCE_SECONDS, LOAD_SECONDS, API_ROUNDS,
#                           API_DURATION, API_CONNECTIONS, POLL_MS, HAND_NICE,
#                           REPLAY_NICE, QUIET_CORES, SCENARIOS, VODUP_ARGS,
#                           STRICT, KEEP)
#
# Run by hand, never by the test suite: it takes about 20 minutes on a
# 2-core machine and needs ffmpeg with libx264, libass and the DejaVu font
# (`make run` installs them) and a C compiler (for the poller).
#
# Sources, made at run time so they are not trivially compressible: testsrc2
# 1280x720 at 30 fps under temporal noise, with a sine tone, H.264 8 Mb/s and
# AAC in MP4; SOURCE_SECONDS (10) long for the timed tasks, LOAD_SECONDS (30)
# for the API measurement.
#
# Scenarios (getUploadToken parameters), each made with `vodup admin`:
#   A: transCodeCombineName of a template with one 1280x720 MP4 rendition;
#   B: a 3-rung HLS ladder (1280x720, 854x480, 640x360);
#   C: the ladder plus waterMarkName (a 128x64 PNG, top-right) and subtitleId
#      (an .srt written here, burned in).
#
# vodup's time: from the form upload's 200 (`curl -F token -F file`) to the
# first getVideoInfo that answers status "ready", polled every POLL_MS (20)
# over one kept-alive connection by a small C program built at run time (no
# process per poll, so the poller takes almost no CPU from ffmpeg), the
# request signed once per task.
#
# By hand: the identical ffmpeg commands. vodup runs with --ffmpeg
# $work/ffmpeg-wrap, a bash script that records each run's argv (NUL-separated,
# one file per run), its start and end in ns and the directories under the
# task's work dir after the run, and runs the real ffmpeg as its child.
# ffmpeg's arguments name the task's work dir (DATA/work/<taskId>-<attempt>),
# which vodup removes when the task ends, so a replay recreates those
# directories, copies the source to the recorded `source` path, runs the
# recorded runs in order with the same ffmpeg (stdout, where vodup reads
# -progress, to /dev/null), times them together and removes the directory.
# vodup also gets --ffprobe $work/ffprobe-wrap, which only notes when each
# ffprobe (the probe, then the output checks) starts and ends, so the task
# time can be split: queue (upload -> probe), probe, ffmpeg, output checks,
# publish (last check -> "ready" seen). Each wrapper costs a bash start-up
# (a few ms) that is counted in vodup's time.
#
# Order: one untimed task per scenario first (it fails fast, warms the page
# cache and records the commands), then ROUNDS (5) rounds; in each, every
# scenario runs once through vodup and once by hand, vodup first in odd rounds
# and the replay first in even ones, each replay using the latest recorded
# commands of its scenario (the same apart from ids), with a `sync` before
# each run. The medians count.
#
# The machine may be shared: for every run the script also notes the CPU
# time other processes took meanwhile (/proc/stat's busy time minus this
# script's and vodup's, children included) and the run's own CPU seconds,
# which contention hardly changes. The summary shows the rounds where others
# took less than QUIET_CORES (0.1) cores apart. vodup runs ffmpeg at nice 10
# (processing-nice) and the replay runs at nice 0 (HAND_NICE), so under load
# vodup's task loses more time than the replay, by design.
#
# Queue latency: upload's 200 -> the first ffmpeg run starts (the wrapper's
# first start timestamp); it holds the probe. Realtime factor: source duration
# / vodup's median task time.
#
# API under a transcode: wrk -t1 -c$API_CONNECTIONS (4) -d$API_DURATION (8s)
# of a signed GET getVideoInfo (signed once: valid for the clock skew, 300 s),
# in three windows, API_ROUNDS (3) times each: idle; while a scenario-C task
# on the LOAD_SECONDS source is in its transcode run (wrk starts when the run
# starts, and the run must outlast it); while the same transcode runs by hand
# at REPLAY_NICE (10, vodup's processing-nice) with no task in vodup, which
# tells plain CPU contention from what a task adds inside vodup. Medians.
#
# Targets: vodup / by hand <= 1.05 per scenario, queue latency < 100 ms, API
# p99 under a transcode <= 2 x idle. A task that ends "failed" exits
# non-zero at once; a missed target does not (STRICT=1 makes it).
# Everything it starts is stopped by PID on exit; vodup listens on 127.0.0.1
# only, on a port outside the kernel's ephemeral range 32768-60999.
set -euo pipefail
export LC_ALL=C # '.' in EPOCHREALTIME, plain sorting

ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib/ws3.sh"
# shellcheck source=lib/servers.sh
source "$ROOT/bench/lib/servers.sh"

VODUP_BIN=${VODUP_BIN:-$ROOT/build/vodup}
VODUP_PORT=${VODUP_PORT:-18086}
ROUNDS=${ROUNDS:-5}
SOURCE_SECONDS=${SOURCE_SECONDS:-10}
LOAD_SECONDS=${LOAD_SECONDS:-30}
API_ROUNDS=${API_ROUNDS:-3}
API_DURATION=${API_DURATION:-8s}
API_CONNECTIONS=${API_CONNECTIONS:-4}
POLL_MS=${POLL_MS:-20}
# HAND_NICE=10 runs the replays at vodup's processing-nice, to tell apart
# what the niceness costs.
HAND_NICE=${HAND_NICE:-0}
# The niceness of the transcode replayed by hand during the API measurement:
# vodup's processing-nice.
REPLAY_NICE=${REPLAY_NICE:-10}
SCENARIOS=${SCENARIOS:-A B C}
STRICT=${STRICT:-0}
TASK_TIMEOUT_S=${TASK_TIMEOUT_S:-900}
# KEEP=1 leaves the temp dir (data, sources, the recorded runs) for a look.
KEEP=${KEEP:-0}
# A round counts as quiet when other processes used less than this many
# cores during both of its runs (the summary shows those rounds apart).
QUIET_CORES=${QUIET_CORES:-0.1}
FFMPEG=/usr/bin/ffmpeg
FFPROBE=/usr/bin/ffprobe
TARGET_RATIO=1.05
TARGET_QUEUE_MS=100
TARGET_API_RATIO=2
INFO_PATH=/vod/videoManage/getVideoInfo
TOKEN_PATH=/vod/videoManage/getUploadToken

die() { echo "processing: $*" >&2; exit 1; }
for tool in wrk curl openssl jq cc "$FFMPEG" "$FFPROBE"; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs ffmpeg; --bench installs wrk and jq)"
done
[ -x "$VODUP_BIN" ] || die "$VODUP_BIN is missing: run 'make build' (or make bench-processing)"
"$FFMPEG" -hide_banner -encoders 2>/dev/null | grep ' libx264 ' >/dev/null || die "$FFMPEG has no libx264"
"$FFMPEG" -hide_banner -filters 2>/dev/null | grep ' subtitles ' >/dev/null || die "$FFMPEG has no subtitles filter (libass)"
[ "$ROUNDS" -ge 1 ] && [ "$API_ROUNDS" -ge 0 ] || die "ROUNDS must be >= 1, API_ROUNDS >= 0"
ws3_selftest || die "bench/lib/ws3.sh does not reproduce the API contract's test vectors"

work=$(mktemp -d "${TMPDIR:-/tmp}/vodup-processing-bench.XXXXXX")
data=$work/data
vodup_pid="" nginx_pid="" wrk_pid="" replay_pid="" tick_fd=""
cleanup() {
  local rc=$? f pid
  [ -z "$wrk_pid" ] || kill -TERM "$wrk_pid" 2>/dev/null || true
  [ -z "$replay_pid" ] || kill -KILL "$replay_pid" 2>/dev/null || true
  bench_stop_servers
  # vodup kills its ffmpeg's process group when it stops; a wrapper that
  # has not recorded its end is killed here too, by its group (its PID).
  for f in "$work"/rec/*/run.*.start; do
    [ -e "$f" ] && [ ! -e "${f%.start}.time" ] || continue
    read -r pid _ <"$f" && kill -KILL -- "-$pid" 2>/dev/null || true
  done
  if [ "$KEEP" = 1 ]; then echo "processing: kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy "$VODUP_PORT" && die "port $VODUP_PORT is in use (set VODUP_PORT)"
mkdir -p "$work/rec"
mkfifo "$work/tick"
exec {tick_fd}<>"$work/tick" # never written: `read -t` on it is a sleep without a process
sleep_ms() { # MS, without starting a process
  local t
  printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
  read -r -t "$t" -u "$tick_fd" _ || true
}

# ---- the inputs ----
# make_source PATH SECONDS: noisy 720p30 H.264 8 Mb/s + AAC, like a camera's.
make_source() {
  "$FFMPEG" -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=$2" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$2" \
    -vf noise=alls=20:allf=t -c:v libx264 -preset veryfast -b:v 8M -maxrate 8M -bufsize 16M -g 60 \
    -pix_fmt yuv420p -c:a aac -b:a 128k -shortest -movflags +faststart "$1" ||
    die "cannot make $1"
}
echo "processing: making a ${SOURCE_SECONDS} s and a ${LOAD_SECONDS} s 720p source (about 1 s per second of video)"
make_source "$work/source.mp4" "$SOURCE_SECONDS"
make_source "$work/long.mp4" "$LOAD_SECONDS"
SOURCE_DURATION=$("$FFPROBE" -v error -show_entries format=duration -of csv=p=0 "$work/source.mp4")
LOAD_DURATION=$("$FFPROBE" -v error -show_entries format=duration -of csv=p=0 "$work/long.mp4")
"$FFMPEG" -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=128x64:rate=1 -frames:v 1 \
  -pix_fmt rgba "$work/mark.png" || die "cannot make the watermark"
# A cue every 2 s over the longer source, so text is drawn most of the time.
srt_time() { printf '%02d:%02d:%02d,%s' $(($1 / 3600)) $(($1 / 60 % 60)) $(($1 % 60)) "$2"; }
for ((i = 0; i < LOAD_SECONDS; i += 2)); do
  printf '%d\n%s --> %s\nvodup processing benchmark, cue %d\n\n' $((i / 2 + 1)) "$(srt_time "$i" 000)" \
    "$(srt_time $((i + 1)) 800)" $((i / 2 + 1))
done >"$work/bench.srt"

# ---- the wrappers vodup runs instead of ffmpeg and ffprobe ----
# $work/rec.current names the record directory of the task about to run
# (one task at a time: the script waits for each before the next).
cat >"$work/ffmpeg-wrap" <<EOF
#!/bin/bash
# Written by bench/processing.sh: records this run of vodup's ffmpeg, then
# runs the real one as a child and exits with its status.
shopt -s globstar dotglob nullglob
LC_ALL=C
t0=\${EPOCHREALTIME/./}000
IFS= read -r rec <"$work/rec.current" || rec=$work/rec/lost
mkdir -p "\$rec"
runs=("\$rec"/run.*.argv)
printf -v n '%02d' "\${#runs[@]}"
printf '%s\0' "\$@" >"\$rec/run.\$n.argv"
echo "\$\$ \$t0" >"\$rec/run.\$n.start"
taskdir=""
for a; do case \$a in file:*/work/*/source) taskdir=\${a#file:}; taskdir=\${taskdir%/source} ;; esac; done
$FFMPEG "\$@"
rc=\$?
t1=\${EPOCHREALTIME/./}000
if [ -n "\$taskdir" ]; then
  echo "\$taskdir" >"\$rec/taskdir"
  for d in "\$taskdir"/**/; do d=\${d%/}; [ "\$d" = "\$taskdir" ] || printf '%s\0' "\${d#"\$taskdir"/}"; done >"\$rec/run.\$n.dirs"
fi
echo "\$t0 \$t1 \$rc" >"\$rec/run.\$n.time"
exit \$rc
EOF
cat >"$work/ffprobe-wrap" <<EOF
#!/bin/bash
# Written by bench/processing.sh: notes when this ffprobe starts and ends.
LC_ALL=C
t0=\${EPOCHREALTIME/./}000
IFS= read -r rec <"$work/rec.current" || rec=$work/rec/lost
mkdir -p "\$rec"
$FFPROBE "\$@"
rc=\$?
echo "\$t0 \${EPOCHREALTIME/./}000 \$rc \${*: -1}" >>"\$rec/probes"
exit \$rc
EOF
chmod +x "$work/ffmpeg-wrap" "$work/ffprobe-wrap"

# ---- the poller ----
# bash reads a socket a byte at a time: a poll every 20 ms from bash took
# about 3 ms of CPU each, 15% of a core taken from ffmpeg during vodup's runs
# only. This takes about 0.1 ms.
cat >"$work/poll.c" <<'EOF'
/* poll (written by bench/processing.sh): sends the HTTP request in FILE to
 * 127.0.0.1:PORT every INTERVAL_MS over one kept-alive connection until the
 * answer's "status" is ready or failed, or MAX_S seconds pass; then prints
 * "<status> <CLOCK_REALTIME in us when that answer was read>" (the last
 * status seen, after MAX_S), and on failed the answer's body. A poll costs
 * a write and a read or two: no process start, no CPU taken from ffmpeg. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* One request and its answer into buf (NUL-terminated); the body's offset, or -1. */
static long exchange(int fd, const char *req, size_t req_len, char *buf, size_t cap)
{
    if (write(fd, req, req_len) != (ssize_t)req_len)
        return -1;
    size_t got = 0;
    long body = -1, need = -1;
    while (need < 0 || (long)got < need) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        char *end = body < 0 ? strstr(buf, "\r\n\r\n") : NULL;
        if (end) {
            body = end + 4 - buf;
            long len = 0;
            for (char *p = buf; p && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
                if (strncasecmp(p, "Content-Length:", 15) == 0)
                    len = strtol(p + 15, NULL, 10);
            need = body + len;
        }
        if (got >= cap - 1)
            return -1;
    }
    return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? body : -1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: poll PORT REQUEST_FILE INTERVAL_MS MAX_S\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long interval_ms = atol(argv[3]);
    long long until = now_us(CLOCK_MONOTONIC) + atoll(argv[4]) * 1000000LL;
    static char req[8192], buf[1 << 16];
    FILE *f = fopen(argv[2], "rb");
    size_t req_len = f ? fread(req, 1, sizeof(req), f) : 0;
    if (f)
        fclose(f);
    if (!req_len) {
        fprintf(stderr, "poll: cannot read %s\n", argv[2]);
        return 2;
    }
    char status[32] = "none";
    int fd = -1, errors = 0;
    for (;;) {
        if (fd < 0 && (fd = connect_to(port)) < 0) {
            perror("poll: connect");
            return 1;
        }
        long body = exchange(fd, req, req_len, buf, sizeof(buf));
        long long t = now_us(CLOCK_REALTIME);
        if (body < 0) { /* closed, or not a 200: once more on a new connection */
            close(fd);
            fd = -1;
            if (++errors > 3) {
                fprintf(stderr, "poll: no answer: %.200s\n", buf);
                return 1;
            }
            continue;
        }
        errors = 0;
        const char *s = strstr(buf + body, "\"status\":\"");
        if (s && sscanf(s + 10, "%31[a-z]", status) == 1 &&
            (strcmp(status, "ready") == 0 || strcmp(status, "failed") == 0)) {
            printf("%s %lld\n", status, t);
            if (strcmp(status, "failed") == 0)
                printf("%s\n", buf + body);
            return 0;
        }
        if (now_us(CLOCK_MONOTONIC) >= until) {
            printf("%s %lld\n", status, t);
            return 0;
        }
        struct timespec d = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
}
EOF
cc -O2 -o "$work/poll" "$work/poll.c" || die "cannot build the poller (cc)"

# ---- vodup ----
# The poller and wrk come from one address at well above the default rate.
# shellcheck disable=SC2086 # VODUP_ARGS is a list of flags
bench_vodup_start "$VODUP_PORT" "$data" --rate-limit 0 --access-log off \
  --ffmpeg "$work/ffmpeg-wrap" --ffprobe "$work/ffprobe-wrap" ${VODUP_ARGS:-}
admin() { "$VODUP_BIN" admin --data "$data" --account "$AK" "$@" >>"$work/admin.out" || die "vodup admin $* failed"; }
admin template add bench-one --container mp4 --rendition 1280x720
admin template add bench-ladder --container hls --rendition 1280x720 --rendition 854x480 --rendition 640x360
admin watermark add bench-mark --image "$work/mark.png" --position top-right
admin subtitle add bench-sub --file "$work/bench.srt" --mode burn
SUBTITLE_ID=$(awk '$1 == "subtitleId" {print $2}' "$work/admin.out")
[ -n "$SUBTITLE_ID" ] || die "vodup admin subtitle add printed no subtitleId"
declare -A PARAMS=(
  [A]="transCodeCombineName=bench-one"
  [B]="transCodeCombineName=bench-ladder"
  [C]="transCodeCombineName=bench-ladder&waterMarkName=bench-mark&subtitleId=$SUBTITLE_ID"
)
declare -A LABEL=(
  [A]="A: 1 x 720p MP4"
  [B]="B: 3-rung HLS ladder"
  [C]="C: ladder+watermark+subtitle"
)
for s in $SCENARIOS; do [ -n "${PARAMS[$s]:-}" ] || die "unknown scenario $s (A, B or C)"; done

# ---- signed API calls (bench_vodup_post: bench/lib/servers.sh) ----
info_headers() { # VIDEOID: sets INFO_TS and INFO_AUTH for a GET getVideoInfo signed now
  INFO_TS=$(date +%s)
  INFO_AUTH="WS3-HMAC-SHA256 Credential=$AK, SignedHeaders=host, Signature=$(ws3_signature GET "$INFO_PATH" \
    "videoId=$1" "127.0.0.1:$VODUP_PORT" '' '' "$INFO_TS" "$SK")"
}

# wait_task: polls getVideoInfo (with the poller built above) until ready or
# failed; sets TASK_END_US, when "ready" was read. A failed task ends the run.
# The request is signed again every 200 s, within the 300 s clock skew.
wait_task() { # VIDEOID START_US
  local deadline=$(($2 + TASK_TIMEOUT_S * 1000000)) status out
  while :; do
    info_headers "$1"
    printf '%s\r\n' "GET $INFO_PATH?videoId=$1 HTTP/1.1" "Host: 127.0.0.1:$VODUP_PORT" "X-WS-AccessKey: $AK" \
      "X-WS-Timestamp: $INFO_TS" "Authorization: $INFO_AUTH" "" >"$work/poll.request"
    out=$("$work/poll" "$VODUP_PORT" "$work/poll.request" "$POLL_MS" 200) || die "getVideoInfo $1 failed while polling"
    read -r status TASK_END_US <<<"$out"
    case $status in
      ready) return 0 ;;
      failed)
        echo "processing: video $1: $(sed 1d <<<"$out" | jq -c '.data | {status, failReason}')" >&2
        tail -n 5 "$work/vodup.err" >&2
        die "a task ended failed" ;;
    esac
    [ "$TASK_END_US" -lt "$deadline" ] || die "video $1 is still $status after $TASK_TIMEOUT_S s"
  done
}
# Waits until vodup has removed every task work dir (it does so just after
# "ready"), so the next run starts on an idle machine.
wait_idle() {
  local i left
  for i in $(seq 1 500); do
    left=$(find "$data/work" -mindepth 1 -maxdepth 1 2>/dev/null | head -n 1) || true
    [ -n "$left" ] || return 0
    sleep_ms 20
  done
  die "vodup did not remove $left"
}

# ---- one task through vodup ----
# vodup_task SCENARIO SOURCE NAME: uploads SOURCE with the scenario's
# parameters, records its runs in $work/rec/NAME; leaves the video's id in
# TASK_VIDEO, the upload's 200 in UPLOADED_US. With WAIT=0 it returns once
# the upload is complete.
task_count=0
vodup_task() {
  local scenario=$1 src=$2 name=$3 tok url token code
  tok=$(bench_vodup_post "$TOKEN_PATH" "originFileName=bench.mp4&${PARAMS[$scenario]}") || die "getUploadToken failed"
  TASK_VIDEO=$(jq -r .data.videoId <<<"$tok")
  url=$(jq -r .data.uploadUrl <<<"$tok")
  token=$(jq -r .data.uploadToken <<<"$tok")
  [ -n "$TASK_VIDEO" ] && [ -n "$token" ] || die "getUploadToken answered no videoId or uploadToken: $tok"
  mkdir -p "$work/rec/$name"
  echo "$work/rec/$name" >"$work/rec.current"
  echo "$scenario $src" >"$work/rec/$name/what"
  wait_idle
  sync
  code=$(curl -sS -o "$work/upload.out" -w '%{http_code}' --form-string "token=$token" -F "file=@$src" \
    "$url/file/upload") || die "the form upload failed"
  UPLOADED_US=${EPOCHREALTIME/./}
  [ "$code" = 200 ] || die "the form upload answered $code: $(cat "$work/upload.out")"
  echo "$UPLOADED_US" >"$work/rec/$name/uploaded"
  task_count=$((task_count + 1))
  [ "${WAIT:-1}" = 0 ] && return 0
  wait_task "$TASK_VIDEO" "$UPLOADED_US"
  echo "$TASK_END_US" >"$work/rec/$name/ready"
  [ -s "$work/rec/$name/run.00.argv" ] || die "vodup ran no ffmpeg for scenario $scenario"
}
# The numbers of one recorded task, all in ms but the first:
# "task_s queue probe_start probe ffmpeg checks publish cover gaps": ffmpeg
# sums the runs, cover is the first run alone, gaps the time between runs.
task_numbers() { # NAME
  local r=$work/rec/$1
  cat "$r"/run.*.time | awk -v up="$(cat "$r/uploaded")" -v ready="$(cat "$r/ready")" -v probes="$r/probes" '
    BEGIN { first = -1 }
    { s = $1 / 1000; e = $2 / 1000; if (first < 0 || s < first) first = s; if (e > last) last = e; ff += e - s
      if (NR == 1) cover = e - s }
    END {
      pstart = -1
      while ((getline line < probes) > 0) {
        split(line, p, " "); ps = p[1] / 1000; pe = p[2] / 1000
        if (pstart < 0) { pstart = ps; pend = pe }
        if (pe > lastcheck) lastcheck = pe
      }
      if (lastcheck < last) lastcheck = last
      printf "%.3f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f\n", (ready - up) / 1e6, (first - up) / 1000,
        (pstart - up) / 1000, (pend - pstart) / 1000, ff / 1000, (lastcheck - last) / 1000, (ready - lastcheck) / 1000,
        cover / 1000, (last - first - ff) / 1000
    }'
}

# CPU ticks (1/100 s), to tell a run that other work on the machine
# disturbed and to compare CPU time, which contention hardly changes:
# "machine script vodup extra", the machine's busy time (steal included),
# this script's and vodup's, each with its reaped children (the replays'
# ffmpeg; vodup's wrappers, ffmpeg and ffprobe), and that of the running
# processes PIDS (an ffmpeg not reaped yet).
cpu_ticks() { # [PIDS...]
  local cpu user nice system idle iowait irq softirq steal pid out extra=0
  local -a f
  read -r cpu user nice system idle iowait irq softirq steal _ </proc/stat
  out=$((user + nice + system + irq + softirq + steal))
  for pid in $$ $vodup_pid; do
    read -r -a f <"/proc/$pid/stat" # neither comm has a space
    out+=" $((f[13] + f[14] + f[15] + f[16]))"
  done
  for pid; do
    read -r -a f <"/proc/$pid/stat" 2>/dev/null && extra=$((extra + f[13] + f[14]))
  done
  echo "$out $extra"
}
# cpu_use TICKS_BEFORE TICKS_AFTER T0_US T1_US: "others_cores script_s vodup_s",
# the cores others used meanwhile and the CPU seconds of each side (vodup's
# with the extra PIDs).
cpu_use() {
  awk -v b="$1" -v a="$2" -v t0="$3" -v t1="$4" 'BEGIN {
    split(b, x, " "); split(a, y, " "); s = (y[2] - x[2]) / 100; v = (y[3] - x[3] + y[4] - x[4]) / 100
    o = (y[1] - x[1]) / 100 - s - v
    printf "%.2f %.2f %.2f\n", (o < 0 ? 0 : o) / ((t1 - t0) / 1e6), s, v }'
}

# ---- the same commands by hand ----
# replay_prepare NAME: recreates the task's work dir as vodup had it before
# its first run (the directories, the source); sets REPLAY_DIR.
replay_prepare() {
  local r=$work/rec/$1 d dirs
  REPLAY_DIR=$(cat "$r/taskdir")
  wait_idle
  [ ! -e "$REPLAY_DIR" ] || die "$REPLAY_DIR exists: vodup did not remove it"
  mkdir -p "$REPLAY_DIR"
  dirs=$(ls "$r"/run.*.dirs | tail -n 1)
  while IFS= read -r -d '' d; do mkdir -p "$REPLAY_DIR/$d"; done <"$dirs"
  cp "$(cut -d' ' -f2 "$r/what")" "$REPLAY_DIR/source"
  sync
}
hand_run() { # NAME: replays the recorded runs; prints "wall_s first_run_ms"
  local r=$work/rec/$1 f t0 t1 t_first=""
  local -a args runner=()
  [ "$HAND_NICE" = 0 ] || runner=(nice -n "$HAND_NICE")
  replay_prepare "$1"
  t0=${EPOCHREALTIME/./}
  for f in "$r"/run.*.argv; do
    mapfile -d '' -t args <"$f"
    "${runner[@]}" "$FFMPEG" "${args[@]}" </dev/null >/dev/null 2>>"$work/hand.err" ||
      { tail -n 5 "$work/hand.err" >&2; die "the replay of $f failed"; }
    [ -n "$t_first" ] || t_first=${EPOCHREALTIME/./}
  done
  t1=${EPOCHREALTIME/./}
  rm -rf "$REPLAY_DIR"
  awk -v a="$t0" -v b="$t1" -v c="$t_first" 'BEGIN {printf "%.3f %.1f\n", (b - a) / 1e6, (c - a) / 1000}'
}

# ---- wrk ----
to_ms() { # wrk latency like 512.00us, 1.23ms, 2.01s
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}
api_lua() { # VIDEOID
  info_headers "$1"
  cat >"$work/info.lua" <<EOF
wrk.method = "GET"
wrk.headers["X-WS-AccessKey"] = "$AK"
wrk.headers["X-WS-Timestamp"] = "$INFO_TS"
wrk.headers["Authorization"] = "$INFO_AUTH"
EOF
}
# api_run VIDEOID: wrk in the background; api_done sets API_RESULT to "p99_ms p50_ms req/s bad".
api_start() {
  api_lua "$1"
  wrk -t1 -c"$API_CONNECTIONS" -d"$API_DURATION" --latency -s "$work/info.lua" \
    "http://127.0.0.1:$VODUP_PORT$INFO_PATH?videoId=$1" >"$work/wrk.out" 2>&1 &
  wrk_pid=$!
}
api_done() {
  local out=$work/wrk.out p99 p50 rps bad
  wait "$wrk_pid" || { cat "$out" >&2; die "wrk failed"; }
  wrk_pid=""
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {s += $NF} /Socket errors:/ {gsub(",", ""); s += $4 + $6 + $8 + $10}
    END {print s + 0}' "$out")
  [ -n "$rps" ] || { cat "$out" >&2; die "wrk printed no statistics"; }
  [ "$bad" -eq 0 ] || { cat "$out" >&2; die "vodup answered getVideoInfo with errors under wrk"; }
  API_RESULT="$p99 $p50 $rps $bad"
}

# ---- warm-up: one untimed task per scenario ----
declare -A LATEST=() # scenario -> the record its next replay uses
nproc_=$(nproc)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "processing: vodup $VODUP_BIN on 127.0.0.1:$VODUP_PORT, $(${FFMPEG} -version | head -n 1 | cut -d' ' -f1-3),"
echo "processing: $nproc_ cores ($cpu), data in $work"
for s in $SCENARIOS; do
  vodup_task "$s" "$work/source.mp4" "warm-$s"
  read -r ts _ <<<"$(task_numbers "warm-$s")"
  echo "processing: warm-up ${LABEL[$s]}: ready in $ts s ($(ls "$work/rec/warm-$s"/run.*.argv | wc -l) ffmpeg runs)"
  LATEST[$s]=warm-$s
done
WARM_VIDEO=$TASK_VIDEO

# ---- timed rounds ----
# Each sets its *_others, the cores other work on the machine used
# meanwhile, and *_cpu, the CPU seconds of the run (vodup's: its own and its
# children's, from getUploadToken to "ready"; the replay's: the script's
# children, ffmpeg and the copy of the source).
measured_vodup_task() { # SCENARIO NAME
  local b a t0 t1
  b=$(cpu_ticks) t0=${EPOCHREALTIME/./}
  vodup_task "$1" "$work/source.mp4" "$2"
  a=$(cpu_ticks) t1=${EPOCHREALTIME/./}
  LATEST[$1]=$2
  read -r v_others _ v_cpu <<<"$(cpu_use "$b" "$a" "$t0" "$t1")"
}
measured_hand_run() { # NAME
  local b a t0 t1
  b=$(cpu_ticks) t0=${EPOCHREALTIME/./}
  hand_out=$(hand_run "$1")
  a=$(cpu_ticks) t1=${EPOCHREALTIME/./}
  read -r h_others h_cpu _ <<<"$(cpu_use "$b" "$a" "$t0" "$t1")"
}
echo "processing: $ROUNDS rounds of vodup and by hand (alternating which goes first), ${SOURCE_SECONDS} s source"
for s in $SCENARIOS; do : >"$work/$s.results"; done
for round in $(seq 1 "$ROUNDS"); do
  for s in $SCENARIOS; do
    if [ $((round % 2)) = 1 ]; then
      measured_vodup_task "$s" "r$round-$s"
      measured_hand_run "${LATEST[$s]}"
    else
      measured_hand_run "${LATEST[$s]}"
      measured_vodup_task "$s" "r$round-$s"
    fi
    read -r hand hcover <<<"$hand_out"
    read -r task queue pstart probe ffmpeg checks publish vcover gaps <<<"$(task_numbers "r$round-$s")"
    echo "$task $hand $queue $pstart $probe $ffmpeg $checks $publish $vcover $hcover $gaps $v_others $h_others $v_cpu $h_cpu" \
      >>"$work/$s.results"
    printf '  round %d %-30s vodup %7.3f s  by hand %7.3f s  ratio %.3f | queue %4.0f ms (probe %3.0f) | ffmpeg in vodup %.3f s | checks %3.0f ms | publish %3.0f ms | CPU %s/%s s | others %s/%s cores\n' \
      "$round" "${LABEL[$s]}" "$task" "$hand" "$(awk -v a="$task" -v b="$hand" 'BEGIN {print a / b}')" \
      "$queue" "$probe" "$(awk -v f="$ffmpeg" 'BEGIN {print f / 1000}')" "$checks" "$publish" "$v_cpu" "$h_cpu" "$v_others" "$h_others"
  done
done

# ---- API under a transcode ----
# Three wrk windows a round: idle; during vodup's scenario-C transcode of the
# long source; during the same transcode replayed by hand at vodup's
# processing-nice (REPLAY_NICE, 10) with no task in vodup. The third tells
# plain CPU contention from what a task adds inside vodup.
# api_window NAME [PIDS...]: wrk now; appends "p99 p50 req/s others" to
# $work/api-NAME.results (others: cores used by processes that are neither
# this benchmark's, vodup's nor PIDS').
api_window() {
  local b a t0 t1 others
  b=$(cpu_ticks "${@:2}") t0=${EPOCHREALTIME/./}
  api_start "$WARM_VIDEO"
  api_done
  a=$(cpu_ticks "${@:2}") t1=${EPOCHREALTIME/./}
  read -r others _ <<<"$(cpu_use "$b" "$a" "$t0" "$t1")"
  read -r p99 p50 rps _ <<<"$API_RESULT"
  echo "$p99 $p50 $rps $others" >>"$work/api-$1.results"
}
child_of() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{print $1}'; }
for f in idle load replay; do : >"$work/api-$f.results"; done
: >"$work/load.results"
if [ "$API_ROUNDS" -gt 0 ]; then
  echo "processing: API: wrk -t1 -c$API_CONNECTIONS -d$API_DURATION signed GET getVideoInfo: idle, during vodup's"
  echo "processing: scenario-C transcode of the ${LOAD_SECONDS} s source, during that transcode by hand (nice $REPLAY_NICE);"
  echo "processing: $API_ROUNDS rounds"
fi
api_line() { # ROUND LABEL NAME NOTE: prints the window's last result
  local p99 p50 rps others
  read -r p99 p50 rps others <<<"$(tail -n 1 "$work/api-$3.results")"
  printf '  round %d %-26s p99 %7.3f ms  p50 %6.3f ms  %7.0f req/s  others %s cores%s\n' "$1" "$2" "$p99" "$p50" \
    "$rps" "$others" "$4"
}
for round in $(seq 1 "$API_ROUNDS"); do
  wait_idle
  api_window idle
  api_line "$round" "idle:" idle ""
  WAIT=0 vodup_task C "$work/long.mp4" "load$round"
  load_video=$TASK_VIDEO load_up=$UPLOADED_US
  r=$work/rec/load$round
  for _ in $(seq 1 3000); do # the transcode run (the second) has started
    [ ! -e "$r/run.01.start" ] || break
    [ ! -e "$r/run.00.time" ] || [ "$(cut -d' ' -f3 "$r/run.00.time")" = 0 ] || die "the load task's cover run failed"
    sleep_ms 10
  done
  [ -e "$r/run.01.start" ] || die "the load task's transcode did not start"
  read -r wrapper _ <"$r/run.01.start"
  api_window load $(child_of "$wrapper")
  [ ! -e "$r/run.01.time" ] || die "the load task's transcode ended before wrk: raise LOAD_SECONDS"
  wait_task "$load_video" "$load_up"
  echo "$TASK_END_US" >"$r/ready"
  read -r task queue _ <<<"$(task_numbers "load$round")"
  echo "$task $queue" >>"$work/load.results"
  api_line "$round" "during vodup's transcode:" load " (task $task s)"
  # The same transcode run by hand, vodup idle.
  replay_prepare "load$round"
  mapfile -d '' -t args <"$r/run.01.argv"
  nice -n "$REPLAY_NICE" "$FFMPEG" "${args[@]}" </dev/null >/dev/null 2>>"$work/hand.err" &
  replay_pid=$!
  api_window replay "$replay_pid"
  kill -0 "$replay_pid" 2>/dev/null || die "the replayed transcode ended before wrk: raise LOAD_SECONDS"
  wait "$replay_pid" || { tail -n 5 "$work/hand.err" >&2; die "the replayed transcode failed"; }
  replay_pid=""
  rm -rf "$REPLAY_DIR"
  api_line "$round" "during it by hand (nice $REPLAY_NICE):" replay ""
done

# ---- summary ----
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
  else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { # RESULTS FIELD [FORMAT]: the median of a field
  cut -d' ' -f"$2" "$work/$1.results" | median | awk -v f="${3:-%.3f}" '{if ($1 == "-") print; else printf f "\n", $1}'
}
verdict() { # VALUE OP TARGET
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "-") print "-"; else if ((op == "<=" && v <= t) || (op == "<" && v < t)) print "met"; else print "MISSED" }'
}
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.3f}" 'BEGIN {if (a == "-" || b == "-" || b <= 0) print "-"; else printf f "\n", a / b}'; }
missed=0
echo
printf '%-32s %9s %10s %7s %-7s %9s %-7s %9s\n' "scenario (median of $ROUNDS)" "vodup s" "by hand s" ratio target \
  "queue ms" target "realtime"
metrics=()
for s in $SCENARIOS; do
  v=$(col "$s" 1) h=$(col "$s" 2) q=$(col "$s" 3 %.1f)
  r=$(div "$v" "$h") rt=$(div "$SOURCE_DURATION" "$v" %.2f)
  rv=$(verdict "$r" '<=' "$TARGET_RATIO") qv=$(verdict "$q" '<' "$TARGET_QUEUE_MS")
  [ "$rv" = met ] && [ "$qv" = met ] || missed=1
  printf '%-32s %9s %10s %7s %-7s %9s %-7s %8sx\n' "${LABEL[$s]}" "$v" "$h" "$r" "$rv" "$q" "$qv" "$rt"
  metrics+=("processing.$s.vodup_s $v" "processing.$s.hand_s $h" "processing.$s.ratio $r" "processing.$s.queue_ms $q"
    "processing.$s.realtime_x $rt" "processing.$s.probe_start_ms $(col "$s" 4 %.1f)" "processing.$s.probe_ms $(col "$s" 5 %.1f)"
    "processing.$s.ffmpeg_ms $(col "$s" 6 %.1f)" "processing.$s.checks_ms $(col "$s" 7 %.1f)"
    "processing.$s.publish_ms $(col "$s" 8 %.1f)" "processing.$s.cover_ms $(col "$s" 9 %.1f)"
    "processing.$s.hand_cover_ms $(col "$s" 10 %.1f)" "processing.$s.gaps_ms $(col "$s" 11 %.1f)")
done
echo "(targets: vodup/by hand <= $TARGET_RATIO, queue latency (upload's 200 -> first ffmpeg) < $TARGET_QUEUE_MS ms;"
echo " realtime: source seconds per second of vodup's task)"
echo
printf '%-32s %8s %6s %9s %9s %11s %7s %6s %7s\n' "where vodup's time goes (median)" "to probe" "probe" \
  "ffmpeg s" "by hand" "cover v/h" "gaps" "checks" "publish"
for s in $SCENARIOS; do
  printf '%-32s %8s %6s %9s %9s %11s %7s %6s %7s\n' "${LABEL[$s]}" "$(col "$s" 4 %.0f)" "$(col "$s" 5 %.0f)" \
    "$(col "$s" 6 | awk '{printf "%.3f", $1 / 1000}')" "$(col "$s" 2)" "$(col "$s" 9 %.0f)/$(col "$s" 10 %.0f)" \
    "$(col "$s" 11 %.1f)" "$(col "$s" 7 %.0f)" "$(col "$s" 8 %.0f)"
done
echo "(ms but for the ffmpeg columns. to probe: upload's 200 -> ffprobe starts; ffmpeg s: the recorded runs inside"
echo " vodup, by hand: the replay; cover v/h: the first run in vodup and by hand; gaps: between runs in vodup;"
echo " checks: the last ffmpeg -> the last ffprobe of the output checks; publish: -> \"ready\" read by the poller,"
echo " every $POLL_MS ms)"
for s in $SCENARIOS; do
  printf '%-32s others used %s cores (median; largest %s) during vodup'"'"'s tasks, %s (largest %s) during the replays\n' \
    "${LABEL[$s]}" "$(col "$s" 12 %.2f)" "$(cut -d' ' -f12 "$work/$s.results" | sort -g | tail -n 1)" \
    "$(col "$s" 13 %.2f)" "$(cut -d' ' -f13 "$work/$s.results" | sort -g | tail -n 1)"
  metrics+=("processing.$s.others_vodup_cores $(col "$s" 12 %.2f)" "processing.$s.others_hand_cores $(col "$s" 13 %.2f)")
done
for s in $SCENARIOS; do
  printf '%-32s CPU: vodup %s s, by hand %s s (medians), ratio %s\n' "${LABEL[$s]}" "$(col "$s" 14 %.2f)" \
    "$(col "$s" 15 %.2f)" "$(div "$(col "$s" 14)" "$(col "$s" 15)")"
  metrics+=("processing.$s.vodup_cpu_s $(col "$s" 14 %.2f)" "processing.$s.hand_cpu_s $(col "$s" 15 %.2f)"
    "processing.$s.cpu_ratio $(div "$(col "$s" 14)" "$(col "$s" 15)")")
done
echo "(others: CPU that processes outside this benchmark took on the $nproc_-core machine; above ~0.1 the"
echo " comparison is disturbed. Only the rounds where others stayed below $QUIET_CORES cores in both runs:)"
for s in $SCENARIOS; do
  awk -v q="$QUIET_CORES" '$12 < q && $13 < q' "$work/$s.results" >"$work/$s-quiet.results"
  n=$(wc -l <"$work/$s-quiet.results")
  if [ "$n" -gt 0 ]; then
    printf '%-32s %d quiet rounds: vodup %s s, by hand %s s, ratio %s, queue %s ms\n' "${LABEL[$s]}" "$n" \
      "$(col "$s-quiet" 1)" "$(col "$s-quiet" 2)" "$(div "$(col "$s-quiet" 1)" "$(col "$s-quiet" 2)")" "$(col "$s-quiet" 3 %.1f)"
    metrics+=("processing.$s.quiet_rounds $n" "processing.$s.quiet_ratio $(div "$(col "$s-quiet" 1)" "$(col "$s-quiet" 2)")")
  else
    printf '%-32s no quiet round\n' "${LABEL[$s]}"
  fi
done
if [ "$API_ROUNDS" -gt 0 ]; then
  ip99=$(col api-idle 1) lp99=$(col api-load 1) rp99=$(col api-replay 1)
  ar=$(div "$lp99" "$ip99" %.2f)
  av=$(verdict "$ar" '<=' "$TARGET_API_RATIO")
  [ "$av" = met ] || missed=1
  lt=$(col load 1)
  echo
  printf '%-40s %9s %9s %9s %8s\n' "API, getVideoInfo (median of $API_ROUNDS)" "p99 ms" "p50 ms" "req/s" "others"
  printf '%-40s %9s %9s %9.0f %8s\n' "idle" "$ip99" "$(col api-idle 2)" "$(col api-idle 3)" "$(col api-idle 4 %.2f)"
  printf '%-40s %9s %9s %9.0f %8s\n' "during vodup's scenario-C transcode" "$lp99" "$(col api-load 2)" \
    "$(col api-load 3)" "$(col api-load 4 %.2f)"
  printf '%-40s %9s %9s %9.0f %8s\n' "during that transcode by hand, nice $REPLAY_NICE" "$rp99" "$(col api-replay 2)" \
    "$(col api-replay 3)" "$(col api-replay 4 %.2f)"
  echo "p99 ratio during vodup's transcode / idle: $ar (target <= $TARGET_API_RATIO: $av);" \
    "during the transcode by hand / idle: $(div "$rp99" "$ip99" %.2f)"
  echo "the ${LOAD_SECONDS} s scenario-C task: $lt s (median), realtime $(div "$LOAD_DURATION" "$lt" %.2f)x"
  metrics+=("processing.api.idle_p99_ms $ip99" "processing.api.load_p99_ms $lp99" "processing.api.p99_ratio $ar"
    "processing.api.replay_p99_ms $rp99" "processing.api.replay_p99_ratio $(div "$rp99" "$ip99" %.2f)"
    "processing.load.C_task_s $lt" "processing.load.realtime_x $(div "$LOAD_DURATION" "$lt" %.2f)")
fi
echo "tasks run: $task_count, none failed"
echo
for m in "${metrics[@]}"; do echo "metric $m"; done
if [ "$STRICT" = 1 ] && [ "$missed" = 1 ]; then
  die "a target was missed"
fi
