# servers.sh: what the benchmarks share to run nginx and vodup side by side
# on loopback.  Source it after defining die(); it uses $work (the run's
# temp dir) and sets nginx_pid / vodup_pid / peer_pid / AK / SK.

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # PORT PID: the port answers, or the process died / 10 s passed
  for _ in $(seq 1 200); do
    port_busy "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# AES-CTR of zeros: incompressible like /dev/urandom, several times faster.
bench_make_file() { # PATH BYTES
  head -c "$2" /dev/zero | openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f \
    -iv "$(openssl rand -hex 16)" -out "$1"
}

# Starts nginx in the foreground (its master is $nginx_pid) on PORT, with
# LOCATIONS (nginx config text) inside its server block; files under
# $work/nginx.  Runs as the current user, also as root.
bench_nginx_start() { # PORT LOCATIONS
  local port=$1 locations=$2 user_line=""
  mkdir -p "$work/nginx/tmp" "$work/nginx/logs" "$work/nginx/root"
  [ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
  cat >"$work/nginx/nginx.conf" <<CONF
$user_line
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
$locations
  }
}
CONF
  nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" -g 'daemon off;' \
    >"$work/nginx/logs/stdout" 2>&1 &
  nginx_pid=$!
  wait_port "$port" "$nginx_pid" || { cat "$work/nginx/logs/"* >&2; die "nginx did not start"; }
}

# The WebDAV PUT location the upload benchmarks compare against.
bench_nginx_webdav() {
  printf '    client_max_body_size 0;\n    location / {\n      root %s;\n      dav_methods PUT;\n' "$work/nginx/root"
  printf '      create_full_put_path on;\n      dav_access user:rw;\n    }\n'
}

# Starts `vodup serve` on PORT with data in DIR and extra ARGS; waits for
# its "listening" line (the socket is bound before the key block is
# printed) and reads the first-start key into AK and SK.
bench_vodup_start() { # PORT DIR ARGS...
  local port=$1 dir=$2
  shift 2
  "$VODUP_BIN" serve --listen "127.0.0.1:$port" --data "$dir" "$@" >"$work/vodup.out" 2>"$work/vodup.err" &
  vodup_pid=$!
  wait_port "$port" "$vodup_pid" || { cat "$work/vodup.err" >&2; die "vodup did not start"; }
  for _ in $(seq 100); do grep -q '^vodup: listening' "$work/vodup.out" && break; sleep 0.1; done
  AK=$(sed -n 's/^  AccessKey: //p' "$work/vodup.out" | head -n 1)
  SK=$(sed -n 's/^  SecretKey: //p' "$work/vodup.out" | head -n 1)
  [ -n "$AK" ] && [ -n "$SK" ] || die "vodup printed no AccessKey/SecretKey"
}

# bench_vodup_post PATH BODY: prints the answer of a POST signed with the
# first-start key (AK, SK) to the vodup on VODUP_PORT; fails (saying why on
# stderr) unless it is a 200 with code 200.  Needs bench/lib/ws3.sh, jq.
bench_vodup_post() {
  local ct='application/x-www-form-urlencoded' ts sig out
  ts=$(date +%s)
  sig=$(ws3_signature POST "$1" '' "127.0.0.1:$VODUP_PORT" "$ct" "$2" "$ts" "$SK")
  out=$(curl -sS -w '\n%{http_code}' "http://127.0.0.1:$VODUP_PORT$1" -H "Content-Type: $ct" \
    -H "X-WS-AccessKey: $AK" -H "X-WS-Timestamp: $ts" \
    -H "Authorization: WS3-HMAC-SHA256 Credential=$AK, SignedHeaders=content-type;host, Signature=$sig" \
    --data "$2") || return 1
  if [ "$(tail -n 1 <<<"$out")" != 200 ] || ! sed '$d' <<<"$out" | jq -e '.code == 200' >/dev/null; then
    echo "POST $1 $2 answered: $out" >&2
    return 1
  fi
  sed '$d' <<<"$out"
}

# Starts the self-hosted peer, @tus/server with its FileStore
# (bench/js/tus-peer.mjs), on PORT storing under DIR; sets peer_pid.  Its
# npm packages (and the benchmarks' tus-js-client) come from
# bench/js/package-lock.json, installed with `npm ci` into PEER_DEPS
# (default build/bench-js) when the lockfile there differs.
bench_peer_start() { # PORT DIR
  local deps=${PEER_DEPS:-$ROOT/build/bench-js}
  if ! cmp -s "$ROOT/bench/js/package-lock.json" "$deps/package-lock.json" 2>/dev/null; then
    mkdir -p "$deps" && cp "$ROOT/bench/js/package.json" "$ROOT/bench/js/package-lock.json" "$deps/"
    (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci of bench/js failed"
  fi
  mkdir -p "$2"
  NODE_PATH=$deps/node_modules node "$ROOT/bench/js/tus-peer.mjs" "$1" "$2" >"$work/peer.log" 2>&1 &
  peer_pid=$!
  wait_port "$1" "$peer_pid" || { cat "$work/peer.log" >&2; die "@tus/server did not start"; }
}

# For cleanup traps: vodup and the peer get SIGTERM (vodup drains), nginx SIGQUIT.
bench_stop_servers() {
  if [ -n "${peer_pid:-}" ]; then
    kill -TERM "$peer_pid" 2>/dev/null || true
    wait "$peer_pid" 2>/dev/null || true
  fi
  if [ -n "${vodup_pid:-}" ] && kill -0 "$vodup_pid" 2>/dev/null; then
    kill -TERM "$vodup_pid" 2>/dev/null || true
    wait "$vodup_pid" 2>/dev/null || true
  fi
  if [ -n "${nginx_pid:-}" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
}
