#!/usr/bin/env bash
# `make install` and what it installs (docs/deploy.md):
#
# 1. cmake --install of the build directory that holds $1, with --prefix /usr
#    into a DESTDIR, the way a package is staged: the binary runs, the unit
#    names it, the example config and docs/deploy.md are there.
# 2. systemd-analyze verify on the installed unit, with ExecStart pointed at
#    the DESTDIR binary (verify checks that the program exists): any line it
#    prints about the unit fails the test.  A copy with a misspelt directive
#    must draw a warning, which shows the check can fail on this systemd.
# 3. systemd-analyze security on the unit: the exposure score is printed and
#    must stay below 3.0 ("OK").
# 4. The installed binary started with the installed example config, edited
#    only to an ephemeral port and a temporary data directory: /healthz 200,
#    the first AccessKey on stdout (the journal, under systemd), SIGTERM exits 0.
set -uo pipefail
. "$(dirname "$0")/lib/tap.sh"
VODUP=${1:?usage: test_install.sh path/to/build/vodup}
BUILD_DIR=$(cd "$(dirname "$VODUP")" && pwd)
work=$(mktemp -d /tmp/vodup-install.XXXXXX)
root="$work/root"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
need() { # program: make test installs it (scripts/install-deps.sh --test), so missing is a failure
  command -v "$1" >/dev/null && return 0
  echo "$1 is required (scripts/install-deps.sh --test installs it)"; exit 1
}
need cmake
need systemd-analyze
need curl

# 1. The installed tree.
if ! DESTDIR="$root" cmake --install "$BUILD_DIR" --prefix /usr >"$work/install.log" 2>&1; then
  cat "$work/install.log"; echo "not ok - cmake --install"; exit 1
fi
bin="$root/usr/bin/vodup"
unit="$root/usr/lib/systemd/system/vodup.service"
conf="$root/usr/share/doc/vodup/vodup.conf"
check "the binary is installed in PREFIX/bin" test -x "$bin"
check "the installed binary runs --help" bash -c '"$1" --help >/dev/null' _ "$bin"
check "the unit is installed in PREFIX/lib/systemd/system" test -f "$unit"
check "the example config is installed in PREFIX/share/doc/vodup" test -f "$conf"
check "docs/deploy.md is installed beside it" cmp -s "$root/usr/share/doc/vodup/deploy.md" \
  "$(dirname "$0")/../../docs/deploy.md"
check "ExecStart names the binary under the install prefix" \
  grep -qx 'ExecStart=/usr/bin/vodup serve --config /etc/vodup/vodup.conf' "$unit"
check "Documentation= names the installed docs/deploy.md" \
  grep -qx 'Documentation=file:/usr/share/doc/vodup/deploy.md' "$unit"
check "install writes nothing under /etc (the config is the operator's)" test ! -e "$root/etc"

# Every option the example sets, or shows commented out, is one vodup knows.
"$bin" serve --help >"$work/help"
unknown=""
while read -r name; do
  grep -q -- "--$name " "$work/help" || unknown+=" $name"
done < <(sed -n 's/^#\{0,1\} *\([a-z][a-z0-9-]*\) *=.*/\1/p' "$conf")
check "every option in the example config exists${unknown:+ (unknown:$unknown)}" test -z "$unknown"

# 2. systemd-analyze verify, on a copy whose ExecStart is the DESTDIR binary.
mkdir -p "$work/verify" "$work/broken"
sed "s|^ExecStart=/usr/bin/vodup |ExecStart=$bin |" "$unit" >"$work/verify/vodup.service"
systemd-analyze verify "$work/verify/vodup.service" >"$work/verify.out" 2>&1
rc=$?
sed 's/^/  verify: /' "$work/verify.out"
check "systemd-analyze verify exits 0" test "$rc" -eq 0
check "systemd-analyze verify prints nothing about the unit" \
  test -z "$(grep -i 'vodup' "$work/verify.out")"
sed 's/^ProtectSystem=/ProtectSytem=/' "$work/verify/vodup.service" >"$work/broken/vodup.service"
systemd-analyze verify "$work/broken/vodup.service" >"$work/broken.out" 2>&1
check "and it does warn about a misspelt directive" grep -q "ProtectSytem" "$work/broken.out"

# 3. systemd-analyze security (offline: no running systemd needed).
systemd-analyze security --offline=yes "$work/verify/vodup.service" >"$work/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for vodup.service: \([0-9.]*\) .*/\1/p' "$work/security.out")
echo "  systemd-analyze security: exposure ${score:-unknown} (0 = fully sandboxed, 10 = none; below 3.0 is OK)"
# What it still counts against the unit ("✗", or "-" outside a UTF-8 locale).
grep -E '^(✗|- )' "$work/security.out" | sed 's/  */ /g; s/^/  security: /'
check "the unit's exposure score is below 3.0" \
  awk -v s="${score:-99}" 'BEGIN { exit !(s < 3.0) }'

# 4. The installed binary with the installed example config.
sed -e 's|^listen = .*|listen = 127.0.0.1:0|' -e "s|^data = .*|data = $work/data|" "$conf" >"$work/vodup.conf"
check "the example config sets listen and data" \
  test "$(grep -c -e '^listen = 127.0.0.1:0$' -e "^data = $work/data\$" "$work/vodup.conf")" -eq 2
"$bin" serve --config "$work/vodup.conf" >"$work/stdout" 2>"$work/stderr" &
pid=$!
if ! vodup_wait_started "$work/stdout" "$pid"; then
  echo "not ok - vodup serve --config (the example) starts"; sed 's/^/  stderr: /' "$work/stderr"; exit 1
fi
check "the example config starts the server" true
check "uploadUrl is the example's public-url" grep -q 'uploadUrl https://video.example.com)' "$work/stdout"
check "the first AccessKey is printed on stdout" grep -q '^  AccessKey: ' "$work/stdout"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$hostport/healthz")
check "/healthz answers 200" test "$code" = 200
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "SIGTERM exits 0" test "$rc" -eq 0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
