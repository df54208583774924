#!/usr/bin/env bash
# tus-js-client 4.3.1 in Node against vodup's tus endpoint (<uploadUrl>/files/,
# docs/upload.md "tus 1.0 uploads"), with random bytes made here:
#   1. 1 GiB in 8 MiB PATCHes and 1 GiB in one PATCH: the video is `uploaded`
#      with the file's size and md5 (md5sum), and the etag of a block upload
#      (`vodup upload`) of the same file, which is the etag computed here;
#   2. a client killed with SIGKILL mid-upload: a new process finds the upload
#      in its FileUrlStorage and sends only the rest (HEAD, the client's
#      PATCHes and the server's access log agree);
#   3. the server killed with SIGKILL mid-upload and restarted on the same
#      port and data directory: the client retries, resumes no lower than
#      the last offset acknowledged before the kill, and finishes;
#   4. parallelUploads: 4 (concatenation);
#   5. Readable streams: a known size (uploadSize) and a deferred length
#      (uploadLengthDeferred);
#   6. auth: no Authorization (401), another account's key (401/403), an
#      expired owner-minted token (401), and a good owner-minted token.
# The node part is tests/js/tus/upload.mjs (one upload per run, JSON lines
# out); tus-js-client is installed with `npm ci` from
# tests/js/package-lock.json, as test_openapi.sh does.  Needs node, npm, jq,
# curl, openssl and about 2.5 GiB free on /tmp (each 1 GiB video is deleted
# once checked).  About 60-90 s on 2 cores, plain or ASan.
#
# Not covered: a deferred-length stream whose size is a multiple of
# chunkSize.  tus-js-client 4.3.1 never sends its last (empty) PATCH then:
# its StreamSource waits for a 'readable' event that never comes, the event
# loop drains and Node exits without onSuccess or onError (tus-js-client
# issue 779, open).  The server's side of it, a PATCH that only sets
# Upload-Length to the offset, is a case of tests/integration.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_tus_js.sh path/to/vodup}
[[ $VODUP == /* || $VODUP != */* ]] || VODUP="$PWD/$VODUP"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JS="$ROOT/tests/js"
CLIENT="$JS/tus/upload.mjs"
LIMIT=240 # seconds for the whole script (ctest allows 300)
START=$SECONDS
for tool in node npm jq curl openssl md5sum; do
  command -v "$tool" >/dev/null || { echo "$tool is required (scripts/install-deps.sh)"; exit 1; }
done
work=$(mktemp -d /tmp/vodup-tus-js.XXXXXX)
pid=""  # vodup serve
cpid="" # a node client running in the background
MiB=$((1024 * 1024))
GiB=$((1024 * MiB))
CHUNK=$((8 * MiB))

cleanup() {
  if [ -n "$cpid" ]; then kill -KILL "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null; fi
  stop_vodup
  rm -rf "$work"
}
trap cleanup EXIT
finish() {
  [ "$failed" -eq 0 ] || { echo "--- server stderr (last 30 lines)"; tail -n 30 "$work/stderr" 2>/dev/null | cut -c1-400; }
  echo "# $((SECONDS - START)) s"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
over_time() { [ $((SECONDS - START)) -gt "$LIMIT" ]; }

# ---- node packages (npm ci from the lockfile; once per checkout) ----
# The same rule and lock as test_openapi.sh, which installs the same lockfile.
install_deps() {
  if [ -f "$JS/node_modules/.package-lock.json" ] && [ ! "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ] &&
    [ -f "$JS/node_modules/tus-js-client/package.json" ]; then
    return 0
  fi
  (
    flock 9
    if [ -f "$JS/node_modules/.package-lock.json" ] && [ ! "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ] &&
      [ -f "$JS/node_modules/tus-js-client/package.json" ]; then
      exit 0
    fi
    cd "$JS" && timeout 120 npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 || { cat "$work/npm.log" >&2; exit 1; }
  ) 9>"${TMPDIR:-/tmp}/vodup-npm-install-$(id -u).lock"
}
echo "# step: npm ci in tests/js"
check "npm ci installed tus-js-client" install_deps || finish
tus_version() { [ "$(jq -r .version "$JS/node_modules/tus-js-client/package.json")" = 4.3.1 ]; }
check "tus-js-client is 4.3.1" tus_version

# ---- vodup ----
# Random bytes are not media: without processing the videos stay `uploaded`.
serve_args=(--data "$work/data" --processing off)
start_vodup() { # LISTEN STDOUT-FILE
  "$VODUP" serve --listen "$1" "${serve_args[@]}" >"$2" 2>>"$work/stderr" &
  pid=$!
  vodup_wait_started "$2" "$pid"
}
echo "# step: start vodup serve on an ephemeral port"
start_vodup 127.0.0.1:0 "$work/stdout"
AK=$ak SK=$sk HOSTPORT=$hostport
started() { [ -n "$HOSTPORT" ] && [ -n "$AK" ] && [ -n "$SK" ]; }
if ! check "vodup serve started and printed its key" started; then
  echo "--- stdout"; cat "$work/stdout"; echo "--- stderr"; tail -n 30 "$work/stderr"
  finish
fi
URL="http://$HOSTPORT"
EP="$URL/files/"
# The vodup client commands (getUploadToken, getVideoInfo, block uploads),
# with nothing read from or written to $HOME.
mkdir -p "$work/config" "$work/cache"
export VODUP_ENDPOINT=$URL VODUP_ACCESS_KEY=$AK VODUP_SECRET_KEY=$SK
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
options_ok() { curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "$EP" | grep -qx 204; }
check "OPTIONS /files/ answers 204 (the tus endpoint is there)" options_ok || finish

# ---- the files ----
echo "# step: random files (1 GiB, 100 MiB + 12345 B, 1 MiB)"
make_file() { head -c "$2" /dev/urandom >"$work/$1" && [ "$(stat -c %s "$work/$1")" -eq "$2" ]; }
check "made the files" eval 'make_file a.mp4 $GiB && make_file b.mp4 $((100 * MiB + 12345)) && make_file s.mp4 $MiB' ||
  finish
declare -A MD5 SIZE ETAG
for f in a b s; do
  MD5[$f]=$(md5sum "$work/$f.mp4" | cut -d' ' -f1)
  SIZE[$f]=$(stat -c %s "$work/$f.mp4")
done

# ---- helpers ----
# token NAME [vodup token options]: getUploadToken; sets TOKEN, VID, KEY, BUCKET.
token() {
  local j
  j=$("$VODUP" token "$@") || { echo "# vodup token $*: failed"; return 1; }
  TOKEN=$(jq -r .data.uploadToken <<<"$j") VID=$(jq -r .data.videoId <<<"$j")
  KEY=$(jq -r .data.fileKey <<<"$j") BUCKET=$(jq -r .data.bucketName <<<"$j")
  [ -n "$TOKEN" ] && [ "$TOKEN" != null ]
}
# tus OUT ARGS...: one upload.mjs run in the foreground; sets rc.
tus() {
  local out=$1; shift
  timeout -k 5 90 node "$CLIENT" --endpoint "$EP" "$@" >"$out" 2>"$out.err"; rc=$?
  echo "$rc" >"$out.rc"
}
# show OUT: what went wrong in an upload.mjs run (but its answers).
show() {
  echo "# $(basename "$1"): exit status $(cat "$1.rc" 2>/dev/null)"
  grep -v '"ev":"res"' "$1" | tail -n 4 | cut -c1-500 | sed 's/^/#   /'
  sed 's/^/#   /' "$1.err" | tail -n 5
}
# Queries on an upload.mjs output (jq over its JSON lines).
q() { jq -r "$2" "$1" 2>/dev/null; }
succeeded() { { [ "$rc" -eq 0 ] && [ -n "$(q "$1" 'select(.ev=="success") | .url')" ]; } || { show "$1"; return 1; }; }
# failed_with OUT REGEX: the upload failed with an HTTP status matching REGEX.
failed_with() { [[ "$(q "$1" 'select(.ev=="error") | .status')" =~ ^($2)$ ]] || { show "$1"; return 1; }; }
patches() { q "$1" 'select(.ev=="res" and .method=="PATCH") | .status' | wc -l; }
# video_is VID FILE [MIMETYPE]: getVideoInfo says uploaded, with FILE's size
# and md5, and the etag of FILE's block upload.
video_is() {
  local j st size md5 etag mime want=$2
  j=$("$VODUP" info "$1" --json) || { echo "# vodup info $1 failed"; return 1; }
  st=$(jq -r .data.status <<<"$j") size=$(jq -r .data.size <<<"$j") md5=$(jq -r .data.md5 <<<"$j")
  etag=$(jq -r .data.etag <<<"$j") mime=$(jq -r .data.mimeType <<<"$j")
  if [ "$st" = uploaded ] && [ "$size" = "${SIZE[$want]}" ] && [ "$md5" = "${MD5[$want]}" ] &&
    [ "$etag" = "${ETAG[$want]}" ] && [ "$mime" = "${3:-$mime}" ]; then
    return 0
  fi
  echo "# getVideoInfo $1: status $st size $size md5 $md5 etag $etag mimeType $mime;" \
    "want uploaded ${SIZE[$want]} ${MD5[$want]} ${ETAG[$want]} ${3:-}"
  return 1
}
# forget VID: deleteVideo, so that the 1 GiB copies do not pile up in the
# data directory (about 2.5 GiB at most instead of 7.5).
forget() {
  local j
  j=$(eval "$("$VODUP" sign POST /vod/videoManage/deleteVideo --data "videoId=$1")") &&
    [ "$(jq -r .code <<<"$j" 2>/dev/null)" = 200 ] || echo "# deleteVideo $1: $j"
}
# wait_offset OUT MIN PID: until a PATCH of the client writing OUT was
# answered with an offset of at least MIN; false if PID ended first or 60 s passed.
wait_offset() {
  local o
  for _ in $(seq 1 1200); do
    o=$(q "$1" 'select(.ev=="res" and .method=="PATCH" and .status==204) | .offset' | tail -n 1)
    [ -n "$o" ] && [ "$o" -ge "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# head_offset URL TOKEN: the Upload-Offset of a HEAD.
head_offset() {
  curl -s -I -H 'Tus-Resumable: 1.0.0' -H "Authorization: UpToken $2" "$1" |
    tr -d '\r' | sed -n 's/^[Uu]pload-[Oo]ffset: //p'
}
# server_patch_bytes UPLOAD-URL: bytesIn of every PATCH on it in the access log.
server_patch_bytes() {
  jq -rR --arg p "/${1#http://*/}" 'fromjson? | select(.method=="PATCH" and .path==$p) | .bytesIn' "$work/stderr" |
    awk '{ s += $1 } END { print s + 0 }'
}
# mint AK SK SCOPE DEADLINE-MS: an owner-minted upload token (docs/upload.md).
mint() {
  local policy sign
  policy=$(printf '{"scope":"%s","deadline":%s}' "$3" "$4" | base64 -w0 | tr '+/' '-_')
  sign=$(printf '%s' "$policy" | openssl dgst -sha1 -hmac "$2" -r | cut -d' ' -f1 | tr -d '\n' | base64 -w0 | tr '+/' '-_')
  printf '%s:%s:%s' "$1" "$sign" "$policy"
}
now_ms() { echo $(($(date +%s%3N))); }
# wcs_etag FILE: the etag of docs/upload.md, computed here: 0x16 SHA-1(file)
# up to 4 MiB, else 0x96 SHA-1(SHA-1 of each 4 MiB piece ...), url-safe base64.
wcs_etag() {
  if [ "$(stat -c %s "$1")" -le $((4 * MiB)) ]; then
    { printf '\x16'; openssl dgst -sha1 -binary <"$1"; }
  else
    { printf '\x96'; split -b $((4 * MiB)) --filter='openssl dgst -sha1 -binary' "$1" | openssl dgst -sha1 -binary; }
  fi | base64 -w0 | tr '+/' '-_'
}

# ---- 1. the block protocol's answer for the same bytes ----
echo "# step: block uploads (vodup upload) of the three files: their etags"
for f in a b s; do
  out=$("$VODUP" upload "$work/$f.mp4" --name "block-$f.mp4" --json 2>"$work/block-$f.err")
  bvid=$(jq -r .videoId <<<"$out" 2>/dev/null) ETAG[$f]=$(jq -r .etag <<<"$out" 2>/dev/null)
  check "block upload of $f.mp4 (${SIZE[$f]} bytes): getVideoInfo has its md5 and etag" video_is "$bvid" "$f" ||
    cat "$work/block-$f.err"
  mine=$(wcs_etag "$work/$f.mp4")
  check "that etag is the one docs/upload.md defines, computed here ($mine)" test "$mine" = "${ETAG[$f]}"
  forget "$bvid"
done
[ -n "${ETAG[a]}" ] && [ "${ETAG[a]}" != null ] || finish

# ---- 1. tus: 1 GiB in 8 MiB chunks, then in one PATCH ----
echo "# step: tus-js-client, 1 GiB, chunkSize 8 MiB"
token tus-chunked.mp4 || finish
tus "$work/chunked.out" --token "$TOKEN" --file "$work/a.mp4" --chunk-size $CHUNK --filetype video/webm
check "chunkSize 8 MiB: onSuccess ($(q "$work/chunked.out" 'select(.ev=="success") | .ms') ms)" succeeded "$work/chunked.out"
check "chunkSize 8 MiB: 128 PATCHes (got $(patches "$work/chunked.out"))" test "$(patches "$work/chunked.out")" -eq 128
check "chunkSize 8 MiB: uploaded, size, md5 and etag as the block upload's; metadata filetype is the mimeType" \
  video_is "$VID" a video/webm
forget "$VID"

echo "# step: tus-js-client, 1 GiB, no chunkSize (one PATCH)"
token tus-single.mp4 || finish
tus "$work/single.out" --token "$TOKEN" --file "$work/a.mp4"
check "one PATCH: onSuccess ($(q "$work/single.out" 'select(.ev=="success") | .ms') ms)" succeeded "$work/single.out"
one_patch() {
  [ "$(patches "$work/single.out")" -eq 1 ] &&
    [ "$(q "$work/single.out" 'select(.ev=="res" and .method=="PATCH") | "\(.reqOffset) \(.offset)"')" = "0 $GiB" ]
}
check "one PATCH: exactly one, from 0 to 1 GiB" one_patch
check "one PATCH: uploaded, size, md5 and etag as the block upload's" video_is "$VID" a video/mp4
forget "$VID"

# ---- 4. parallelUploads: 4 ----
echo "# step: tus-js-client, 1 GiB, parallelUploads 4"
token tus-parallel.mp4 || finish
tus "$work/parallel.out" --token "$TOKEN" --file "$work/a.mp4" --parallel 4
check "parallelUploads 4: onSuccess ($(q "$work/parallel.out" 'select(.ev=="success") | .ms') ms)" succeeded "$work/parallel.out"
concat_shape() {
  [ "$(q "$work/parallel.out" 'select(.ev=="res" and .method=="POST" and .status==201 and .reqConcat=="partial") | .url' | wc -l)" -eq 4 ] &&
    [ "$(q "$work/parallel.out" 'select(.ev=="res" and .method=="POST" and .status==201 and (.reqConcat // "" | startswith("final;"))) | .url' | wc -l)" -eq 1 ]
}
check "parallelUploads 4: four partial uploads, then one final" concat_shape
check "parallelUploads 4: uploaded, size, md5 and etag as the block upload's" video_is "$VID" a
forget "$VID"

# ---- 2. the client killed with SIGKILL, a new process resumes ----
echo "# step: client SIGKILLed after 256 MiB; a new process resumes from its FileUrlStorage"
token tus-client-kill.mp4 || finish
store="$work/client-kill.urls.json"
node "$CLIENT" --endpoint "$EP" --token "$TOKEN" --file "$work/a.mp4" --chunk-size $CHUNK --store "$store" \
  >"$work/kill1.out" 2>"$work/kill1.err" &
cpid=$!
check "client 1 got past 256 MiB" wait_offset "$work/kill1.out" $((256 * MiB)) "$cpid"
kill -KILL "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null; krc=$?; cpid=""
check "client 1 died of SIGKILL before finishing (exit $krc)" \
  eval '[ "$krc" -eq 137 ] && [ -z "$(q "$work/kill1.out" "select(.ev==\"success\") | .url")" ]'
url=$(q "$work/kill1.out" 'select(.ev=="url") | .url' | head -n 1)
stored() { [ "$(jq -r '[to_entries[] | .value.uploadUrl] | .[0]' "$store" 2>/dev/null)" = "$url" ]; }
check "the FileUrlStorage file holds the upload URL ($url)" stored
off0=$(head_offset "$url" "$TOKEN")
check "HEAD after the kill: 0 < Upload-Offset ($off0) < 1 GiB" eval '[ -n "$off0" ] && [ "$off0" -gt 0 ] && [ "$off0" -lt $GiB ]'
# The PATCH cut by the kill is logged when the server has let it go (status
# 0); what it read is what it kept.
logged_cut() {
  for _ in $(seq 1 100); do
    srv=$(server_patch_bytes "$url")
    [ "$srv" = "$off0" ] && return 0
    sleep 0.05
  done
  return 1
}
check "the server let go of the cut PATCH: the bodies it logged for this upload sum to the offset" logged_cut ||
  { echo "# $srv bytes; its access log lines but the 204s:"; jq -cR --arg p "/${url#http://*/}" 'fromjson? | select(.path==$p and .status!=204)' "$work/stderr"; }
tus "$work/kill2.out" --token "$TOKEN" --file "$work/a.mp4" --chunk-size $CHUNK --store "$store" --require-previous
check "client 2: findPreviousUploads found that URL" \
  test "$(q "$work/kill2.out" 'select(.ev=="previous") | .url')" = "$url"
check "client 2: onSuccess" succeeded "$work/kill2.out"
first=$(q "$work/kill2.out" 'select(.ev=="res" and .method=="PATCH") | .reqOffset' | head -n 1)
sent=$(q "$work/kill2.out" 'select(.ev=="success") | .patchBytes')
check "client 2: its first PATCH starts at the HEAD's offset ($first)" test "$first" = "$off0"
check "client 2: sent the rest only: $sent bytes = 1 GiB - $off0" test "$sent" = $((GiB - off0))
srv=$(server_patch_bytes "$url")
check "the server read each byte once: its PATCH bodies for this upload sum to 1 GiB ($srv)" test "$srv" = $GiB ||
  { echo "# its access log lines but the 204s:"; jq -cR --arg p "/${url#http://*/}" 'fromjson? | select(.path==$p and .status!=204)' "$work/stderr"; }
check "resumed after a client kill: uploaded, size, md5 and etag as the block upload's" video_is "$VID" a
forget "$VID"

# ---- 3. the server killed with SIGKILL, restarted on the same port ----
echo "# step: server SIGKILLed after 256 MiB, restarted on $HOSTPORT; the client retries"
token tus-server-kill.mp4 || finish
node "$CLIENT" --endpoint "$EP" --token "$TOKEN" --file "$work/a.mp4" --chunk-size $CHUNK \
  --retry-delays 200,500,1000,1000,2000,2000,3000,5000,5000 >"$work/srvkill.out" 2>"$work/srvkill.err" &
cpid=$!
check "the client got past 256 MiB" wait_offset "$work/srvkill.out" $((256 * MiB)) "$cpid"
kill -KILL "$pid"; wait "$pid" 2>/dev/null; src=$?; pid=""
check "vodup died of SIGKILL (exit $src)" test "$src" -eq 137
sleep 0.5
start_vodup "$HOSTPORT" "$work/stdout2"
check "vodup restarted on the same port and data directory ($hostport)" test "$hostport" = "$HOSTPORT" || finish
for _ in $(seq 1 1200); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
kill -KILL "$cpid" 2>/dev/null; wait "$cpid"; rc=$?; cpid=""
check "the client finished after retrying ($(q "$work/srvkill.out" 'select(.ev=="neterr")' | wc -l) failed requests)" \
  eval 'succeeded "$work/srvkill.out" && [ -n "$(q "$work/srvkill.out" "select(.ev==\"neterr\")")" ]'
# The first HEAD after the failure tells where the client resumed.
resumed=$(q "$work/srvkill.out" 'select(.ev=="res" and .method=="HEAD" and .status==200) | .offset' | head -n 1)
# What the killed server had acknowledged (204) must have survived the kill.
acked=$(jq -rs '(map(.ev) | index("neterr")) as $i | .[:$i] | map(select(.ev=="res" and .method=="PATCH" and .status==204)
  | .offset | tonumber) | max' "$work/srvkill.out" 2>/dev/null)
check "after the restart the client resumed at $resumed, no less than the $acked bytes acknowledged before the kill" \
  eval '[ -n "$resumed" ] && [ "$resumed" -ge "$acked" ] && [ "$acked" -gt 0 ] && [ "$resumed" -lt $GiB ]'
check "resumed after a server kill: uploaded, size, md5 and etag as the block upload's" video_is "$VID" a
forget "$VID"

# ---- 5. Readable streams ----
echo "# step: Readable streams: uploadSize; uploadLengthDeferred"
token tus-stream.mp4 || finish
tus "$work/stream.out" --token "$TOKEN" --file "$work/b.mp4" --stream --chunk-size $CHUNK
check "stream with uploadSize: onSuccess" succeeded "$work/stream.out"
check "stream with uploadSize: uploaded, size, md5 and etag as the block upload's" video_is "$VID" b
token tus-deferred.mp4 || finish
tus "$work/deferred.out" --token "$TOKEN" --file "$work/b.mp4" --stream --deferred --chunk-size $CHUNK
check "deferred length: onSuccess" succeeded "$work/deferred.out"
deferred_shape() {
  [ "$(q "$work/deferred.out" 'select(.ev=="res" and .method=="POST") | "\(.reqDefer) \(.reqLength)"')" = "1 null" ] &&
    [ "$(q "$work/deferred.out" 'select(.ev=="res" and .method=="PATCH") | .reqLength' | grep -v null | sort -u)" = "${SIZE[b]}" ]
}
check "deferred length: POST with Upload-Defer-Length: 1, the length (${SIZE[b]}) sent by a PATCH" deferred_shape
check "deferred length: uploaded, size, md5 and etag as the block upload's" video_is "$VID" b

# ---- 6. auth ----
echo "# step: auth failures"
# status OUT: the HTTP status of the upload's error ("" when it succeeded).
err_status() { q "$1" 'select(.ev=="error") | .status'; }
token tus-auth.mp4 || finish
AUTH_VID=$VID AUTH_KEY=$KEY AUTH_TOKEN=$TOKEN BUCKET1=$BUCKET
tus "$work/noauth.out" --file "$work/s.mp4"
check "no Authorization header: the upload fails with 401 (got $(err_status "$work/noauth.out"))" \
  failed_with "$work/noauth.out" 401

keyjson=$("$VODUP" admin --data "$work/data" key create --name other --json 2>"$work/admin.err")
AK2=$(jq -r .accessKey <<<"$keyjson" 2>/dev/null) SK2=$(jq -r .secretKey <<<"$keyjson" 2>/dev/null)
check "vodup admin key create made a second account" eval '[ -n "$AK2" ] && [ "$AK2" != null ] && [ "$AK2" != "$AK" ]' ||
  { echo "$keyjson"; cat "$work/admin.err"; }
token other.mp4 --access-key "$AK2" --secret-key "$SK2" || finish
TOKEN2=$TOKEN BUCKET2=$BUCKET
future=$(($(now_ms) + 600000))
tus "$work/forged.out" --token "$(mint "$AK" "$SK2" "$BUCKET1:$AUTH_KEY" "$future")" --file "$work/s.mp4"
check "a token naming our AccessKey but signed with the other account's SecretKey: 401 (got $(err_status "$work/forged.out"))" \
  failed_with "$work/forged.out" 401
tus "$work/other.out" --token "$(mint "$AK2" "$SK2" "$BUCKET1:$AUTH_KEY" "$future")" --file "$work/s.mp4"
check "a token of the other account for our bucket and fileKey: 401 or 403 (got $(err_status "$work/other.out"))" \
  failed_with "$work/other.out" '401|403'
tus "$work/other2.out" --token "$(mint "$AK2" "$SK2" "$BUCKET2:$AUTH_KEY" "$future")" --file "$work/s.mp4"
check "a token of the other account for its bucket and our fileKey: 401 or 403 (got $(err_status "$work/other2.out"))" \
  failed_with "$work/other2.out" '401|403'
# The other account's own getUploadToken token on an upload of ours.
created=$(curl -s -i -X POST -H 'Tus-Resumable: 1.0.0' -H "Authorization: UpToken $AUTH_TOKEN" -H "Upload-Length: ${SIZE[s]}" "$EP" |
  tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
check "POST /files/ with our token created an upload ($created)" test -n "$created"
# Without an endpoint: tus-js-client would otherwise answer a 4xx on HEAD by
# creating a new upload there, for the other account's own fileKey.
tus "$work/steal.out" --token "$TOKEN2" --file "$work/s.mp4" --upload-url "$EP$created" --endpoint ''
check "the other account's token on our upload: 403 (got $(err_status "$work/steal.out"))" \
  failed_with "$work/steal.out" 403

tus "$work/expired.out" --token "$(mint "$AK" "$SK" "$BUCKET1:$AUTH_KEY" $(($(now_ms) - 60000)))" --file "$work/s.mp4"
check "an owner-minted token whose deadline passed a minute ago: 401 (got $(err_status "$work/expired.out"))" \
  failed_with "$work/expired.out" 401
tus "$work/minted.out" --token "$(mint "$AK" "$SK" "$BUCKET1:$AUTH_KEY" "$future")" --file "$work/s.mp4"
check "the same token with a deadline ahead: onSuccess" succeeded "$work/minted.out"
check "owner-minted token: uploaded, size, md5 and etag as the block upload's" video_is "$AUTH_VID" s

# ---- shutdown ----
echo "# step: stop vodup"
no_secret_logged() { ! grep -qF -e "$SK" -e "$SK2" "$work/stderr"; }
check "no SecretKey appears in the server's log" no_secret_logged
stop_vodup
check "SIGTERM: exit status 0 (got $stop_rc)" test "$stop_rc" -eq 0
check "within $LIMIT s ($((SECONDS - START)) s)" eval '! over_time'
finish
