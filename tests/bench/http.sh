#!/usr/bin/env bash
# HTTP benchmark, not part of the suite: consort beside nginx in one run,
# same machine, same certificate, same TLS settings, both logging each
# request to a file.
#   - requests/s with wrk, 64 keep-alive connections, on /healthz (consort)
#     and on a small static file (nginx)       goal: consort >= 0.8x nginx
#   - one 1 GiB HTTPS download with curl      goal: consort >= 0.9x nginx
#     (consort streams it from /_test/source, nginx from a file in the
#     page cache)
# Usage: tests/bench/http.sh [seconds]    (needs: nginx-light wrk curl)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
work=$(mktemp -d)
chmod 755 "$work"   # nginx workers run as www-data
trap 'kill $(jobs -p) 2>/dev/null; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

command -v nginx >/dev/null && command -v wrk >/dev/null || {
  echo "needs nginx and wrk: apt-get install nginx-light wrk" >&2; exit 1; }
[ -x build-release/server/consort ] || { meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null; }
ninja -C build-release >/dev/null

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
mkdir -p "$work/www"
chmod 755 "$work/www"
printf '{"status":"ok","database":"ok","blobs":"ok"}' > "$work/www/healthz"
head -c $((1024 * 1024 * 1024)) /dev/zero | tr '\0' 'x' > "$work/www/big"
cat "$work/www/big" > /dev/null   # into the page cache

. tests/bench/ports.sh
cport=$(free_port) nport=$(free_port)
cat > "$work/nginx.conf" <<NGINX
worker_processes $(nproc);
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $work/nginx-access.log;
  sendfile on;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    add_header Strict-Transport-Security "max-age=63072000" always;
    root $work/www;
    location = /healthz { default_type application/json; }
  }
}
NGINX
nginx -c "$work/nginx.conf"
# In a session of its own, as nginx (which daemonizes) and a systemd
# service are: with autogroup scheduling a session shares the CPU as one,
# and consort must not share its share with wrk and curl.
setsid build-release/server/consort serve --data "$work/data" --listen 127.0.0.1:$cport \
  --cert "$work/cert.pem" --key "$work/key.pem" --test-hooks 2> "$work/consort.log" &
for _ in $(seq 50); do grep -q listening "$work/consort.log" 2>/dev/null && break; sleep 0.1; done

rps() { wrk -t2 -c64 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
dl() { curl -sk --http1.1 -o /dev/null -w '%{speed_download}' "$1"; }

echo "== requests/s, wrk -t2 -c64 -d${secs}s"
n_rps=$(rps "https://127.0.0.1:$nport/healthz")
c_rps=$(rps "https://127.0.0.1:$cport/healthz")
printf '  nginx   %10.0f\n  consort %10.0f\n  ratio   %10.2f  (goal >= 0.8)\n' \
  "$n_rps" "$c_rps" "$(echo "$c_rps / $n_rps" | bc -l)"

echo "== 1 GiB HTTPS download, bytes/s (best of 3)"
best() { local b=0 v; for _ in 1 2 3; do v=$(dl "$1"); b=$(echo "if ($v > $b) $v else $b" | bc -l); done; echo "$b"; }
n_dl=$(best "https://127.0.0.1:$nport/big")
c_dl=$(best "https://127.0.0.1:$cport/_test/source?size=1073741824")
printf '  nginx   %10.0f MB/s\n  consort %10.0f MB/s\n  ratio   %10.2f  (goal >= 0.9)\n' \
  "$(echo "$n_dl / 1000000" | bc -l)" "$(echo "$c_dl / 1000000" | bc -l)" "$(echo "$c_dl / $n_dl" | bc -l)"
