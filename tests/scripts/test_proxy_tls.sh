#!/usr/bin/env bash
# vodup behind nginx over HTTPS, as docs/deploy.md sets it up: the very file
# deploy/nginx.conf (names, ports and paths substituted) in front of
# `vodup serve --trusted-proxies 127.0.0.1`, with a CA and a certificate
# made here with openssl.  Through it: the API and uploads with the vodup
# CLI (--cacert, and its message without it), Range playback with curl,
# the browser WCS SDK test (tests/js/wcs-sdk/run.mjs), the client address
# and scheme vodup takes from X-Forwarded-*, and the 401 a Host-rewriting
# proxy causes, whose message shows the host vodup saw.  nginx and vodup
# bind 127.0.0.1 on free ports and are stopped by PID.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_proxy_tls.sh path/to/vodup}
[[ $VODUP == /* || $VODUP != */* ]] || VODUP="$PWD/$VODUP"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC="$ROOT/tests/js/wcs-sdk"
DEPS=${VODUP_WCS_SDK_DEPS:-$(cd "$(dirname "$VODUP")" && pwd)/wcs-sdk-js}
NGINX=${NGINX:-/usr/sbin/nginx}
work=$(mktemp -d /tmp/vodup-proxy.XXXXXX)
vpid="" npid=""
cleanup() {
  [ -n "$npid" ] && kill -QUIT "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
  [ -n "$vpid" ] && kill -TERM "$vpid" 2>/dev/null && wait "$vpid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
finish() {
  echo "$passed passed, $failed failed"
  if [ "$failed" -ne 0 ]; then
    echo "--- vodup stderr (last 20)"; tail -n 20 "$work/vodup.err" 2>/dev/null
    echo "--- nginx error.log (last 20)"; tail -n 20 "$work/nginx-error.log" 2>/dev/null
  fi
  [ "$failed" -eq 0 ]
  exit
}
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

check "nginx is installed (Debian package nginx-light)" test -x "$NGINX" || finish

# ---- a CA and a certificate for localhost, made now ----
echo "# step: make a CA and a server certificate with openssl"
make_certs() {
  cd "$work" &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=vodup test CA" \
      2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null &&
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
      -extfile san.ext 2>/dev/null
}
check "openssl made a CA and a certificate for localhost" make_certs || finish

# ---- vodup, trusting the proxy's address ----
"$VODUP" serve --listen 127.0.0.1:0 --data "$work/data" --processing off --trusted-proxies 127.0.0.1 \
  >"$work/vodup.out" 2>"$work/vodup.err" &
vpid=$!
vodup_wait_started "$work/vodup.out" "$vpid"
vport=${hostport##*:}
check "vodup started with a key" test -n "$vport" -a -n "$ak" -a -n "$sk" || finish

# ---- nginx: deploy/nginx.conf with this test's ports and paths ----
tls_port=$(free_port) plain_port=$(free_port) bad_port=$(free_port)
site() { # $1: the listen port for TLS; $2: the http port; $3: the Host line's replacement (optional)
  sed -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$vport;|" \
      -e "s|listen 80;|listen 127.0.0.1:$2;|" -e '/listen \[::\]:80;/d' \
      -e "s|listen 443 ssl http2;|listen 127.0.0.1:$1 ssl http2;|" -e '/listen \[::\]:443 ssl http2;/d' \
      -e "s|/etc/ssl/vodup/fullchain.pem|$work/server.pem|" -e "s|/etc/ssl/vodup/privkey.pem|$work/server.key|" \
      -e "s|server_name video.example.com;|server_name localhost;|" \
      ${3:+-e "s|proxy_set_header Host \$http_host;|$3|"} "$ROOT/deploy/nginx.conf"
}
site "$tls_port" "$plain_port" >"$work/site.conf"
# The same file with nginx's default Host, the classic mistake, in its own
# names (zones and upstream are http-wide).
site "$bad_port" "$(free_port)" 'proxy_set_header Host $proxy_host;' |
  sed -e 's/vodup_per_ip/bad_per_ip/g' -e 's/vodup_tls/bad_tls/' -e 's/upstream vodup/upstream vodup_bad/' \
      -e 's|proxy_pass http://vodup;|proxy_pass http://vodup_bad;|' >"$work/site-bad.conf"
substituted() { # every line this test rewrites exists in deploy/nginx.conf
  [ "$(grep -c "127.0.0.1:$vport\|127.0.0.1:$tls_port ssl\|127.0.0.1:$plain_port;\|$work/server" "$work/site.conf")" -eq 5 ] &&
    grep -q 'proxy_set_header Host \$proxy_host;' "$work/site-bad.conf"
}
check "deploy/nginx.conf has the lines this test substitutes" substituted || finish
mkdir -p "$work/nginx-tmp"
{
  [ "$(id -u)" -eq 0 ] && echo "user root;"
  cat <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 512; }
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  include $work/site.conf;
  include $work/site-bad.conf;
}
CONF
} >"$work/nginx.conf"
check "nginx -t accepts the configuration" "$NGINX" -t -q -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" ||
  finish
"$NGINX" -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
npid=$!
base="https://localhost:$tls_port"
up() { curl -sf --cacert "$work/ca.pem" -o /dev/null "$base/healthz"; }
for _ in $(seq 1 100); do up && break; sleep 0.05; done
check "GET /healthz over HTTPS through nginx answers 200" up || finish

redirects() {
  [ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$plain_port/x")" = \
    "301 https://127.0.0.1/x" ]
}
check "plain HTTP is redirected to https://" redirects

# ---- the browser SDK through the proxy (first: it reads the whole access log) ----
echo "# step: the WCS browser SDK (tests/js/wcs-sdk/run.mjs) through nginx"
. "$ROOT/tests/scripts/lib/wcs_sdk_deps.sh"
if check "npm ci installed playwright-core and wcs-js-sdk" wcs_sdk_install; then
  spki=$(openssl x509 -in "$work/server.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
  VODUP_URL="$base" VODUP_AK="$ak" VODUP_SK="$sk" VODUP_LOG="$work/vodup.err" \
    NODE_EXTRA_CA_CERTS="$work/ca.pem" WCS_SDK_CHROMIUM_ARGS="--ignore-certificate-errors-spki-list=$spki" \
    WCS_SDK_NODE_MODULES="$DEPS/node_modules" CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" WCS_SDK_DEADLINE_S=80 \
    timeout -k 5 85 node "$SRC/run.mjs" >"$work/node.out" 2>&1
  rc=$?
  grep -v '^wcs-sdk: ' "$work/node.out" | grep -E '^(not )?ok' | sed 's/^/  sdk: /'
  sdk_ok() { [ "$rc" -eq 0 ] && grep -q '^wcs-sdk: [0-9]* passed, 0 failed' "$work/node.out"; }
  check "the WCS browser SDK uploads through nginx over HTTPS (form and blocks)" sdk_ok || tail -n 30 "$work/node.out"
fi

# ---- the CLI through the proxy ----
cli() { "$VODUP" "$@" --endpoint "$base" --access-key "$ak" --secret-key "$sk"; }
token_over_tls() {
  cli token clip.mp4 --cacert "$work/ca.pem" >"$work/token.json" &&
    grep -q "\"uploadUrl\":\"https://localhost:$tls_port\"" "$work/token.json"
}
check "vodup token --cacert: uploadUrl is the proxy's https URL (X-Forwarded-Proto and Host)" token_over_tls
untrusted_ca() {
  ! cli token clip.mp4 2>"$work/nocacert.err" && grep -q -- "--cacert" "$work/nocacert.err"
}
check "without --cacert the CLI fails and says to pass --cacert" untrusted_ca
cat "$work/nocacert.err"
env_cacert() { VODUP_CACERT="$work/ca.pem" cli token clip.mp4 >/dev/null; }
check "VODUP_CACERT works like --cacert" env_cacert

head -c $((9 * 1024 * 1024 + 12345)) /dev/urandom >"$work/clip.mp4"
upload_over_tls() {
  cli upload "$work/clip.mp4" --cacert "$work/ca.pem" --block-size 4 --json >"$work/upload.json" 2>"$work/upload.err" &&
    grep -q "\"size\":$(stat -c %s "$work/clip.mp4")," "$work/upload.json"
}
check "vodup upload of 9 MiB in 4 MiB blocks through nginx (no 413, no buffering)" upload_over_tls ||
  cat "$work/upload.err"
play_url=$(sed -n 's/.*"playUrl":"\([^"]*\)".*/\1/p' "$work/upload.json")
play_range() {
  [[ $play_url == "$base/"* ]] || { echo "# playUrl $play_url"; return 1; }
  local code
  code=$(curl -s --cacert "$work/ca.pem" -r 4194000-4194999 -o "$work/range.bin" -w '%{http_code}' "$play_url")
  [ "$code" = 206 ] && cmp -s "$work/range.bin" <(tail -c +4194001 "$work/clip.mp4" | head -c 1000)
}
check "playback with Range through nginx: 206 and the same bytes" play_range
play_whole() { curl -s --cacert "$work/ca.pem" "$play_url" | cmp -s - "$work/clip.mp4"; }
check "playback of the whole file through nginx is byte-identical" play_whole

# ---- X-Forwarded-For: believed from the proxy only ----
client_logged() {
  curl -s --cacert "$work/ca.pem" --interface 127.0.0.2 -A "proxy-test/1.0" -H "X-Forwarded-For: 203.0.113.7" \
    -o /dev/null "$base/healthz?xff" || return 1
  sleep 0.2
  grep '"path":"/healthz"' "$work/vodup.err" | grep -q '"client":"127.0.0.2","userAgent":"proxy-test/1.0"'
}
check "the access log names the client nginx saw, not the X-Forwarded-For it was sent" client_logged
direct_spoof() {
  curl -s --interface 127.0.0.2 -A "spoofer/1.0" -H "X-Forwarded-For: 203.0.113.9" -H "X-Forwarded-Proto: https" \
    -o /dev/null "http://127.0.0.1:$vport/healthz" || return 1
  sleep 0.2
  grep '"userAgent":"spoofer/1.0"' "$work/vodup.err" | grep -q '"client":"127.0.0.2"'
}
check "X-Forwarded-For from a client that is not a trusted proxy is ignored" direct_spoof

# ---- a proxy that rewrites Host: the 401 says what vodup saw ----
mismatch_explained() {
  ! "$VODUP" list --endpoint "https://localhost:$bad_port" --access-key "$ak" --secret-key "$sk" \
    --cacert "$work/ca.pem" 2>"$work/bad.err" >/dev/null &&
    grep -q "signature mismatch" "$work/bad.err" && grep -q "saw host \"vodup_bad\"" "$work/bad.err"
}
check "behind a Host-rewriting proxy the 401 says vodup saw host "vodup_bad"" mismatch_explained
cat "$work/bad.err"

finish
