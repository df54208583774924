#!/usr/bin/env bash
# What an operator watches: GET /metrics on metrics-listen, scraped after
# real traffic (the CLI's token call and upload, Range playback, a 404) and
# parsed by the Prometheus text-format parser of Debian's
# python3-prometheus-client; /healthz with the version; /readyz failing
# while the disk is short (ready-min-free) or the database file is gone;
# `vodup --version`; and stderr holding JSON lines only.  vodup binds
# 127.0.0.1 on free ports and is stopped by PID.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_observability.sh path/to/vodup}
[[ $VODUP == /* || $VODUP != */* ]] || VODUP="$PWD/$VODUP"
PY=/usr/bin/python3
work=$(mktemp -d /tmp/vodup-observe.XXXXXX)
pid=""
stop() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=""; }
cleanup() { stop; rm -rf "$work"; }
trap cleanup EXIT
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] || { echo "--- stderr (last 15)"; tail -n 15 "$work"/*.err 2>/dev/null; }
  [ "$failed" -eq 0 ]
  exit
}
start() { # name, extra args...: sets host, mport, ak, sk
  local name=$1; shift
  "$VODUP" serve --listen 127.0.0.1:0 --data "$work/$name" --metrics-listen 127.0.0.1:0 --processing off "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  vodup_wait_started "$work/$name.out" "$pid" # the metrics line is flushed with the listening one
  host=$hostport
  mport=$(sed -n 's/^vodup: metrics on port \([0-9]*\) .*/\1/p' "$work/$name.out")
  [ -n "$host" ] && [ -n "$mport" ] && [ -n "$ak" ]
}
check "Debian's python3-prometheus-client is importable" "$PY" -c 'import prometheus_client.parser' || finish

version=$("$VODUP" --version)
check "vodup --version prints 'vodup X.Y.Z (commit)': $version" \
  bash -c "[[ '$version' =~ ^vodup\ [0-9]+\.[0-9]+\.[0-9]+( \(.+\))?$ ]]"
number=$(echo "$version" | cut -d' ' -f2)

check "vodup serve starts with --metrics-listen 127.0.0.1:0" start main || finish
check "/healthz answers 200 with the version" \
  bash -c "curl -sf 'http://$host/healthz' | grep -qx '{\"status\":\"ok\",\"version\":\"$number\"}'"
check "/readyz answers 200 ready" bash -c "curl -sf 'http://$host/readyz' | grep -qx '{\"status\":\"ready\"}'"
check "/metrics is not served on the public port" \
  bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' 'http://$host/metrics')\" != 200 ]"

# ---- traffic ----
cli() { "$VODUP" "$@" --endpoint "http://$host" --access-key "$ak" --secret-key "$sk"; }
head -c 3000000 /dev/urandom >"$work/clip.mp4"
cli token clip.mp4 >/dev/null
cli upload "$work/clip.mp4" --json >"$work/upload.json" 2>/dev/null
check "the CLI uploaded a 3 MB file" grep -q '"size":3000000' "$work/upload.json"
play=$(sed -n 's/.*"playUrl":"\([^"]*\)".*/\1/p' "$work/upload.json")
curl -s -r 0-9999 -o /dev/null "$play"
curl -s -o /dev/null "http://$host/healthz"
curl -s -o /dev/null "http://$host/no/such/thing.mp4"

# ---- the scrape, parsed ----
curl -s -D "$work/headers" -o "$work/metrics.txt" "http://127.0.0.1:$mport/metrics"
check "/metrics answers text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$work/headers"
cat >"$work/check.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
version = sys.argv[2]
samples = {}
for family in text_string_to_metric_families(text):
    for s in family.samples:
        samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
def get(name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))
bad = []
def expect(what, ok):
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        bad.append(what)
expect("build_info names the version", get("vodup_build_info", version=version, commit=[
    l for (n, ls) in samples for (k, l) in ls if n == "vodup_build_info" and k == "commit"][0]) == 1)
expect("2 GET /healthz counted as 200", get("vodup_http_requests_total", route="/healthz", code="200") == 2)
expect("getUploadToken counted (the token call and the upload's)",
       get("vodup_http_requests_total", route="/vod/videoManage/getUploadToken", code="200") == 2)
expect("the upload's blocks or form counted",
       (get("vodup_http_requests_total", route="/mkblk", code="200") or 0) +
       (get("vodup_http_requests_total", route="/file/upload", code="200") or 0) >= 1)
expect("playback: the Range 206, and 404 for the missing file and GET /metrics on the public port",
       get("vodup_http_requests_total", route="playback", code="206") == 1 and
       get("vodup_http_requests_total", route="playback", code="404") == 2)
inb = sum(v for (n, ls), v in samples.items() if n == "vodup_http_received_bytes_total")
expect(f"bytes received >= the 3000000 uploaded ({inb:.0f})", inb >= 3000000)
expect("playback sent the 10000 bytes of the range",
       get("vodup_http_sent_bytes_total", route="playback") >= 10000)
count = get("vodup_http_request_duration_seconds_count", route="/healthz")
inf = get("vodup_http_request_duration_seconds_bucket", route="/healthz", le="+Inf")
buckets = sorted((float(dict(ls)["le"]), v) for (n, ls), v in samples.items()
                 if n == "vodup_http_request_duration_seconds_bucket" and dict(ls)["route"] == "/healthz")
expect("the /healthz histogram: count 2, cumulative buckets ending at +Inf = count",
       count == 2 and inf == 2 and all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])))
expect("the upload's task is queued (processing off): vodup_tasks{state=queued} 1, queue depth 1",
       get("vodup_tasks", state="queued") == 1 and get("vodup_task_queue_depth") == 1)
expect("nothing staged once the upload finished", get("vodup_upload_staged_bytes") == 0)
expect("no upload in flight", get("vodup_uploads_in_flight") == 0)
expect("the scrape's own request is not in the public counts; in flight 0", get("vodup_http_requests_in_flight") == 0)
expect("webhook deliveries pending is exported", get("vodup_webhook_deliveries_pending") is not None)
expect("ready 1, free bytes exported", get("vodup_ready") == 1 and get("vodup_blob_free_bytes") > 0
       and get("vodup_store_free_bytes") > 0)
expect("resident memory exported", get("vodup_process_resident_memory_bytes") > 1000000)
sys.exit(1 if bad else 0)
PY
"$PY" "$work/check.py" "$work/metrics.txt" "$number" >"$work/check.out" 2>&1
rc=$?
sed 's/^/  /' "$work/check.out"
check "the scrape parses with prometheus_client and every value is as the traffic made it" test "$rc" -eq 0 ||
  head -n 40 "$work/metrics.txt"

# ---- readiness: the database file removed under the server ----
rm -f "$work/main/vodup.db" "$work/main/vodup.db-wal" "$work/main/vodup.db-shm"
gone() {
  local body
  body=$(curl -s -w ' %{http_code}' "http://$host/readyz")
  echo "  readyz: $body"
  [[ $body == *'"reason":"store: the database does not answer"'*' 503' ]]
}
check "/readyz answers 503 naming the store once its database file is gone" gone
check "/healthz still answers 200 (the process lives)" curl -sf -o /dev/null "http://$host/healthz"
unready_metric() { curl -s "http://127.0.0.1:$mport/metrics" | grep -qx 'vodup_ready 0'; }
check "vodup_ready is 0 meanwhile" unready_metric
stop

# ---- readiness: the disk short of ready-min-free ----
check "vodup serve starts with ready-min-free above any disk" start full --ready-min-free 9000000000000000000 || finish
short() {
  local body
  body=$(curl -s -w ' %{http_code}' "http://$host/readyz")
  echo "  readyz: $body"
  [[ $body == *'"reason":"store: less than ready-min-free bytes free beside the database"'*' 503' ]]
}
check "/readyz answers 503 while the disk has less than ready-min-free free" short

# ---- logs: JSON lines only ----
stop
json_only() {
  "$PY" -c '
import json, sys
n = 0
for path in sys.argv[1:]:
    for line in open(path):
        json.loads(line)
        n += 1
print(f"  {n} stderr lines, all JSON")
' "$work/main.err" "$work/full.err"
}
check "stderr holds JSON lines only (log and access log)" json_only
start_logged() { grep -q "\"level\":\"info\",\"msg\":\"$version listening on" "$work/main.err"; }
check "the start is logged with the version" start_logged
client_logged() {
  grep '"path":"/healthz"' "$work/main.err" | grep -q '"client":"127.0.0.1","userAgent":"curl/' &&
    grep '"path":"/file/upload"' "$work/main.err" | grep -q "\"userAgent\":\"vodup/$number\""
}
check "access lines carry the client address and user agent (the CLI sends vodup/$number)" client_logged
finish
