#!/usr/bin/env bash
# A real browser client against the upload endpoint: the public WCS browser
# SDK (npm wcs-js-sdk, its prebuilt dist/wcs.min.js) in headless Chromium
# (Debian's /usr/bin/chromium driven by npm playwright-core), on a page served
# from another origin than vodup's, so CORS applies.  It form-uploads 100 KiB
# and block-uploads 9.5 MiB (3 blocks), then checks getVideoInfo of both.
# The node part is tests/js/wcs-sdk/run.mjs; its packages are installed with
# `npm ci` from tests/js/wcs-sdk/package-lock.json into the build tree
# (next to the vodup binary), once.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_wcs_js_sdk.sh path/to/vodup}
[[ $VODUP == /* || $VODUP != */* ]] || VODUP="$PWD/$VODUP"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC="$ROOT/tests/js/wcs-sdk"
# npm installs beside the binary: the build tree, never the source tree.
DEPS=${VODUP_WCS_SDK_DEPS:-$(cd "$(dirname "$VODUP")" && pwd)/wcs-sdk-js}
LIMIT=115 # seconds for the whole script (ctest allows more); a hung server fails it, not ctest
START=$SECONDS
work=$(mktemp -d /tmp/vodup-wcs-js.XXXXXX)
pid=""
cleanup() {
  stop_vodup
  rm -rf "$work"
}
trap cleanup EXIT
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
left() { echo $((LIMIT - (SECONDS - START))); }

# ---- node packages (npm ci from the lockfile; once per build tree) ----
echo "# step: install playwright-core and wcs-js-sdk into $DEPS"
. "$ROOT/tests/scripts/lib/wcs_sdk_deps.sh"
check "npm ci installed playwright-core and wcs-js-sdk" wcs_sdk_install || finish
chromium=${CHROMIUM:-/usr/bin/chromium}
check "Chromium is installed at $chromium (Debian package chromium)" test -x "$chromium" || finish

# ---- vodup ----
echo "# step: start vodup serve on an ephemeral port"
# The SDK uploads random bytes, not media: without processing they stay `uploaded`.
"$VODUP" serve --listen 127.0.0.1:0 --data "$work/data" --processing off >"$work/stdout" 2>"$work/stderr" &
pid=$!
vodup_wait_started "$work/stdout" "$pid"
started() { [ -n "$hostport" ] && [ -n "$ak" ] && [ -n "$sk" ]; }
if ! check "vodup serve started and printed its key" started; then
  echo "--- stdout"; cat "$work/stdout"; echo "--- stderr"; tail -n 30 "$work/stderr"
  finish
fi

# ---- the browser part ----
echo "# step: node tests/js/wcs-sdk/run.mjs (server http://$hostport)"
# What is left, less 25 s for stopping vodup; two hung uploads cost about 65 s.
budget=$(($(left) - 25))
[ "$budget" -le 85 ] || budget=85
[ "$budget" -ge 20 ] || budget=20
out="$work/node.out"
VODUP_URL="http://$hostport" VODUP_AK="$ak" VODUP_SK="$sk" VODUP_LOG="$work/stderr" \
  WCS_SDK_NODE_MODULES="$DEPS/node_modules" CHROMIUM="$chromium" WCS_SDK_DEADLINE_S=$((budget - 3)) \
  timeout -k 5 "$budget" node "$SRC/run.mjs" 2>&1 | tee "$out" | grep -v '^wcs-sdk: '
rc=${PIPESTATUS[0]}
line=$(grep '^wcs-sdk: ' "$out" | tail -n 1)
node_failed=-1
if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); node_failed=${BASH_REMATCH[2]}; failed=$((failed + node_failed))
else
  failed=$((failed + 1)); echo "not ok - the node part printed no summary (exit $rc$([ "$rc" -eq 124 ] && echo ", killed after $budget s"))"
fi
if [ "$rc" -ne 0 ] && [ "$node_failed" -eq 0 ]; then
  failed=$((failed + 1)); echo "not ok - the node part exited $rc"
fi

# ---- shutdown ----
echo "# step: stop vodup"
no_secret_logged() { ! grep -qF -- "$sk" "$work/stderr"; }
check "the secret key never appears in the server's log" no_secret_logged
stop_vodup
check "SIGTERM: exit status 0 (got $stop_rc)" test "$stop_rc" -eq 0
[ "$failed" -eq 0 ] || { echo "--- server stderr (last 30 lines)"; tail -n 30 "$work/stderr"; }
finish
