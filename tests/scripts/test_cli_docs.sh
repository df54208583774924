#!/usr/bin/env bash
# docs/cli.md's examples run as written.  Every ```sh block that follows a
# `<!-- runnable -->` line is run, in the page's order, by one bash with
# `set -euo pipefail` (so a variable a block sets, such as WF or ID, is there
# for the next), against a real `vodup serve` started here with processing
# on, on small real videos made with ffmpeg now.  As the page says: in a
# directory beside the server's ./data, `vodup` on the PATH, AK and SK the
# server's first key pair, nothing else configured (an empty HOME, no
# VODUP_* variables).  The one substitution: the page's endpoint
# http://127.0.0.1:8080 becomes this server's ephemeral one.
#
#   test_cli_docs.sh path/to/vodup
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_cli_docs.sh path/to/vodup}
[[ $VODUP == /* ]] || VODUP="$PWD/$VODUP"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOC="$ROOT/docs/cli.md"
for tool in ffmpeg jq; do
  command -v "$tool" >/dev/null || { echo "$tool is required (scripts/install-deps.sh)"; exit 1; }
done
work=$(mktemp -d /tmp/vodup-cli-docs.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# ---- the runnable blocks ----
# Writes block N to $work/blocks/N.sh; prints the count.
extract_blocks() {
  mkdir -p "$work/blocks"
  awk -v dir="$work/blocks" '
    /^<!-- runnable -->[[:space:]]*$/ { armed = 1; next }
    armed && /^```sh[[:space:]]*$/ { n++; inside = 1; armed = 0; next }
    { armed = 0 }
    inside && /^```[[:space:]]*$/ { inside = 0; next }
    inside { print > (dir "/" n ".sh") }
    END { print n + 0 }' "$DOC"
}
nblocks=$(extract_blocks)
# configure, upload, --wait, token, info, list, admin: a page that lost its
# markers would otherwise pass by running nothing.
check "docs/cli.md marks at least 7 runnable blocks (found $nblocks)" test "$nblocks" -ge 7 || finish

# ---- small real videos ----
make_video() { # name, ffmpeg arguments between the inputs and the output
  local name=$1; shift
  ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=160x120:rate=10:duration=2 \
    -f lavfi -i sine=frequency=440:duration=2 "$@" -shortest -y "$work/$name"
}
videos_made() {
  local v
  for v in clip.mp4 match.mp4 highlights.mp4; do make_video "$v" -c:v libx264 -pix_fmt yuv420p -c:a aac || return 1; done
  for v in trailer.mov raw.mov; do make_video "$v" -c:v libx264 -pix_fmt yuv420p -c:a aac || return 1; done
  # Over 16 MiB, so that --block-size 16 cuts it into two blocks: noise
  # that no encoder can shrink, at the highest quality.
  ffmpeg -nostdin -loglevel error -f lavfi -i "nullsrc=s=640x480:r=25:d=3,geq=random(1)*255:128:128" \
    -c:v mpeg4 -q:v 1 -y "$work/big.mkv" || return 1
  [ "$(stat -c %s "$work/big.mkv")" -gt $((16 * 1024 * 1024)) ]
}
check "ffmpeg made the videos the examples upload (big.mkv over 16 MiB)" videos_made || finish

# ---- the server, in the directory the examples run in ----
cd "$work" || exit 1
"$VODUP" serve --listen 127.0.0.1:0 --data ./data >"$work/server.out" 2>"$work/server.err" &
pid=$!
vodup_wait_started "$work/server.out" "$pid"
endpoint=${hostport:+http://$hostport}
started() { [ -n "$endpoint" ] && [ -n "$ak" ] && [ -n "$sk" ]; }
if ! check "vodup serve started and printed its key" started; then
  cat "$work/server.out"; tail -n 20 "$work/server.err"
  finish
fi

# ---- run them ----
mkdir -p "$work/bin" "$work/home"
ln -s "$VODUP" "$work/bin/vodup"
{
  echo 'set -euo pipefail'
  echo 'trap '"'"'echo "@@failed block $block, line $LINENO: $BASH_COMMAND" >&2'"'"' ERR'
  for n in $(seq 1 "$nblocks"); do
    echo "block=$n"
    sed "s|http://127.0.0.1:8080|$endpoint|g" "$work/blocks/$n.sh"
    echo "echo @@done $n"
  done
} >"$work/all.sh"
env -i PATH="$work/bin:/usr/local/bin:/usr/bin:/bin" HOME="$work/home" LANG=C.UTF-8 AK="$ak" SK="$sk" \
  bash "$work/all.sh" >"$work/run.out" 2>"$work/run.err" </dev/null
rc=$?
for n in $(seq 1 "$nblocks"); do
  first=$(grep -v '^[[:space:]]*\(#\|$\)' "$work/blocks/$n.sh" | head -n 1 | cut -c 1-70)
  if ! check "block $n runs as written: $first" grep -qx "@@done $n" "$work/run.out"; then
    echo "--- block $n"; cat "$work/blocks/$n.sh"
    echo "--- stderr (last 15 lines)"; tail -n 15 "$work/run.err"
    break
  fi
done
check "the blocks ran to the end (bash exit $rc)" test "$rc" -eq 0

# ---- what they printed is what the page says ----
out=$(cat "$work/run.out")
check "configure wrote the config file, mode 0600" test "$(stat -c %a "$work/home/.config/vodup/config" 2>/dev/null)" = 600
check "upload --wait | awk printed a cover URL" grep -q "^$endpoint/video/.*/cover.jpg$" <<<"$out"
check "upload --json | jq printed a videoId" grep -Eq '^[0-9a-f]{32}$' <<<"$out"
check "info --json | jq printed a status" grep -Eqx 'uploaded|processing|ready|created|uploading' <<<"$out"
check "list printed its table" grep -Eq '^VIDEOID +STATUS +SIZE +DURATION +WxH +CREATED \(UTC\) +NAME$' <<<"$out"
registered_workflow() {
  local wf
  wf=$(VODUP_ENDPOINT="$endpoint" VODUP_ACCESS_KEY="$ak" VODUP_SECRET_KEY="$sk" HOME="$work/home" \
    "$VODUP" list --name final-cut --json | jq -r '.data.list[0].workflowId')
  [[ $wf =~ ^wf[0-9a-f]{30}$ ]]
}
check "upload --workflow \"\$WF\" registered the video with that workflow" registered_workflow
[ "$failed" -eq 0 ] || { echo "--- stdout of the blocks"; cat "$work/run.out"; echo "--- server stderr (last 10 lines)"; tail -n 10 "$work/server.err"; }
finish
