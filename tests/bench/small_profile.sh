#!/usr/bin/env bash
# CPU profile of small uploads, not part of the suite: consort serves
# N (default 2000) PUTs of 10 KiB over PAR (default 16) keep-alive
# connections while `perf record` samples it; prints perf's top symbols
# (self time) and the uploads per second.
#   CONSORT_BIN=path N=2000 PAR=16 tests/bench/small_profile.sh
# Needs: perf (Debian: linux-perf), curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /var/tmp/consort-prof-XXXXXX)
cleanup() { kill "${consort_pid:-}" 2>/dev/null || true; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT
consort=${CONSORT_BIN:-build-release/server/consort}
n=${N:-2000}
par=${PAR:-16}
. tests/bench/ports.sh
port=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
data="$work/data"
$consort partner add --data "$data" --short BENCH --name Bench --country DE >/dev/null
echo 'bench password long enough' | $consort user add --data "$data" --email b@bench.example \
  --name Bench --partner BENCH --password-stdin >/dev/null
$consort wp add --data "$data" --code WP1 --title Bench >/dev/null
$consort grant --data "$data" --wp WP1 --user b@bench.example --level write >/dev/null
setsid $consort serve --data "$data" --listen 127.0.0.1:$port --cert "$work/cert.pem" \
  --key "$work/key.pem" 2> "$work/consort.log" &
consort_pid=$!
for _ in $(seq 100); do grep -q listening "$work/consort.log" 2>/dev/null && break; sleep 0.1; done
C=(curl -s --http1.1 --cacert "$work/cert.pem")
"${C[@]}" -c "$work/jar" -H 'Content-Type: application/json' \
  -d '{"email":"b@bench.example","password":"bench password long enough"}' \
  -o "$work/login.json" "https://localhost:$port/api/v1/session"
csrf=$(sed 's/.*"csrf":"\([^"]*\)".*/\1/' "$work/login.json")
token=$("${C[@]}" -b "$work/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"name":"bench"}' "https://localhost:$port/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
mkdir "$work/files"
: > "$work/c.cfg"
for i in $(seq "$n"); do
  head -c 10240 /dev/urandom > "$work/files/s$i.bin"
  printf 'upload-file = "%s"\nurl = "https://localhost:%s/api/v1/wps/WP1/content/p/s%s.bin"\noutput = "/dev/null"\n' \
    "$work/files/s$i.bin" "$port" "$i" >> "$work/c.cfg"
done
perf record -F 999 -g -o "$work/perf.data" -p "$consort_pid" 2> /dev/null &
perf_pid=$!
sleep 0.5
start=$(date +%s.%N)
"${C[@]}" --parallel --parallel-max "$par" -H "Authorization: Bearer $token" -K "$work/c.cfg" 2>/dev/null
end=$(date +%s.%N)
kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
awk -v a="$start" -v b="$end" -v n="$n" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
  'BEGIN {printf "%d uploads in %.2f s: %d/s (load %s)\n", n, b - a, n / (b - a), l}'
perf report -i "$work/perf.data" --no-children -g none --sort ${SORT:-dso,symbol} --stdio 2>/dev/null |
  grep -v '^#' | grep '%' | head -${TOP:-25}
