#!/usr/bin/env bash
# Installs the Debian 12 packages vodup needs, by purpose:
#
#   scripts/install-deps.sh --run     build and run (`make build`, `make run`, `make install`)
#   scripts/install-deps.sh --test    that, plus the test-only tools (`make test`, `make fuzz`)
#   scripts/install-deps.sh --bench   build and run, plus the benchmark tools (`make bench*`)
#
# Flags combine (`--test --bench`); no flag means --test.  Idempotent: does
# nothing (and needs no network) when everything asked for is present.
set -euo pipefail

usage() { echo "usage: scripts/install-deps.sh [--run] [--test] [--bench]" >&2; exit 2; }

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libssl-dev libsqlite3-dev
            libjansson-dev libcurl4-openssl-dev zlib1g-dev libcmocka-dev sqlite3 curl)
# What `vodup serve` runs: ffmpeg and ffprobe process uploads; burned
# subtitles need a font that fontconfig finds (libass draws with it).
# openssl: the signed curl example `make run` prints (and README.md shows) uses it.
run_pkgs=(ffmpeg fonts-dejavu-core fontconfig openssl)
# npm: the build bundles the upload page's scripts (tus-js-client, hls.js)
# with `npm ci` from web/package-lock.json (cmake/web_assets.cmake).  Any
# node with npm will do (nodesource's too), so Debian's are installed only
# when there is no npm at all.
command -v npm >/dev/null 2>&1 || build_pkgs+=(nodejs npm)
# clang, libclang-rt-14-dev: `make fuzz` (libFuzzer).
# chromium: the browser SDK test (tests/scripts/test_wcs_js_sdk.sh) drives it headless.
# nginx-light: tests that put nginx in front of vodup (deploy/nginx.conf).
# python3: test scripts read vodup's JSON; python3-prometheus-client parses
#   its metrics in the metrics tests.
# openssl (in run_pkgs) signs requests in the script tests too.
# systemd: systemd-analyze, which tests/scripts/test_install.sh runs on the unit.
# jq: docs/cli.md's examples use it, and tests/scripts/test_cli_docs.sh runs them.
test_pkgs=(clang libclang-rt-14-dev chromium nginx-light python3 python3-prometheus-client systemd jq)
# Debian 12's nginx-light pulls in nginx, built --with-http_dav_module, which
# bench/upload.sh's WebDAV PUT needs; jq reads vodup's JSON answers there;
# time is GNU /usr/bin/time, whose %M gives bench/client.sh the client's peak RSS;
# python3 serves and reads in several bench scripts.
bench_pkgs=(wrk nginx-light jq time python3)

want_test=false want_bench=false
[ $# -eq 0 ] && want_test=true
for arg in "$@"; do
  case "$arg" in
    --run) ;;
    --test) want_test=true ;;
    --bench) want_bench=true ;;
    *) usage ;;
  esac
done

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
$want_test && want+=("${test_pkgs[@]}")
$want_bench && want+=("${bench_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  case " ${missing[*]} " in *" $p "*) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
