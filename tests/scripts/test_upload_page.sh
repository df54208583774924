#!/usr/bin/env bash
# The upload page (web/upload/, docs/upload-links.md) in a real browser:
# headless Chromium (Debian's /usr/bin/chromium, driven by npm
# playwright-core) against vodup with processing on.  An upload link with an
# HLS template; a small video dropped on the page and a 30 MB one chosen with
# the file picker, its upload throttled, paused and resumed with the
# keyboard, the page reloaded mid-upload and the same file chosen again (it
# resumes: HEAD, then PATCH from the offset); then processing, and the HLS
# output playing in the page.  Also: the unknown (404) and expired (410)
# link pages.  Screenshots of each state go to a directory next to the
# vodup binary (printed), for a person to look at.
# The node part is tests/js/page/run.mjs; playwright-core is installed with
# `npm ci` from tests/js/page/package-lock.json into the build tree, once.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_upload_page.sh path/to/vodup}
[[ $VODUP == /* || $VODUP != */* ]] || VODUP="$PWD/$VODUP"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC="$ROOT/tests/js/page"
BUILD=$(cd "$(dirname "$VODUP")" && pwd)
# npm installs beside the binary: the build tree, never the source tree.
DEPS=${VODUP_PAGE_DEPS:-$BUILD/upload-page-js}
SHOTS=${VODUP_PAGE_SHOTS:-$BUILD/upload-page-shots}
LIMIT=280 # seconds for the whole script (ctest allows 300)
START=$SECONDS
work=$(mktemp -d /tmp/vodup-upload-page.XXXXXX)
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

# ---- what the test needs ----
for tool in node npm ffmpeg sqlite3; do
  command -v "$tool" >/dev/null || { echo "# skipped: $tool is not installed (scripts/install-deps.sh --test)"; exit 77; }
done
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "# skipped: no Chromium at $chromium (Debian package chromium)"; exit 77; }

# playwright-core, from the lockfile, once per build tree; the plain and the
# ASan runs may start at once, so one installs under a lock while the other waits.
page_deps_installed() {
  [ -f "$DEPS/node_modules/.package-lock.json" ] && cmp -s "$SRC/package-lock.json" "$DEPS/package-lock.json"
}
page_deps_install() {
  page_deps_installed && return 0
  mkdir -p "$DEPS" || return 1
  (
    flock 9
    page_deps_installed && exit 0
    cp "$SRC/package.json" "$SRC/package-lock.json" "$DEPS/" &&
      cd "$DEPS" && timeout 90 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >"$work/npm.log" 2>&1 ||
      { cat "$work/npm.log" >&2; exit 1; }
  ) 9>"$DEPS.lock"
}
echo "# step: install playwright-core into $DEPS"
check "npm ci installed playwright-core" page_deps_install || finish

# ---- two videos, made here ----
echo "# step: make the videos with ffmpeg"
big="$work/big-clip.mp4" small="$work/small-clip.mp4"
make_videos() {
  # 12 s of 720p at a constant 20 Mbit/s: 30 MB, ten seconds at the test's throttle.
  ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 -t 12 \
    -c:v libx264 -preset ultrafast -b:v 20M -maxrate 20M -bufsize 4M -x264-params nal-hrd=cbr \
    -pix_fmt yuv420p -c:a aac -movflags +faststart "$big" &&
    ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=660 -t 2 \
      -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$small"
}
check "ffmpeg made a 30 MB video and a small one" make_videos || finish

# ---- vodup, a template, two links ----
echo "# step: start vodup serve on an ephemeral port (processing on)"
data="$work/data"
"$VODUP" serve --listen 127.0.0.1:0 --data "$data" >"$work/stdout" 2>"$work/stderr" &
pid=$!
vodup_wait_started "$work/stdout" "$pid"
if ! check "vodup serve started" test -n "$hostport"; then
  echo "--- stdout"; cat "$work/stdout"; echo "--- stderr"; tail -n 30 "$work/stderr"
  finish
fi
admin() { "$VODUP" admin --data "$data" "$@"; }
check "an HLS template of two renditions" \
  admin template add web --container hls --rendition 854x480 --rendition 640x360 >/dev/null || finish
# The URL is the first thing the command prints.
link=$(admin upload-link create --template web --uses 5 --expires 1h 2>"$work/link.err" |
  grep -o 'http://[^ ]*/upload/ul_[0-9a-f]*' | head -n 1)
check "vodup admin upload-link create made a link ($link)" test -n "$link" || { cat "$work/link.err"; finish; }
gone=$(admin upload-link create --expires 90s 2>/dev/null | grep -o 'http://[^ ]*/upload/ul_[0-9a-f]*' | head -n 1)
# No link expires sooner than a minute: this one is made to have expired.
expire() { sqlite3 -cmd ".timeout 5000" "$data/vodup.db" "UPDATE upload_links SET expires_ms = 1 WHERE link_id = '${gone##*/}'"; }
check "a second link, expired in the database" expire || finish

# ---- the browser part ----
echo "# step: node tests/js/page/run.mjs (server http://$hostport)"
rm -rf "$SHOTS" && mkdir -p "$SHOTS"
budget=$(($(left) - 25))
out="$work/node.out"
VODUP_URL="http://$hostport" LINK_URL="$link" GONE_URL="$gone" BIG_VIDEO="$big" SMALL_VIDEO="$small" \
  VODUP_LOG="$work/stderr" PAGE_NODE_MODULES="$DEPS/node_modules" CHROMIUM="$chromium" SHOTS="$SHOTS" \
  PAGE_DEADLINE_S=$((budget - 5)) timeout -k 5 "$budget" node "$SRC/run.mjs" 2>&1 | tee "$out" | grep -v '^upload-page: '
rc=${PIPESTATUS[0]}
line=$(grep '^upload-page: ' "$out" | tail -n 1)
node_failed=-1
if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
  passed=$((passed + BASH_REMATCH[1])); node_failed=${BASH_REMATCH[2]}; failed=$((failed + node_failed))
else
  failed=$((failed + 1)); echo "not ok - the node part printed no summary (exit $rc$([ "$rc" -eq 124 ] && echo ", killed after $budget s"))"
fi
if [ "$rc" -ne 0 ] && [ "$node_failed" -eq 0 ]; then
  failed=$((failed + 1)); echo "not ok - the node part exited $rc"
fi
echo "# screenshots: $SHOTS"

# ---- shutdown ----
echo "# step: stop vodup"
stop_vodup
check "SIGTERM: exit status 0 (got $stop_rc)" test "$stop_rc" -eq 0
[ "$failed" -eq 0 ] || { echo "--- server stderr (last 30 lines)"; tail -n 30 "$work/stderr"; }
finish
