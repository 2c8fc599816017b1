#!/usr/bin/env bash
# Blobs on S3 against local files, not part of the suite (docs/storage.md,
# "Blobs on S3"). One Ceph (deploy/ceph-up.sh: memstore OSD, radosgw on
# loopback) and two consort servers on the same machine, one with
# DATA/blobs, one with blob-store = s3:
#   - one 1 GiB HTTPS upload with curl (PUT .../content)
#   - one 1 GiB HTTPS download of it
#   - 1,000 uploads of 10 KiB files (one curl, keep-alive, 8 in parallel)
# Prints seconds, MB/s and consort's CPU seconds for each.
# Usage: tests/bench/s3.sh   (CONSORT_BIN=path to use another binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
consort=${CONSORT_BIN:-build/server/consort}
work=$(mktemp -d /var/tmp/consort-s3bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  deploy/ceph-up.sh --down "$work/ceph" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT
. tests/bench/ports.sh

t0=$(date +%s.%N)
eval "$(deploy/ceph-up.sh "$work/ceph" "$(free_port)" 2>/dev/null | grep -E '^(S3_ENDPOINT|AWS_|CEPH_START)')"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
echo "Ceph cold start: ${CEPH_START_SECONDS}s"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
head -c $((1024 * 1024 * 1024)) /dev/urandom > "$work/big.bin"
mkdir -p "$work/small"
for i in $(seq 1000); do head -c 10240 /dev/urandom > "$work/small/$i.bin"; done
C=(curl -s --http1.1 --cacert "$work/cert.pem")

start() { # name, extra serve args...
  local name=$1; shift
  local data="$work/$name" port
  port=$(free_port)
  $consort partner add --data "$data" --short BENCH --name Bench --country DE >/dev/null
  echo 'bench password long enough' | $consort user add --data "$data" --email b@bench.example \
    --name Bench --partner BENCH --password-stdin >/dev/null
  $consort wp add --data "$data" --code WP1 --title Bench >/dev/null
  $consort grant --data "$data" --wp WP1 --user b@bench.example --level write >/dev/null
  setsid $consort serve --data "$data" --listen 127.0.0.1:$port --cert "$work/cert.pem" \
    --key "$work/key.pem" --gc-interval 0 "$@" 2> "$work/$name.log" &
  pids+=($!)
  eval "${name}_pid=$!; ${name}_port=$port"
  for _ in $(seq 200); do grep -q listening "$work/$name.log" 2>/dev/null && break; sleep 0.1; done
  "${C[@]}" -c "$work/$name.jar" -H 'Content-Type: application/json' \
    -d '{"email":"b@bench.example","password":"bench password long enough"}' \
    -o "$work/$name.login" "https://localhost:$port/api/v1/session"
  local csrf; csrf=$(sed 's/.*"csrf":"\([^"]*\)".*/\1/' "$work/$name.login")
  eval "${name}_token=$("${C[@]}" -b "$work/$name.jar" -H "X-CSRF-Token: $csrf" \
    -H 'Content-Type: application/json' -d '{"name":"bench"}' \
    "https://localhost:$port/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')"
}
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

start local
start s3 --blob-store s3 --s3-endpoint "$S3_ENDPOINT" --s3-bucket consort-bench

for name in local s3; do
  eval "pid=\$${name}_pid port=\$${name}_port token=\$${name}_token"
  base="https://localhost:$port/api/v1/wps/WP1/content"
  c0=$(cpu "$pid")
  t=$("${C[@]}" -H "Authorization: Bearer $token" -T "$work/big.bin" -o /dev/null \
    -w '%{http_code} %{time_total}' "$base/big.bin")
  c1=$(cpu "$pid")
  echo "$name 1 GiB upload: HTTP ${t% *} ${t#* }s $(awk -v s="${t#* }" 'BEGIN{printf "%.0f", 1024/s}') MiB/s, consort CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}')s"
  c0=$(cpu "$pid")
  t=$("${C[@]}" -H "Authorization: Bearer $token" -o /dev/null -w '%{http_code} %{time_total}' "$base/big.bin")
  c1=$(cpu "$pid")
  echo "$name 1 GiB download: HTTP ${t% *} ${t#* }s $(awk -v s="${t#* }" 'BEGIN{printf "%.0f", 1024/s}') MiB/s, consort CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}')s"
  : > "$work/$name.cfg"
  for i in $(seq 1000); do
    printf 'upload-file = "%s"\nurl = "%s/small/s%s.bin"\noutput = "/dev/null"\n' \
      "$work/small/$i.bin" "$base" "$i" >> "$work/$name.cfg"
  done
  c0=$(cpu "$pid")
  s=$(date +%s.%N)
  "${C[@]}" -H "Authorization: Bearer $token" --parallel --parallel-max 8 -K "$work/$name.cfg" \
    -w '%{http_code}\n' > "$work/$name.codes" 2>/dev/null
  e=$(date +%s.%N)
  c1=$(cpu "$pid")
  ok=$(grep -c '^201$' "$work/$name.codes" || true)
  echo "$name 1,000 x 10 KiB uploads (8 parallel): $(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", b-a}')s, $ok answered 201, consort CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}')s"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
