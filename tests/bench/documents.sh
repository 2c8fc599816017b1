#!/usr/bin/env bash
# Document transfer benchmark, not part of the suite. One run, same
# machine, same certificate, same files, each server logging requests:
#   - one 1 GiB HTTPS upload with curl: consort PUT .../content (hashes,
#     fsyncs, versions) beside nginx's WebDAV PUT        goal >= 1.0x
#   - one 1 GiB HTTPS download of that document beside nginx serving
#     the same file                                       goal >= 0.9x
#   - 1,000 uploads of 10 KiB files (one curl, keep-alive, 8 in
#     parallel) beside Apache mod_dav PUT                 goal >= 2x
#   - the same two uploads through consort's WebDAV share (/dav/, HTTP
#     Basic with an API token, as desktop clients send them) beside the
#     same nginx and Apache figures
#   - rclone copying a folder of 1,000 files of 10 KiB to consort's
#     WebDAV share beside Apache mod_dav, every request a sync client
#     makes counted by method                             goal >= 1.0x
# Ratios are consort's throughput over the other's (higher is better).
# Usage: tests/bench/documents.sh    (needs: nginx-light apache2 curl)
# The machine may be shared: ROUNDS=n repeats each measurement n times,
# alternating consort and the reference, and reports the medians; the
# load average and the CPU seconds each server used are printed beside
# each figure (on a busy machine the times follow the CPU time).
#   ROUNDS=5 ONLY="small up" PARS="1 16" CONSORT_BIN=path tests/bench/documents.sh
# PARS: the parallel connections of the small uploads, one run each
# (default 8); each is measured beside Apache mod_dav and nginx.
# SMALL_CONTENT: what the 10 KiB files hold: random (default; libmagic's
# slowest binary case, every test and no match), pdf (a PDF header before
# random bytes: typed in a few tests) or text (base64 lines: plain text,
# libmagic's slow text tests).
# ONLY picks measurements (up, down, small, dav, tus, rclone; default all; dav
# adds the WebDAV variants to up and small, tus tus uploads to small), CONSORT_BIN
# another consort binary (default: build-release, built here).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /var/tmp/consort-bench-XXXXXX)
chmod 755 "$work"   # nginx and apache workers run as www-data
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -f "$work/httpd.pid" ] && kill "$(cat "$work/httpd.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

command -v nginx >/dev/null && command -v apache2 >/dev/null || {
  echo "needs nginx and apache2: apt-get install nginx-light apache2" >&2; exit 1; }
rounds=${ROUNDS:-1}
small_content=${SMALL_CONTENT:-random}
small_file() { # 10,240 bytes of the kind SMALL_CONTENT names
  case $small_content in
    random) head -c 10240 /dev/urandom;;
    pdf) { printf '%%PDF-1.4\n'; head -c 10231 /dev/urandom; };;
    text) head -c 7680 /dev/urandom | base64 -w 79 | head -c 10240;;
    *) echo "SMALL_CONTENT is random, pdf or text" >&2; exit 2;;
  esac
}
only=${ONLY:-up down small dav tus rclone}
consort=${CONSORT_BIN:-}
if [ -z "$consort" ]; then
  [ -x build-release/server/consort ] || meson setup build-release -Dbuildtype=release -Dtests=false >/dev/null
  ninja -C build-release >/dev/null
  consort=build-release/server/consort
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
chmod 644 "$work/key.pem"
mkdir -p "$work/files" "$work/nginx-dav" "$work/apache-dav" "$work/nginx-tmp"
chown www-data "$work/nginx-dav" "$work/apache-dav" "$work/nginx-tmp"
case " $only " in *" up "*|*" down "*)
  head -c $((1024 * 1024 * 1024)) /dev/urandom > "$work/files/big.bin"
  cat "$work/files/big.bin" > /dev/null;;   # into the page cache for every sender
esac

. tests/bench/ports.sh
cport=$(free_port) nport=$(free_port) aport=$(free_port)
cat > "$work/nginx.conf" <<NGINX
user www-data;
worker_processes $(nproc);
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $work/nginx-access.log;
  sendfile on;
  client_max_body_size 0;
  client_body_temp_path $work/nginx-tmp;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/nginx-dav;
    location / { dav_methods PUT; create_full_put_path on; }
  }
}
NGINX
nginx -c "$work/nginx.conf"

cat > "$work/httpd.conf" <<APACHE
ServerRoot /etc/apache2
ServerName localhost
PidFile $work/httpd.pid
ErrorLog $work/apache-error.log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dav_module /usr/lib/apache2/modules/mod_dav.so
LoadModule dav_fs_module /usr/lib/apache2/modules/mod_dav_fs.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
User www-data
Group www-data
Listen 127.0.0.1:$aport
LogFormat "%h %r %>s %b" common
CustomLog $work/apache-access.log common
MaxKeepAliveRequests 0
DavLockDB $work/apache-dav/.lockdb
DocumentRoot $work/apache-dav
<VirtualHost 127.0.0.1:$aport>
  SSLEngine on
  SSLCertificateFile $work/cert.pem
  SSLCertificateKeyFile $work/key.pem
  <Directory $work/apache-dav>
    Dav On
    Require all granted
  </Directory>
</VirtualHost>
APACHE
apache2 -f "$work/httpd.conf" -k start

data="$work/data"
$consort partner add --data "$data" --short BENCH --name Bench --country DE >/dev/null
echo 'bench password long enough' | $consort user add --data "$data" --email b@bench.example \
  --name Bench --partner BENCH --password-stdin >/dev/null
$consort wp add --data "$data" --code WP1 --title Bench >/dev/null
$consort grant --data "$data" --wp WP1 --user b@bench.example --level write >/dev/null
# In a session of its own, as nginx and apache (which daemonize) and a
# systemd service are: with autogroup scheduling a session shares the CPU
# as one, and consort must not share its share with the curl client.
setsid $consort serve --data "$data" --listen 127.0.0.1:$cport --cert "$work/cert.pem" \
  --key "$work/key.pem" 2> "$work/consort.log" &
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
# WebDAV clients sign in with Basic: the email and the API token.
dav=(-u "b@bench.example:$token")

secs() { # seconds a curl run took, from "%{http_code} %{time_total}"; fails on an error status
  awk '$1 >= 300 {print "HTTP " $1 > "/dev/stderr"; exit 1} {s += $2} END {printf "%.3f", s}'
}
persec() { awk -v t="$1" 'BEGIN {printf "%d", 1000 / t}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
load() { cut -d' ' -f1 /proc/loadavg; }
cpu() { # consort's user+system CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$consort_pid/stat"
}
cpu_since() { awk -v a="$1" -v b="$(cpu)" 'BEGIN {printf "%.2f", b - a}'; }
ref_cpu() { # user+system CPU seconds of a reference server: master (pid file $1) and workers
  local m; m=$(cat "$1")
  cat "/proc/$m/stat" $(pgrep -P "$m" | sed 's|.*|/proc/&/stat|') 2>/dev/null |
    awk -v hz="$(getconf CLK_TCK)" '{s += $14 + $15} END {printf "%.2f", s / hz}'
}
ref_since() { awk -v a="$2" -v b="$(ref_cpu "$1")" 'BEGIN {printf "%.2f", b - a}'; }
report() { # what, consort times, other times, other name, goal
  local mc mo
  mc=$(echo "$2" | median); mo=$(echo "$3" | median)
  echo "$1: consort ${mc}s  $4 ${mo}s  ratio $(ratio "$mc" "$mo")x (goal >= $5; medians of $rounds)"
}

has() { case " $only " in *" $1 "*) return 0;; esac; return 1; }

if has up || has down; then
  echo "== 1 GiB upload"
  all_c= all_n=
  for r in $(seq "$rounds"); do
    l=$(load); c0=$(cpu)
    t_c=$("${C[@]}" -H "$auth" -T "$work/files/big.bin" -o /dev/null -w '%{http_code} %{time_total}\n' \
      "https://localhost:$cport/api/v1/wps/WP1/content/big.bin" | secs)
    cc=$(cpu_since "$c0"); n0=$(ref_cpu "$work/nginx.pid")
    t_n=$("${C[@]}" -T "$work/files/big.bin" -o /dev/null -w '%{http_code} %{time_total}\n' \
      "https://localhost:$nport/big.bin" | secs)
    nc=$(ref_since "$work/nginx.pid" "$n0")
    echo "  round $r: consort ${t_c}s (cpu ${cc}s)  nginx WebDAV ${t_n}s (cpu ${nc}s)  ratio $(ratio "$t_c" "$t_n")x  load $l"
    all_c="$all_c $t_c" all_n="$all_n $t_n"
    if has dav; then
      c0=$(cpu)
      t_d=$("${C[@]}" "${dav[@]}" -T "$work/files/big.bin" -o /dev/null -w '%{http_code} %{time_total}\n' \
        "https://localhost:$cport/dav/WP1/big-dav.bin" | secs)
      echo "  round $r: consort /dav ${t_d}s (cpu $(cpu_since "$c0")s)  ratio to nginx $(ratio "$t_d" "$t_n")x"
      all_d="${all_d:-} $t_d"
    fi
  done
  report "upload" "$all_c" "$all_n" "nginx WebDAV" 1.0
  if has dav; then report "WebDAV upload" "$all_d" "$all_n" "nginx WebDAV" 1.0; fi
  cmp "$work/files/big.bin" "$work/nginx-dav/big.bin"
fi

if has down; then
  echo "== 1 GiB download"
  # Both servers serve the file from the page cache. consort's upload
  # drops what it has written from the cache as it goes (storage.md,
  # "drop-behind"), nginx's leaves it there: read both once.
  cat "$work/nginx-dav/big.bin" > /dev/null
  find "$data/blobs" -type f -size +100M -exec cat {} + > /dev/null
  all_c= all_n=
  for r in $(seq "$rounds"); do
    l=$(load); c0=$(cpu)
    t_c=$("${C[@]}" -H "$auth" -o /dev/null -w '%{http_code} %{time_total}\n' \
      "https://localhost:$cport/api/v1/wps/WP1/content/big.bin" | secs)
    cc=$(cpu_since "$c0"); n0=$(ref_cpu "$work/nginx.pid")
    t_n=$("${C[@]}" -o /dev/null -w '%{http_code} %{time_total}\n' "https://localhost:$nport/big.bin" | secs)
    nc=$(ref_since "$work/nginx.pid" "$n0")
    echo "  round $r: consort ${t_c}s (cpu ${cc}s)  nginx ${t_n}s (cpu ${nc}s)  ratio $(ratio "$t_c" "$t_n")x  load $l"
    all_c="$all_c $t_c" all_n="$all_n $t_n"
  done
  report "download" "$all_c" "$all_n" "nginx" 0.9
fi

if has small; then
  pars=${PARS:-8}
  for par in $pars; do
  echo "== 1,000 uploads of 10 KiB ($par in parallel, keep-alive)"
  run_small() { # cfg, extra args...
    local cfg=$1; shift
    local start end
    start=$(date +%s.%N)
    "${C[@]}" --parallel --parallel-max "$par" -w '%{http_code}\n' "$@" -K "$cfg" > "$work/codes"
    end=$(date +%s.%N)
    # Every transfer must have been answered with success: a count of
    # uploads that did not happen is no throughput.
    local bad
    bad=$(grep -cv '^20[014]$' "$work/codes" || true)
    [ "$bad" = 0 ] || echo "$(basename "$cfg") round $r, $par parallel: $bad of $(wc -l < "$work/codes") transfers not answered 2xx: $(grep -v '^20[014]$' "$work/codes" | sort | uniq -c | tr '\n' ' ')" >> "$work/failures"
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}'
  }
  all_c= all_a= all_n= all_ds= all_ts=
  for r in $(seq "$rounds"); do
    # New content each round: every upload stores a new blob, none deduplicates.
    for i in $(seq 1000); do small_file > "$work/files/s$i.bin"; done
    : > "$work/c.cfg"; : > "$work/a.cfg"; : > "$work/n.cfg"
    for i in $(seq 1000); do
      printf 'upload-file = "%s"\nurl = "https://localhost:%s/api/v1/wps/WP1/content/small%s-%s/s%s.bin"\noutput = "/dev/null"\n' \
        "$work/files/s$i.bin" "$cport" "$par" "$r" "$i" >> "$work/c.cfg"
      printf 'upload-file = "%s"\nurl = "https://localhost:%s/r%s-%s/s%s.bin"\noutput = "/dev/null"\n' \
        "$work/files/s$i.bin" "$aport" "$par" "$r" "$i" >> "$work/a.cfg"
      printf 'upload-file = "%s"\nurl = "https://localhost:%s/r%s-%s/s%s.bin"\noutput = "/dev/null"\n' \
        "$work/files/s$i.bin" "$nport" "$par" "$r" "$i" >> "$work/n.cfg"
    done
    mkdir -p "$work/apache-dav/r$par-$r" && chown www-data "$work/apache-dav/r$par-$r"
    l=$(load); c0=$(cpu)
    t_c=$(run_small "$work/c.cfg" -H "$auth" 2>/dev/null)
    cc=$(cpu_since "$c0"); a0=$(ref_cpu "$work/httpd.pid")
    t_a=$(run_small "$work/a.cfg" 2>/dev/null)
    ac=$(ref_since "$work/httpd.pid" "$a0"); n0=$(ref_cpu "$work/nginx.pid")
    t_n=$(run_small "$work/n.cfg" 2>/dev/null)
    nc=$(ref_since "$work/nginx.pid" "$n0")
    stored=$(ls "$work/apache-dav/r$par-$r" | grep -c '^s' || true)
    echo "  round $r: consort ${t_c}s $(persec "$t_c")/s (cpu ${cc}s)  Apache mod_dav ${t_a}s $(persec "$t_a")/s (cpu ${ac}s)  nginx ${t_n}s $(persec "$t_n")/s (cpu ${nc}s)  ratio to Apache $(ratio "$t_c" "$t_a")x  load $l; apache stored $stored files"
    all_c="$all_c $t_c" all_a="$all_a $t_a" all_n="$all_n $t_n"
    if has dav; then
      "${C[@]}" "${dav[@]}" -X MKCOL -o /dev/null "https://localhost:$cport/dav/WP1/davsmall$par-$r"
      sed "s|/api/v1/wps/WP1/content/small$par-$r/|/dav/WP1/davsmall$par-$r/|" "$work/c.cfg" > "$work/d.cfg"
      c0=$(cpu)
      t_d=$(run_small "$work/d.cfg" "${dav[@]}" 2>/dev/null)
      echo "  round $r: consort /dav ${t_d}s $(persec "$t_d")/s (cpu $(cpu_since "$c0")s)  ratio to Apache $(ratio "$t_d" "$t_a")x"
      all_ds="$all_ds $t_d"
    fi
    if has tus; then
      # tus creation-with-upload: one POST per file carries all its bytes.
      : > "$work/t.cfg"
      wp64=$(printf WP1 | base64)
      # One transfer per file, separated by "next" (a trailing "next" would
      # add a transfer without a URL, an error that makes curl abort the
      # transfers in flight: uploads consort never saw).
      for i in $(seq 1000); do
        [ "$i" = 1 ] || echo next >> "$work/t.cfg"
        printf 'url = "https://localhost:%s/api/v1/uploads"\ncacert = "%s"\nhttp1.1\nsilent\ndata-binary = "@%s"\nheader = "Tus-Resumable: 1.0.0"\nheader = "Upload-Length: 10240"\nheader = "Upload-Metadata: wp %s,path %s"\nheader = "Content-Type: application/offset+octet-stream"\nheader = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
          "$cport" "$work/cert.pem" "$work/files/s$i.bin" "$wp64" "$(printf 'tus%s-%s/s%s.bin' "$par" "$r" "$i" | base64 -w0)" "$auth" >> "$work/t.cfg"
      done
      c0=$(cpu)
      t_t=$(run_small "$work/t.cfg" 2>/dev/null)
      echo "  round $r: consort tus ${t_t}s $(persec "$t_t")/s (cpu $(cpu_since "$c0")s)  ratio to Apache $(ratio "$t_t" "$t_a")x"
      all_ts="${all_ts:-} $t_t"
    fi
  done
  report "1,000 small uploads, $par parallel" "$all_c" "$all_a" "Apache mod_dav" 1.0
  report "1,000 small uploads, $par parallel" "$all_c" "$all_n" "nginx WebDAV" 1.0
  if has dav; then
    report "1,000 small WebDAV PUTs, $par parallel" "$all_ds" "$all_a" "Apache mod_dav" 1.0
  fi
  if has tus; then
    report "1,000 small tus uploads, $par parallel" "$all_ts" "$all_a" "Apache mod_dav" 1.0
  fi
  done
  grep -c ' PUT /api/v1/wps/WP1/content/small.* 20[01] ' "$work/consort.log" | sed 's/^/consort answered 200\/201: /'
  if has tus; then
    grep -c ' POST /api/v1/uploads.* 201 ' "$work/consort.log" | sed 's/^/consort answered 201 to tus: /'
  fi
  if has dav; then
    grep -c ' PUT /dav/WP1/davsmall.* 201 ' "$work/consort.log" | sed 's/^/consort answered 201 on \/dav: /'
  fi
  if [ -s "$work/failures" ]; then
    echo "TRANSFERS THAT FAILED (the figures above do not count):"
    cat "$work/failures"
  fi
fi

if has rclone; then
  # What a person saving a folder through a sync client waits for: rclone
  # copies 1,000 files of 10 KiB into a new folder on the WebDAV share,
  # with all its requests (PROPFIND, MKCOL, PUT...), not bare PUTs.
  command -v rclone >/dev/null || { echo "needs rclone: apt-get install rclone" >&2; exit 1; }
  rpar=${RCLONE_TRANSFERS:-16}
  echo "== rclone copy of 1,000 files of 10 KiB (--transfers $rpar)"
  rc=(rclone --config /dev/null --ca-cert "$work/cert.pem" --transfers "$rpar" --checkers "$rpar"
      --retries 1 --low-level-retries 1 -q copy)
  cpass=$(rclone obscure "$token")
  all_c= all_a=
  for r in $(seq "$rounds"); do
    src="$work/rclone-src-$r"
    mkdir -p "$src"
    for i in $(seq 1000); do head -c 10240 /dev/urandom > "$src/f$i.bin"; done
    l=$(load); c0=$(cpu); start=$(date +%s.%N)
    "${rc[@]}" "$src" ":webdav,url='https://localhost:$cport/dav/WP1',vendor=other,user=b@bench.example,pass='$cpass':rclone-$r"
    t_c=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
    cc=$(cpu_since "$c0"); a0=$(ref_cpu "$work/httpd.pid"); start=$(date +%s.%N)
    "${rc[@]}" "$src" ":webdav,url='https://localhost:$aport',vendor=other:rclone-$r"
    t_a=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.3f", b - a}')
    ac=$(ref_since "$work/httpd.pid" "$a0")
    echo "  round $r: consort ${t_c}s $(persec "$t_c")/s (cpu ${cc}s)  Apache mod_dav ${t_a}s $(persec "$t_a")/s (cpu ${ac}s)  ratio $(ratio "$t_c" "$t_a")x  load $l"
    all_c="$all_c $t_c" all_a="$all_a $t_a"
    [ "$(ls "$work/apache-dav/rclone-$r" | wc -l)" = 1000 ] || echo "Apache did not store all 1,000 files" >&2
  done
  report "rclone copy of 1,000 small files" "$all_c" "$all_a" "Apache mod_dav" 1.0
  # The requests each client sent per file, by method.
  for m in PROPFIND MKCOL PUT HEAD GET; do
    printf '  %-8s consort %5d  Apache %5d\n' "$m" \
      "$(grep -c " $m /dav/WP1/rclone-" "$work/consort.log" || true)" \
      "$(grep -c "$m /rclone-" "$work/apache-access.log" || true)"
  done
fi
