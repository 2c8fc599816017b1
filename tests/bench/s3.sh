#!/usr/bin/env bash
# Blobs on S3 against local files, not part of the suite (docs/storage.md,
# "Blobs on S3"). One Ceph (deploy/ceph-up.sh: memstore OSD, radosgw on
# loopback) and two consort servers on the same machine, one with
# DATA/blobs, one with blob-store = s3:
#   - one 1 GiB HTTPS upload with curl (PUT .../content)
#   - one 1 GiB HTTPS download of it
#   - 1,000 uploads of 10 KiB files (one curl, keep-alive, 8 in parallel)
#   - the 1 GiB upload to S3 once more with s3-parallel-parts 1 (one part
#     after another, as before parallel parts) against PARTS (default 4)
#   - server-side copies on the gateway (docs/storage.md, "Upload under
#     the final key"): CopyObject of the 1 GiB object and of 10 KiB
#     objects, UploadPartCopy of the 1 GiB object (one part), beside a
#     plain PUT of the same 10 KiB
# Prints seconds, MB/s and consort's CPU seconds for each.
# Usage: tests/bench/s3.sh   (CONSORT_BIN=path to use another binary,
#        PARTS=n for the s3 server's s3-parallel-parts)
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
export CEPH_MEMSTORE_BYTES=${CEPH_MEMSTORE_BYTES:-4294967296}
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

S3C=(curl -s --aws-sigv4 aws:amz:us-east-1:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
: > "$work/empty"
big_hash=$(sha256sum "$work/big.bin" | cut -d' ' -f1)
parts=${PARTS:-4}

# Before parallel parts: one part at a time (its object is deleted after,
# the memstore OSD holds 4 GiB).
start s3seq --blob-store s3 --s3-endpoint "$S3_ENDPOINT" --s3-bucket consort-bench-seq \
  --s3-parallel-parts 1
t=$("${C[@]}" -H "Authorization: Bearer $s3seq_token" -T "$work/big.bin" -o /dev/null \
  -w '%{http_code} %{time_total}' "https://localhost:$s3seq_port/api/v1/wps/WP1/content/big.bin")
echo "s3 (s3-parallel-parts 1) 1 GiB upload: HTTP ${t% *} ${t#* }s $(awk -v s="${t#* }" 'BEGIN{printf "%.0f", 1024/s}') MiB/s"
kill "$s3seq_pid"
"${S3C[@]}" -X DELETE -o /dev/null "$S3_ENDPOINT/consort-bench-seq/blobs/$big_hash"
# The gateway alone: one PUT of the file from disk, no consort.
t=$("${S3C[@]}" -T "$work/big.bin" -o /dev/null -w '%{http_code} %{time_total}' \
  "$S3_ENDPOINT/consort-bench-seq/direct")
echo "gateway alone: 1 GiB PUT with curl: HTTP ${t% *} ${t#* }s $(awk -v s="${t#* }" 'BEGIN{printf "%.0f", 1024/s}') MiB/s"
"${S3C[@]}" -X DELETE -o /dev/null "$S3_ENDPOINT/consort-bench-seq/direct"

start local
start s3 --blob-store s3 --s3-endpoint "$S3_ENDPOINT" --s3-bucket consort-bench \
  --s3-parallel-parts "$parts" --s3-cache-size 2147483648

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
  if [ "$name" = s3 ]; then
    c0=$(cpu "$pid")
    t=$("${C[@]}" -H "Authorization: Bearer $token" -o /dev/null -w '%{http_code} %{time_total}' "$base/big.bin")
    c1=$(cpu "$pid")
    echo "$name 1 GiB download again (from the read cache, s3-cache-size 2 GiB): HTTP ${t% *} ${t#* }s $(awk -v s="${t#* }" 'BEGIN{printf "%.0f", 1024/s}') MiB/s, consort CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}')s"
  fi
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

# Server-side copies on the gateway, as an upload under a temporary key
# would need once the hash is known.
b="$S3_ENDPOINT/consort-bench"
t=$("${S3C[@]}" -T "$work/empty" -H "x-amz-copy-source: /consort-bench/blobs/$big_hash" \
  -o "$work/copy.xml" -w '%{http_code} %{time_total}' "$b/tmp/big-copy")
echo "gateway CopyObject 1 GiB: HTTP ${t% *} ${t#* }s"
"${S3C[@]}" -X DELETE -o /dev/null "$b/tmp/big-copy"
# UploadPartCopy: the whole object as one part (a part may be up to
# 5 GiB). Copying ranges (x-amz-copy-source-range) is not measured: curl
# 7.88 signs that header in the wrong order (SignatureDoesNotMatch).
up=$("${S3C[@]}" -X POST -o - "$b/tmp/big-partcopy?uploads=" | sed -n 's/.*<UploadId>\([^<]*\)<.*/\1/p')
s=$(date +%s.%N)
# (On RGW 16 with a memstore OSD this is a real copy and ran past 270 s:
# bounded at 300 s here.)
etag=$("${S3C[@]}" --max-time 300 -T "$work/empty" -H "x-amz-copy-source: /consort-bench/blobs/$big_hash" \
  "$b/tmp/big-partcopy?partNumber=1&uploadId=$up" | sed -n 's/.*<ETag>\([^<]*\)<.*/\1/p' || true)
code=$("${S3C[@]}" -X POST -o /dev/null -w '%{http_code}' --data-binary \
  "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>$etag</ETag></Part></CompleteMultipartUpload>" \
  "$b/tmp/big-partcopy?uploadId=$up")
e=$(date +%s.%N)
[ -n "$etag" ] || echo "gateway UploadPartCopy 1 GiB: no answer within 300 s"
echo "gateway UploadPartCopy 1 GiB (one part) + complete: HTTP $code $(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.2f", b-a}')s"
"${S3C[@]}" -X DELETE -o /dev/null "$b/tmp/big-partcopy?uploadId=$up" || true
"${S3C[@]}" -X DELETE -o /dev/null "$b/tmp/big-partcopy" || true
# 10 KiB: a PUT of the content against a CopyObject of it (curl's own
# request time, summed: the process start is not counted).
for i in $(seq 200); do
  "${S3C[@]}" -T "$work/small/$i.bin" -o /dev/null -w '%{http_code} %{time_total}\n' "$b/tmp/small-$i"
done > "$work/put.times"
for i in $(seq 200); do
  "${S3C[@]}" -T "$work/empty" -H "x-amz-copy-source: /consort-bench/tmp/small-$i" -o /dev/null \
    -w '%{http_code} %{time_total}\n' "$b/tmp/small-copy-$i"
done > "$work/copy.times"
for what in put copy; do
  echo "gateway 10 KiB $what: $(awk '$1 == 200 {n++; t += $2} END {printf "%.1f ms each (%d of 200 answered 200)", t / (n ? n : 1) * 1000, n}' "$work/$what.times")"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
