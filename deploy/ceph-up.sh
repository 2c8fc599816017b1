#!/bin/bash
# A throw-away single-node Ceph cluster with a RADOS Gateway, for the S3
# tests and the benchmark (docs/storage.md, "Blobs on S3"). Everything
# lives in DIR: one monitor, one OSD on memstore (RAM, no device), no
# a cephx keyring generated here, radosgw (beast) on 127.0.0.1:PORT, and an S3
# user whose keys are printed.
#
#   deploy/ceph-up.sh DIR PORT      start; prints KEY=VALUE lines on stdout
#   deploy/ceph-up.sh --down DIR    stop the daemons started in DIR
#
# With CEPH_RGW_SSL_PORT, CEPH_RGW_SSL_CERT and CEPH_RGW_SSL_KEY (PEM
# files) radosgw also answers TLS on 127.0.0.1:CEPH_RGW_SSL_PORT with that
# certificate, and S3_TLS_ENDPOINT=https://127.0.0.1:PORT is printed.
#
# Needs Debian's ceph-mon ceph-osd radosgw ceph-common (deploy/common.sh).
# Daemons write their pid files into DIR/run; --down kills exactly those.
set -euo pipefail

if [ "${1:-}" = "--down" ]; then
  dir=$2
  for p in "$dir"/run/*.pid; do
    [ -f "$p" ] || continue
    pid=$(cat "$p")
    kill -KILL "$pid" 2>/dev/null || true
  done
  exit 0
fi

dir=$(realpath "$1")
port=$2
mem=${CEPH_MEMSTORE_BYTES:-3221225472}
mkdir -p "$dir"/{mon,osd0,run,log,rgw}
frontends="beast endpoint=127.0.0.1:$port"
if [ -n "${CEPH_RGW_SSL_PORT:-}" ]; then
  frontends="$frontends ssl_endpoint=127.0.0.1:$CEPH_RGW_SSL_PORT"
  frontends="$frontends ssl_certificate=$(realpath "$CEPH_RGW_SSL_CERT")"
  frontends="$frontends ssl_private_key=$(realpath "$CEPH_RGW_SSL_KEY")"
fi
t0=$(date +%s.%N)

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
EOF
}
monport=$(free_port)
fsid=$(cat /proc/sys/kernel/random/uuid)
conf=$dir/ceph.conf
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$monport
public addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
ms bind msgr1 = false
mon allow pool size one = true
mon allow pool delete = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
keyring = $dir/keyring
[mon]
mon data = $dir/mon
[osd]
osd data = $dir/osd0
osd objectstore = memstore
memstore device bytes = $mem
osd max object name len = 256
osd max object namespace len = 64
[client.rgw]
rgw frontends = $frontends
rgw data = $dir/rgw
rgw dns name = localhost
rgw thread pool size = 64
EOF
export CEPH_CONF=$conf

ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
  --cap mgr 'allow *' >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n client.rgw --cap mon 'allow rw' --cap osd 'allow rwx' \
  >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' \
  --cap mgr 'allow profile osd' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" >/dev/null
ceph-mon -c "$conf" -i a

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
ceph -c "$conf" --connect-timeout 30 osd new "$osd_uuid" 0 >/dev/null
ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" --no-mon-config >"$dir/log/mkfs.log" 2>&1
ceph-osd -c "$conf" -i 0

# Wait for the OSD to be up and in before radosgw creates its pools.
for _ in $(seq 600); do
  ceph -c "$conf" osd stat 2>/dev/null | grep -q '1 up.*1 in' && break
  sleep 0.1
done

radosgw -c "$conf" -n client.rgw
for _ in $(seq 1200); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$port/" || { echo "radosgw did not answer" >&2; exit 1; }

key=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
radosgw-admin -c "$conf" -n client.rgw user create --uid=consort --display-name=consort \
  --access-key="$key" --secret-key="$secret" >/dev/null
t1=$(date +%s.%N)
echo "CEPH_DIR=$dir"
echo "S3_ENDPOINT=http://127.0.0.1:$port"
if [ -n "${CEPH_RGW_SSL_PORT:-}" ]; then echo "S3_TLS_ENDPOINT=https://127.0.0.1:$CEPH_RGW_SSL_PORT"; fi
echo "AWS_ACCESS_KEY_ID=$key"
echo "AWS_SECRET_ACCESS_KEY=$secret"
echo "CEPH_START_SECONDS=$(echo "$t1 - $t0" | bc 2>/dev/null || python3 -c "print($t1-$t0)")"
