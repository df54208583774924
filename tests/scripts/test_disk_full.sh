#!/usr/bin/env bash
# A disk that fills up mid-upload: the client gets a clear 503 ("Storage is
# full."), nothing partial is published or left staged, the video is not
# marked uploaded, and what fits still works (mkfile needs no space: the
# blocks become the object).
#
# The server runs in its own mount namespace with its data directory on a
# 40 MiB tmpfs (unshare + mount: root or unprivileged user namespaces).  The
# test looks into that namespace through /proc/PID/root.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_disk_full.sh path/to/vodup}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../bench/lib/ws3.sh
. "$ROOT/bench/lib/ws3.sh"
work=$(mktemp -d /tmp/vodup-diskfull.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if ! unshare --mount --propagation private true 2>/dev/null &&
   ! unshare --user --map-root-user --mount true 2>/dev/null; then
  echo "SKIP: this machine allows no mount namespace (needs root or user namespaces)"
  exit 77
fi
mkdir -p "$work/fs"
ns=(unshare --mount --propagation private)
unshare --mount --propagation private true 2>/dev/null || ns=(unshare --user --map-root-user --mount)
# The uploads are random bytes, not media: without processing they stay `uploaded`.
"${ns[@]}" bash -c 'mount -t tmpfs -o size=40m,mode=0700 tmpfs "$1" && exec "$2" serve --listen 127.0.0.1:0 \
  --data "$1/data" --access-log off --processing off' _ "$work/fs" "$VODUP" >"$work/stdout" 2>"$work/stderr" &
pid=$!
vodup_wait_started "$work/stdout" "$pid"
[ -n "$hostport" ] && [ -n "$ak" ] && [ -n "$sk" ] || { echo "server did not start"; cat "$work/stderr"; exit 1; }
base="http://$hostport"
data="/proc/$pid/root$work/fs/data" # the server's view of its data directory

json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

api() { # METHOD PATH QUERY BODY -> response body
  local method=$1 path=$2 query=$3 body=$4 ct="" ts sig
  [ "$method" = POST ] && ct=application/json
  ts=$(date +%s)
  sig=$(ws3_signature "$method" "$path" "$query" "$hostport" "$ct" "$body" "$ts" "$sk")
  curl -s -X "$method" "$base$path${query:+?$query}" ${ct:+-H "Content-Type: $ct"} \
    -H "X-WS-AccessKey: $ak" -H "X-WS-Timestamp: $ts" \
    -H "Authorization: WS3-HMAC-SHA256 Credential=$ak, SignedHeaders=$(ws3_signed_headers "$ct"), Signature=$sig" \
    ${body:+--data "$body"}
}

grant() { # NAME -> sets token, video_id, file_key
  local r
  r=$(api POST /vod/videoManage/getUploadToken "" "{\"originFileName\":\"$1\"}")
  token=$(echo "$r" | json_field '["data"]["uploadToken"]')
  video_id=$(echo "$r" | json_field '["data"]["videoId"]')
  file_key=$(echo "$r" | json_field '["data"]["fileKey"]')
}

status_of() { api GET /vod/videoManage/getVideoInfo "videoId=$1" "" | json_field '["data"]["status"]'; }
entries() { find "$data/$1" -type f | wc -l; }
http_code() { sed -n 's/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$1" | tail -n 1; }

# 1. Three 8 MiB blocks fit (24 of 40 MiB).
head -c $((24 << 20)) /dev/urandom >"$work/big"
grant blocks.mp4
blocks_video=$video_id blocks_key=$file_key blocks_token=$token
ctxs=""
for i in 0 1 2; do
  dd if="$work/big" bs=1M skip=$((i * 8)) count=8 status=none >"$work/block$i"
  r=$(curl -s -H "Authorization: UpToken $token" --data-binary @"$work/block$i" "$base/mkblk/$((8 << 20))/$i")
  ctxs="$ctxs${ctxs:+,}$(echo "$r" | json_field '["ctx"]')"
done
check "three 8 MiB blocks stored" test "$(entries blocks)" -eq 3

# 2. A 20 MiB block does not fit in the 16 MiB left: its room is reserved
#    when it is created, so it is refused before its body is read.
head -c $((20 << 20)) /dev/urandom >"$work/chunk"
curl -s -D "$work/h0" -o "$work/b0" -H "Authorization: UpToken $token" --data-binary @"$work/chunk" \
  "$base/mkblk/$((20 << 20))/3"
check "mkblk on a full disk: 503" test "$(http_code "$work/h0")" = 503
check "mkblk on a full disk: says the storage is full" grep -q '"message":"Storage is full."' "$work/b0"
# The bytes are given back when the request ends, just after its answer.
blocks_back() {
  for _ in $(seq 40); do
    [ "$(du -sk "$data/blocks" | cut -f1)" -lt $(((24 << 10) + 1024)) ] && return 0
    sleep 0.05
  done
  return 1
}
check "mkblk on a full disk: the 20 MiB chunk left no bytes behind" blocks_back
check "mkblk on a full disk: and no empty block either" test "$(entries blocks)" -eq 3

# 3. mkfile needs no space (the blocks become the object): it works on the full disk.
code=$(curl -s -o "$work/b1" -w '%{http_code}' -H "Authorization: UpToken $blocks_token" \
  -H "Content-Type: text/plain" --data "$ctxs" "$base/mkfile/$((24 << 20))")
check "mkfile on a nearly full disk: 200" test "$code" = 200
check "mkfile on a nearly full disk: the object is served whole" cmp -s "$work/big" <(curl -s "$base/$blocks_key")
check "mkfile on a nearly full disk: the video is uploaded" test "$(status_of "$blocks_video")" = uploaded

# 4. A 20 MiB form upload does not fit in the 16 MiB left.
head -c $((20 << 20)) /dev/urandom >"$work/form"
grant form.mp4
# The token first: a file part before it is held to preauth-spool (8 MiB).
curl -s -D "$work/h2" -o "$work/b2" -F token="$token" -F file=@"$work/form" "$base/file/upload"
check "form upload on a full disk: 503" test "$(http_code "$work/h2")" = 503
check "form upload on a full disk: says the storage is full" grep -q '"message":"Storage is full."' "$work/b2"
check "form upload on a full disk: nothing left staged" test "$(entries staging)" -eq 0
check "form upload on a full disk: only the earlier object is published" \
  test "$(find "$data/objects" -mindepth 2 -maxdepth 2 | wc -l)" -eq 1
check "form upload on a full disk: the video is not uploaded" test "$(status_of "$video_id")" != uploaded
check "form upload on a full disk: playback 404" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$base/$file_key")" = 404

# 5. What fits still works: a 1 MiB form upload.
head -c $((1 << 20)) /dev/urandom >"$work/small"
grant small.mp4
code=$(curl -s -o /dev/null -w '%{http_code}' -F file=@"$work/small" -F token="$token" "$base/file/upload")
check "a form upload that fits works" test "$code" = 200
check "and its bytes are served back" cmp -s "$work/small" <(curl -s "$base/$file_key")

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "SIGTERM exits 0" test "$rc" -eq 0
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
