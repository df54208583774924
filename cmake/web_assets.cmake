# web_assets.cmake: builds the upload page's asset table (src/web/web_assets.h)
# into a C file, run at build time as a script:
#
#   cmake -DWEB_DIR=<source>/web -DNPM_DIR=<build>/web-npm -DOUTPUT=<build>/web_assets_data.c
#         -P cmake/web_assets.cmake
#
# 1. The npm packages the page uses, exactly as web/package-lock.json pins
#    them: `npm ci` in NPM_DIR (a copy of web/package*.json, so the source
#    tree never gets a node_modules), skipped while NPM_DIR holds an install
#    of the same lockfile.  --prefer-offline uses npm's cache when it has
#    the tarballs (their integrity is checked either way), the registry when
#    not; --ignore-scripts because only the packages' prebuilt dist files
#    are used, never their code at build time.
# 2. The table: each asset's bytes as a C array, its content type, and its
#    ETag (the quoted hex SHA-256 of the bytes, so an ETag changes exactly
#    when the content does).
#
# CMakeLists.txt reruns this when any web/upload/ file, the package files or
# this script change.

foreach(var WEB_DIR NPM_DIR OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "web_assets.cmake: -D${var}=... is required")
  endif()
endforeach()

# What the page is made of: the name it is served under
# (/upload/assets/<name>) and the file it comes from.
set(WEB_ASSETS
  "index.html=${WEB_DIR}/upload/index.html"
  "app.js=${WEB_DIR}/upload/app.js"
  "app.css=${WEB_DIR}/upload/app.css"
  # tus-js-client's browser build (UMD: the global `tus`).
  "tus.min.js=${NPM_DIR}/node_modules/tus-js-client/dist/tus.min.js"
  # hls.js without subtitles, alternate audio, EME and CMCD: vodup's HLS
  # ladders mux their audio into the segments, and the page plays nothing
  # else (UMD: the global `Hls`).
  "hls.light.min.js=${NPM_DIR}/node_modules/hls.js/dist/hls.light.min.js")

# ---- 1. npm ci from the lockfile ----
file(MAKE_DIRECTORY "${NPM_DIR}")
set(installed FALSE)
if(EXISTS "${NPM_DIR}/node_modules/.package-lock.json" AND EXISTS "${NPM_DIR}/package-lock.json")
  file(SHA256 "${WEB_DIR}/package-lock.json" want)
  file(SHA256 "${NPM_DIR}/package-lock.json" have)
  file(SHA256 "${WEB_DIR}/package.json" want_pkg)
  file(SHA256 "${NPM_DIR}/package.json" have_pkg)
  if(want STREQUAL have AND want_pkg STREQUAL have_pkg)
    set(installed TRUE)
  endif()
endif()
if(NOT installed)
  find_program(NPM npm)
  if(NOT NPM)
    message(FATAL_ERROR "web_assets.cmake: npm is needed to bundle the upload page's scripts "
                        "(scripts/install-deps.sh --run installs Debian's nodejs and npm)")
  endif()
  file(COPY "${WEB_DIR}/package.json" "${WEB_DIR}/package-lock.json" DESTINATION "${NPM_DIR}")
  message(STATUS "web assets: npm ci in ${NPM_DIR}")
  execute_process(COMMAND "${NPM}" ci --prefix "${NPM_DIR}" --prefer-offline --ignore-scripts
                          --no-audit --no-fund --loglevel=error
                  WORKING_DIRECTORY "${NPM_DIR}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    # Leave no half-install that the check above would take for a good one.
    file(REMOVE "${NPM_DIR}/package-lock.json")
    message(FATAL_ERROR "web_assets.cmake: npm ci failed (${rc}) in ${NPM_DIR}")
  endif()
endif()

# ---- 2. the C table ----
function(web_content_type name out)
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.m?js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(name MATCHES "\\.svg$")
    set(type "image/svg+xml")
  elseif(name MATCHES "\\.png$")
    set(type "image/png")
  else()
    set(type "application/octet-stream")
  endif()
  set(${out} "${type}" PARENT_SCOPE)
endfunction()

# 16 bytes ("0xNN,") a line: CMake's regex has no repeat count and at most
# nine groups, so the line's pattern is spelled out in one group.
set(hex2 "[0-9a-f][0-9a-f]")
set(line_re "")
foreach(i RANGE 1 16)
  string(APPEND line_re "0x${hex2},")
endforeach()

set(arrays "")
set(table "")
set(index 0)
foreach(entry IN LISTS WEB_ASSETS)
  string(FIND "${entry}" "=" eq)
  string(SUBSTRING "${entry}" 0 ${eq} name)
  math(EXPR from "${eq} + 1")
  string(SUBSTRING "${entry}" ${from} -1 path)
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "web_assets.cmake: ${path} (asset ${name}) does not exist")
  endif()
  file(SIZE "${path}" size)
  file(SHA256 "${path}" sha)
  file(READ "${path}" hex HEX)
  string(REGEX REPLACE "(${hex2})" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(${line_re})" "\\1\n" hex "${hex}")
  if(NOT hex MATCHES "\n$")
    string(APPEND hex "\n")
  endif()
  web_content_type("${name}" type)
  # One trailing NUL beyond len: no array is empty, and text can be used as a C string.
  string(APPEND arrays "/* ${name}: ${size} bytes */\nstatic const unsigned char asset_${index}[] = {\n${hex}0x00};\n\n")
  string(APPEND table "    {\"${name}\", \"${type}\", asset_${index}, ${size}, \"\\\"${sha}\\\"\"},\n")
  math(EXPR index "${index} + 1")
endforeach()

set(text "/* Generated by cmake/web_assets.cmake from web/: do not edit. */
#include <string.h>

#include \"web/web_assets.h\"

${arrays}static const web_asset_t web_assets[] = {
${table}};

const web_asset_t *web_asset_find(const char *name)
{
    for (size_t i = 0; i < sizeof(web_assets) / sizeof(web_assets[0]); i++)
        if (strcmp(web_assets[i].name, name) == 0)
            return &web_assets[i];
    return NULL;
}
")

file(WRITE "${OUTPUT}" "${text}")
