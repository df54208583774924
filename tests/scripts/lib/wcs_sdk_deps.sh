# Sourced by the scripts that run tests/js/wcs-sdk/run.mjs: installs its
# node packages (playwright-core, wcs-js-sdk) with `npm ci` from the
# lockfile into $DEPS, once per build tree; the plain and the ASan runs may
# start at once, so one installs under a lock while the other waits.
# Needs SRC (tests/js/wcs-sdk), DEPS and work (a scratch directory).
wcs_sdk_installed() {
  [ -f "$DEPS/node_modules/.package-lock.json" ] && [ -f "$DEPS/package-lock.json" ] &&
    cmp -s "$SRC/package-lock.json" "$DEPS/package-lock.json"
}
wcs_sdk_install() {
  command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are required" >&2; return 1; }
  wcs_sdk_installed && return 0
  mkdir -p "$DEPS" || return 1
  (
    flock 9
    wcs_sdk_installed && exit 0
    cp "$SRC/package.json" "$SRC/package-lock.json" "$SRC/.npmrc" "$DEPS/" &&
      cd "$DEPS" && timeout 60 npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 ||
      { cat "$work/npm.log" >&2; exit 1; }
  ) 9>"$DEPS.lock"
}
