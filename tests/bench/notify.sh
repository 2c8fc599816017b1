#!/usr/bin/env bash
# Notifications benchmark, not part of the suite. One server, one run:
#   - 1,000 uploads of 10 KiB (one curl, keep-alive, 8 in parallel) with
#     notifications off (every person's mail off, auto-follow off, nobody
#     follows anything) against on (the uploader auto-follows each
#     document, 50 people follow the work package with immediate mail, and
#     the mail thread builds their digests every second while the uploads
#     run). ROUNDS alternates off and on and reports medians.
#     goal: on within 5% of off
#   - ("large") one upload of 1 GiB (REST PUT, one request) with
#     notifications off against on, ROUNDS of each alternating; a fresh
#     file each time (no deduplication), the previous one purged so the
#     disk holds one at a time. goal: on within 5% of off
#   - one digest round for 500 people and 10,000 events (events are audit
#     rows made with SQL: uploads by 500 people in 10 work packages, 50
#     folders; everyone reads all 10 and follows 3), timed through the
#     test hook POST /_test/notify?force=1; the digests are then filed in
#     DATA/outbox/ by the mail thread (no smtp-url).
# Usage: tests/bench/notify.sh   (needs curl, sqlite3)
#   ROUNDS=5 ONLY="small large digest" CONSORT_BIN=path tests/bench/notify.sh
# The machine may be shared: the load average and consort's CPU seconds
# are printed beside each figure.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /var/tmp/consort-bench-XXXXXX)
cleanup() { kill $(jobs -p) 2>/dev/null || true; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
rounds=${ROUNDS:-3}
only=${ONLY:-small large digest}
has() { case " $only " in *" $1 "*) return 0;; esac; return 1; }
consort=${CONSORT_BIN:-}
if [ -z "$consort" ]; then
  [ -x build-release/server/consort ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
  ninja -C build-release >/dev/null
  consort=build-release/server/consort
fi
. tests/bench/ports.sh
cport=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
data="$work/data"
db="$data/consort.db"
q() { sqlite3 -cmd '.timeout 10000' "$db" "$@"; }

$consort partner add --data "$data" --short BENCH --name Bench --country DE >/dev/null
echo 'bench password long enough' | $consort user add --data "$data" --email b@bench.example \
  --name Bench --partner BENCH --password-stdin >/dev/null
for w in $(seq 10); do $consort wp add --data "$data" --code "WP$w" --title "Bench $w" >/dev/null; done
$consort grant --data "$data" --wp WP1 --user b@bench.example --level manage >/dev/null
# 500 more people of the partner, without passwords (they never sign in)
for i in $(seq 500); do
  $consort user add --data "$data" --email "p$i@bench.example" --name "Person $i" --partner BENCH >/dev/null
done
for w in $(seq 10); do $consort grant --data "$data" --wp "WP$w" --partner BENCH --level read >/dev/null; done

setsid $consort serve --data "$data" --listen 127.0.0.1:$cport --cert "$work/cert.pem" \
  --key "$work/key.pem" --test-hooks --notify-interval 1s 2> "$work/consort.log" &
consort_pid=$!
for _ in $(seq 100); do grep -q listening "$work/consort.log" 2>/dev/null && break; sleep 0.1; done

C=(curl -s --http1.1 --cacert "$work/cert.pem")
"${C[@]}" -c "$work/jar" -H 'Content-Type: application/json' \
  -d '{"email":"b@bench.example","password":"bench password long enough"}' \
  -o "$work/login.json" "https://localhost:$cport/api/v1/session"
csrf=$(sed 's/.*"csrf":"\([^"]*\)".*/\1/' "$work/login.json")
token=$("${C[@]}" -b "$work/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d '{"name":"bench"}' "https://localhost:$cport/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
auth="Authorization: Bearer $token"
# preferences rows for everyone (made on first need)
"${C[@]}" -H "$auth" -o /dev/null "https://localhost:$cport/api/v1/me/notifications"

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
load() { cut -d' ' -f1 /proc/loadavg; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$consort_pid/stat"; }
cpu_since() { awk -v a="$1" -v b="$(cpu)" 'BEGIN {printf "%.2f", b - a}'; }
echo "machine: $(nproc) cores, load $(load) at start (shared machine: figures are indicative)"

notifications() { # on|off
  if [ "$1" = on ]; then
    q "UPDATE notify_prefs SET mode = 'immediate', auto_follow = 1;
       INSERT OR IGNORE INTO follows (user_id, wp_id, path, active, auto, created_at)
         SELECT u.id, w.id, '', 1, 0, strftime('%s','now') FROM users u, wps w
         WHERE w.code = 'WP1' AND u.email LIKE 'p%' AND CAST(substr(u.email, 2) AS INTEGER) <= 50;"
  else
    q "UPDATE notify_prefs SET mode = 'off', auto_follow = 0; DELETE FROM follows;"
  fi
}

if has small; then
  echo "== 1,000 uploads of 10 KiB (8 in parallel, keep-alive), notifications off / on"
  run_small() {
    local start end
    start=$(date +%s.%N)
    "${C[@]}" --parallel --parallel-max 8 -H "$auth" -K "$1" 2>/dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}'
  }
  all_off= all_on=
  for r in $(seq "$rounds"); do
    for mode in off on; do
      for i in $(seq 1000); do head -c 10240 /dev/urandom > "$work/s$i.bin"; done
      : > "$work/c.cfg"
      for i in $(seq 1000); do
        printf 'upload-file = "%s"\nurl = "https://localhost:%s/api/v1/wps/WP1/content/%s%s/s%s.bin"\noutput = "/dev/null"\n' \
          "$work/s$i.bin" "$cport" "$mode" "$r" "$i" >> "$work/c.cfg"
      done
      notifications "$mode"
      l=$(load); c0=$(cpu)
      t=$(run_small "$work/c.cfg")
      echo "  round $r: notifications $mode ${t}s (cpu $(cpu_since "$c0")s)  load $l"
      if [ "$mode" = on ]; then all_on="$all_on $t"; else all_off="$all_off $t"; fi
    done
  done
  mo=$(echo "$all_off" | median); mn=$(echo "$all_on" | median)
  echo "1,000 small uploads: notifications off ${mo}s  on ${mn}s  on/off $(awk -v a="$mo" -v b="$mn" 'BEGIN {printf "%.3f", b / a}')x (goal <= 1.05; medians of $rounds)"
  echo "  uploads answered 2xx: $(grep -c ' PUT /api/v1/wps/WP1/content/.* 20[01] ' "$consort.log" 2>/dev/null || grep -c ' PUT /api/v1/wps/WP1/content/.* 20[01] ' "$work/consort.log" || true)"
  echo "  automatic follows made: $(q "SELECT count(*) FROM follows WHERE auto = 1")"
  echo "  digests queued while uploading: $(q "SELECT count(*) FROM outbox WHERE kind = 'digest'")"
  notifications off
fi

if has large; then
  echo "== one upload of 1 GiB, notifications off / on ($rounds rounds each, alternating)"
  head -c $((1024 * 1024 * 1024)) /dev/urandom > "$work/big.bin"
  big_off= big_on=
  for r in $(seq "$rounds"); do
    for mode in off on; do
      # a fresh blob each time: the first bytes differ
      printf '%s-%s-%s' "$mode" "$r" "$RANDOM" | dd of="$work/big.bin" conv=notrunc status=none
      notifications "$mode"
      l=$(load); c0=$(cpu)
      start=$(date +%s.%N)
      code=$("${C[@]}" -H "$auth" -T "$work/big.bin" -o /dev/null -w '%{http_code}' \
        "https://localhost:$cport/api/v1/wps/WP1/content/big-$mode-$r.bin")
      end=$(date +%s.%N)
      t=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}')
      echo "  round $r: notifications $mode ${t}s HTTP $code (cpu $(cpu_since "$c0")s)  load $l"
      if [ "$mode" = on ]; then big_on="$big_on $t"; else big_off="$big_off $t"; fi
      # keep one on disk at a time: to the trash, then purged
      tid=$("${C[@]}" -H "$auth" -X DELETE "https://localhost:$cport/api/v1/wps/WP1/tree/big-$mode-$r.bin" |
        sed 's/.*"trash_id":\([0-9]*\).*/\1/')
      "${C[@]}" -H "$auth" -X DELETE -o /dev/null "https://localhost:$cport/api/v1/wps/WP1/trash/$tid"
    done
  done
  mo=$(echo "$big_off" | median); mn=$(echo "$big_on" | median)
  echo "1 GiB upload: notifications off ${mo}s  on ${mn}s  on/off $(awk -v a="$mo" -v b="$mn" 'BEGIN {printf "%.3f", b / a}')x (goal <= 1.05; medians of $rounds)"
  rm -f "$work/big.bin"
  notifications off
fi

if has digest; then
  echo "== one digest round: 500 people, 10,000 events"
  # everyone daily, following 3 of the 10 work packages; their cursors
  # at the current end, then 10,000 upload events after it
  q "UPDATE notify_prefs SET mode = 'daily', auto_follow = 1, cursor = (SELECT max(id) FROM audit);
     DELETE FROM follows;
     INSERT INTO follows (user_id, wp_id, path, active, auto, created_at)
       SELECT u.id, w.id, '', 1, 0, 0 FROM users u JOIN wps w
       ON (w.id + u.id) % 10 < 3 WHERE u.email LIKE 'p%';
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
     INSERT INTO audit (at, user_id, actor, peer, action, wp_id, object, detail)
       SELECT strftime('%s','now') - 10000 + i,
              (SELECT id FROM users WHERE email = 'p' || (1 + (i * 7919) % 500) || '@bench.example'),
              'p' || (1 + (i * 7919) % 500) || '@bench.example', '', 'upload',
              (SELECT id FROM wps WHERE code = 'WP' || (1 + i % 10)),
              'folder' || (i % 50) || '/doc' || i || '.pdf', 'version 1, 10240 bytes'
       FROM n;"
  l=$(load); c0=$(cpu)
  start=$(date +%s.%N)
  out=$("${C[@]}" -X POST "https://localhost:$cport/_test/notify?force=1")
  end=$(date +%s.%N)
  echo "  answer: $out"
  echo "digest round, 500 people x 10,000 events: $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')s (cpu $(cpu_since "$c0")s, load $l)"
  for _ in $(seq 600); do
    [ "$(q "SELECT count(*) FROM outbox WHERE state = 'queued'")" = 0 ] && break; sleep 0.2
  done
  echo "  filed in DATA/outbox/: $(ls "$data/outbox" | grep -c 'digest.eml$'), sizes: $(du -sh "$data/outbox" | cut -f1) total"
fi
