#!/usr/bin/env bash
# Benchmark of the authenticated path (not part of the test suite).
#
#   tests/bench/auth.sh [BUILD_DIR]      (default: build)
#
# Starts consort on a scratch data directory with a small consortium,
# then measures with wrk, 64 keep-alive connections each:
#   1. GET /healthz            no authentication (the reference)
#   2. GET /api/v1/wps         session cookie: session lookup, user, the
#                              WP list with levels (the goal: >= 0.7x of 1)
#   3. POST /api/v1/session    logins with the configured Argon2id
#                              parameters (m=19456 KiB, t=2, p=1 by
#                              default), rotating over 64 accounts
# and prints the figures. Access logging is off so the measurement is of
# the request path, not of stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
bin=$build/server/consort
duration=${BENCH_SECONDS:-5}
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
[ -x "$bin" ] || { echo "no $bin: build first (meson setup $build && ninja -C $build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

data=$(mktemp -d /tmp/consort-bench-XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

password='bench password 123'
"$bin" partner add --data "$data" --short UNIA --name "University A" --country DE >/dev/null
for i in $(seq 1 10); do
  "$bin" wp add --data "$data" --code "WP$i" --title "Work package $i" --lead UNIA >/dev/null
done
echo "$password" | "$bin" user add --data "$data" --email reader@a.example --name Reader \
  --partner UNIA --password-stdin >/dev/null
for i in 1 3 5 7 9; do
  "$bin" grant --data "$data" --wp "WP$i" --user reader@a.example --level write >/dev/null
done
"$bin" grant --data "$data" --wp WP2 --partner UNIA --level read >/dev/null
echo "creating 64 accounts for the login run..."
for i in $(seq 0 63); do
  echo "$password" | "$bin" user add --data "$data" --email "bench$i@a.example" --name "Bench $i" \
    --partner UNIA --password-stdin >/dev/null
done

. tests/bench/ports.sh
port=$(free_port)
"$bin" serve --data "$data" --listen "127.0.0.1:$port" --access-log false \
  --login-account-failures 1000 >"$data/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$data/server.log" && break
  sleep 0.1
done
url="https://127.0.0.1:$port"

cookie=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"email\":\"reader@a.example\",\"password\":\"$password\"}" "$url/api/v1/session" |
  sed -n 's/^Set-Cookie: \(__Host-consort=[^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "login failed" >&2; cat "$data/server.log" >&2; exit 1; }
curl -skf -H "Cookie: $cookie" "$url/api/v1/wps" >/dev/null

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
run() { # name, wrk args...
  local name=$1; shift
  echo "==> $name" >&2
  wrk "$@" | tee "$data/$name.txt" >&2
  rps <"$data/$name.txt"
}

# Warm up both paths (TLS session setup, statement caches).
wrk -t"$threads" -c"$conns" -d2s "$url/healthz" >/dev/null
wrk -t"$threads" -c"$conns" -d2s -H "Cookie: $cookie" "$url/api/v1/wps" >/dev/null
# The machine may be shared: rounds alternate the two paths, and the
# ratio reported is the median of the rounds' ratios.
rounds=${BENCH_ROUNDS:-3}
ratios=()
for r in $(seq 1 "$rounds"); do
  h=$(run "healthz-$r" -t"$threads" -c"$conns" -d"${duration}s" "$url/healthz")
  w=$(run "wps-$r" -t"$threads" -c"$conns" -d"${duration}s" -H "Cookie: $cookie" "$url/api/v1/wps")
  ratios+=("$(awk -v a="$w" -v b="$h" 'BEGIN { printf "%.3f", a / b }') $h $w")
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
read -r ratio health wps <<<"$median"

cat >"$data/login.lua" <<LUA
local n = math.random(0, 63)
request = function()
  n = (n + 1) % 64
  return wrk.format("POST", "/api/v1/session", {["Content-Type"] = "application/json"},
    string.format('{"email":"bench%d@a.example","password":"$password"}', n))
end
LUA
login=$(run login -t"$threads" -c16 -d"${duration}s" -s "$data/login.lua" "$url/api/v1/session")
if grep -q "Non-2xx" "$data/login.txt"; then
  echo "warning: some logins were refused:" >&2
  grep "Non-2xx" "$data/login.txt" >&2
fi

echo
echo "rounds (ratio, healthz req/s, wps req/s):"
printf '  %s\n' "${ratios[@]}"
echo "median round:"
echo "GET /healthz (no auth)       $health req/s"
echo "GET /api/v1/wps (session)    $wps req/s   ratio ${ratio}x (goal >= 0.7x)"
echo "POST /api/v1/session (login) $login req/s  (Argon2id m=19456 KiB, t=2, p=1; $(nproc) cores)"
