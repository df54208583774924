# ws3.sh: WS3-HMAC-SHA256 request signing in bash + openssl, for benchmarks.
# Source it, then:  ws3_signature METHOD PATH QUERY HOST CONTENT_TYPE BODY TIMESTAMP SECRET
# prints the 64-hex signature of a request that signs "content-type;host"
# (or just "host" when CONTENT_TYPE is empty).  QUERY must already be in
# canonical form (sorted, RFC 3986-encoded) or empty.  Same computation as
# ../shared/spec/api.md section 1 and the curl example `vodup serve` prints.

ws3_sha256_hex() { openssl dgst -sha256 -r | cut -d' ' -f1; }

ws3_signed_headers() { # CONTENT_TYPE
  if [ -n "$1" ]; then printf 'content-type;host'; else printf 'host'; fi
}

ws3_signature() {
  local method=$1 path=$2 query=$3 host=$4 ctype=$5 body=$6 ts=$7 secret=$8
  local hash canon headers
  hash=$(printf '%s' "$body" | ws3_sha256_hex)
  if [ -n "$ctype" ]; then
    headers=$(printf 'content-type:%s\nhost:%s\n' "$ctype" "$host")
  else
    headers=$(printf 'host:%s\n' "$host")
  fi
  # $(...) strips the trailing newline of CanonicalHeaders; the format puts it back.
  canon=$(printf '%s\n%s\n%s\n%s\n\n%s\n%s' "$method" "$path" "$query" "$headers" \
    "$(ws3_signed_headers "$ctype")" "$hash")
  printf 'WS3-HMAC-SHA256\n%s\n%s' "$ts" "$(printf '%s' "$canon" | ws3_sha256_hex)" |
    openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1
}

# Self-check against test vectors 1 and 3 of the API contract; returns non-zero on mismatch.
ws3_selftest() {
  local sk=SKDEMO00000000000000000000000000 got
  got=$(ws3_signature POST /vod/videoManage/getUploadToken '' 127.0.0.1:8080 \
    'application/x-www-form-urlencoded; charset=utf-8' 'originFileName=uploadtest.mp4' 1700000000 "$sk")
  [ "$got" = 5cde05e4cdcadda72ada003ddb2b41fa0847e91fe854acbe0a9fed3d382db9a9 ] || return 1
  got=$(ws3_signature GET /vod/videoManage/getUploadToken \
    'originFileName=%E8%A7%86%E9%A2%91%20a.mp4&overwrite=1' 127.0.0.1:8080 '' '' 1700000000 "$sk")
  [ "$got" = db88a2e463623208cfb1de28638dc7e500f36e9902a5b1861db21352053163f4 ]
}

# Signs a GET of PATH?QUERY on HOST now with AK/SK (accepted for +-300 s):
# sets WS3_TS and WS3_AUTH, the X-WS-Timestamp and Authorization to send.
ws3_sign_get() { # PATH QUERY HOST AK SK
  WS3_TS=$(date +%s)
  WS3_AUTH="WS3-HMAC-SHA256 Credential=$4, SignedHeaders=host, Signature=$(ws3_signature GET "$1" "$2" "$3" '' '' "$WS3_TS" "$5")"
}

# Writes a wrk script (FILE) that sends the GET ws3_sign_get signed for AK.
ws3_wrk_get_script() { # FILE AK
  printf '%s\n' 'wrk.method = "GET"' "wrk.headers[\"X-WS-AccessKey\"] = \"$2\"" \
    "wrk.headers[\"X-WS-Timestamp\"] = \"$WS3_TS\"" "wrk.headers[\"Authorization\"] = \"$WS3_AUTH\"" >"$1"
}
