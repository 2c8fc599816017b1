#!/usr/bin/env bash
# Malware scanning benchmark, not part of the suite: the same uploads
# with scanning off and on (a real clamd on a unix socket, an EICAR-only
# signature database made here, StreamMaxLength 4000M), one run each:
#   - one BIG upload (default 1 GiB of random bytes): PUT .../content
#   - SMALL_N uploads of 10 KiB (default 200, distinct contents, one
#     after the other: the per-upload cost of the extra round trips)
# Each content is new to the store (scanned, not served from the
# verdict cache). Prints seconds and the on/off ratio.
# Usage: tests/bench/scanning.sh   (needs: clamav-daemon curl)
#   BIG=256M SMALL_N=100 CONSORT_BIN=build/server/consort tests/bench/scanning.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
big=${BIG:-1G}
small_n=${SMALL_N:-200}
consort=${CONSORT_BIN:-build/server/consort}
command -v clamd >/dev/null || { echo "needs clamd: apt-get install clamav-daemon" >&2; exit 1; }
work=$(mktemp -d /var/tmp/consort-scanbench-XXXXXX)
cleanup() { kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT
. tests/bench/ports.sh

mkdir -p "$work/db" "$work/small"
printf 'Eicar-Test-Signature:0:*:%s\n' "$(printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' | od -An -tx1 | tr -d ' \n')" > "$work/db/eicar.ndb"
cat > "$work/clamd.conf" <<EOF
Foreground yes
LocalSocket $work/clamd.sock
DatabaseDirectory $work/db
LogFile $work/clamd.log
TemporaryDirectory $work
StreamMaxLength 4000M
MaxScanSize 4000M
MaxFileSize 4000M
EOF
clamd -c "$work/clamd.conf" & 
for _ in $(seq 300); do [ -S "$work/clamd.sock" ] && break; sleep 0.1; done

head -c "$big" /dev/urandom > "$work/big.bin"
for i in $(seq "$small_n"); do head -c 10240 /dev/urandom > "$work/small/$i.bin"; done

C=(curl -s --http1.1 -k)
run() { # run off|on: prints "BIG_SECONDS SMALL_SECONDS"
  local mode=$1 data="$work/data-$1" port; port=$(free_port)
  local args=()
  [ "$mode" = on ] && args=(--clamd-socket "$work/clamd.sock")
  $consort partner add --data "$data" --short BENCH --name Bench --country DE >/dev/null
  echo 'bench password long enough' | $consort user add --data "$data" --email b@bench.example \
    --name Bench --partner BENCH --password-stdin >/dev/null
  $consort wp add --data "$data" --code WP1 --title Bench >/dev/null
  $consort grant --data "$data" --wp WP1 --user b@bench.example --level write >/dev/null
  setsid $consort serve --data "$data" --listen 127.0.0.1:$port --access-log false "${args[@]}" \
    2> "$work/consort-$mode.log" &
  local pid=$!
  for _ in $(seq 100); do grep -q listening "$work/consort-$mode.log" 2>/dev/null && break; sleep 0.1; done
  "${C[@]}" -c "$work/jar" -H 'Content-Type: application/json' \
    -d '{"email":"b@bench.example","password":"bench password long enough"}' \
    -o "$work/login.json" "https://127.0.0.1:$port/api/v1/session"
  local csrf token
  csrf=$(sed 's/.*"csrf":"\([^"]*\)".*/\1/' "$work/login.json")
  token=$("${C[@]}" -b "$work/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"name":"bench"}' "https://127.0.0.1:$port/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
  local t0 t1 t2 code
  t0=$(date +%s.%N)
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' -T "$work/big.bin" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$port/api/v1/wps/WP1/content/big.bin")
  [ "$code" -lt 300 ] || { echo "big upload ($mode): HTTP $code" >&2; exit 1; }
  t1=$(date +%s.%N)
  for i in $(seq "$small_n"); do
    code=$("${C[@]}" -o /dev/null -w '%{http_code}' -T "$work/small/$i.bin" -H "Authorization: Bearer $token" \
      "https://127.0.0.1:$port/api/v1/wps/WP1/content/small/$i.bin")
    [ "$code" -lt 300 ] || { echo "small upload ($mode): HTTP $code" >&2; exit 1; }
  done
  t2=$(date +%s.%N)
  [ "$mode" = on ] && "${C[@]}" "https://127.0.0.1:$port/metrics" | grep -E '^consort_scan_(seconds_sum|seconds_count|verdicts_total)' >&2
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}
read -r off_big off_small < <(run off)
read -r on_big on_small < <(run on)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'big upload (%s):        off %.2f s   on %.2f s   on/off %.2fx\n' "$big" "$off_big" "$on_big" "$(echo "$on_big / $off_big" | bc -l)"
printf '%s x 10 KiB uploads:    off %.2f s   on %.2f s   on/off %.2fx  (per upload: off %.1f ms, on %.1f ms)\n' \
  "$small_n" "$off_small" "$on_small" "$(echo "$on_small / $off_small" | bc -l)" \
  "$(echo "$off_small * 1000 / $small_n" | bc -l)" "$(echo "$on_small * 1000 / $small_n" | bc -l)"
