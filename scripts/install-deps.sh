#!/usr/bin/env bash
# Installs the Debian packages vodup needs to build, test, fuzz and benchmark.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libssl-dev libsqlite3-dev
            libjansson-dev libcurl4-openssl-dev zlib1g-dev libcmocka-dev sqlite3 curl)
# What `vodup serve` runs: ffmpeg and ffprobe process uploads; burned
# subtitles need a font that fontconfig finds (libass draws with it).
run_pkgs=(ffmpeg fonts-dejavu-core fontconfig)
# chromium: the browser SDK test (tests/scripts/test_wcs_js_sdk.sh) drives it headless.
test_pkgs=(clang libclang-rt-14-dev chromium)
# Debian 12's nginx-light pulls in nginx, built --with-http_dav_module, which
# bench/upload.sh's WebDAV PUT needs; jq reads vodup's JSON answers there;
# time is GNU /usr/bin/time, whose %M gives bench/client.sh the client's peak RSS.
bench_pkgs=(wrk nginx-light jq time)

want=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}")
case "${1:-}" in
  --bench) want+=("${bench_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
