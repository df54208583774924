#!/usr/bin/env bash
# The README's curl example and the one `vodup serve` prints on first start
# must be the same lines, and both must work when pasted into a shell.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_readme_example.sh path/to/vodup}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vodup-readme.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$VODUP" serve --listen 127.0.0.1:0 --data "$work/data" >"$work/stdout" 2>"$work/stderr" &
pid=$!
vodup_wait_started "$work/stdout" "$pid"
[ -n "$hostport" ] && [ -n "$ak" ] && [ -n "$sk" ] || { echo "server did not start"; cat "$work/stderr"; exit 1; }

# The printed example: from the AK= line to the blank line after it.
sed -n '/^AK=/,/^$/p' "$work/stdout" >"$work/printed.sh"
# The README's: the fenced block after the example marker.
awk '/<!-- example:getUploadToken -->/{m=1; next} m && /^```sh/{f=1; next} f && /^```/{exit} f' \
  "$ROOT/README.md" >"$work/readme.sh"

same_body() { diff <(tail -n +2 "$work/printed.sh" | sed '/^$/d') <(tail -n +2 "$work/readme.sh"); }
check "README example equals the printed one" same_body

run_ok() { # file: run it, expect code 200 and a videoId
  local out
  out=$(bash "$1") || return 1
  echo "$out" | grep -q '"code":200' && echo "$out" | grep -q '"videoId":"[0-9a-f]\{32\}"'
}
check "printed example works when pasted" run_ok "$work/printed.sh"
sed -e "s/YOUR_ACCESS_KEY/$ak/" -e "s/YOUR_SECRET_KEY/$sk/" -e "s/127.0.0.1:8080/$hostport/" \
  "$work/readme.sh" >"$work/readme-filled.sh"
check "README example works when pasted" run_ok "$work/readme-filled.sh"

bad_secret() { sed -e "s/SK='[^']*'/SK='wrong'/" "$work/readme-filled.sh" >"$work/bad.sh"; bash "$work/bad.sh" | grep -q '"code":401'; }
check "the same example with a wrong secret gets 401" bad_secret

# docs/api.md's Node snippet ("In code"), run as written: it must sign
# SignedHeaders in any case and order the way the server checks them
# (lower-cased, order kept).
node_snippet() {
  awk '/^### In code/{m=1; next} m && /^```js/{f=1; next} f && /^```/{exit} f' \
    "$ROOT/docs/api.md" >"$work/snippet.mjs"
  cat >>"$work/snippet.mjs" <<'EOF'
const [host, ak, sk] = process.argv.slice(2);
const path = "/vod/videoManage/getUploadToken", body = "originFileName=node-snippet.mp4";
const headers = { "content-type": "application/x-www-form-urlencoded", host };
let failed = 0;
for (const signedHeaders of ["content-type;host", "Content-Type;Host", "HOST;content-TYPE"]) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const sig = sign({ method: "POST", path, headers, signedHeaders, body, timestamp, secretKey: sk });
  const res = await fetch(`http://${host}${path}`, { method: "POST", body, headers: {
    "Content-Type": headers["content-type"], "X-WS-AccessKey": ak, "X-WS-Timestamp": timestamp,
    Authorization: `WS3-HMAC-SHA256 Credential=${ak}, SignedHeaders=${signedHeaders}, Signature=${sig}` } });
  const json = await res.json();
  console.log(`  SignedHeaders=${signedHeaders}: HTTP ${res.status} code ${json.code}`);
  if (json.code !== 200) failed++;
}
process.exit(failed ? 1 : 0);
EOF
  node "$work/snippet.mjs" "$hostport" "$ak" "$sk"
}
if command -v node >/dev/null; then
  check "docs/api.md Node snippet signs SignedHeaders in any case and order" node_snippet
else
  echo "skip - docs/api.md Node snippet (node not found)"
fi

kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "SIGTERM exits 0" test "$rc" -eq 0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
