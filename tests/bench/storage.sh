#!/usr/bin/env bash
# Storage benchmark (not part of the test suite).
#  (a) adding 10,000 small versions through the full path of an upload
#      (cas writer with fsync, rename, directory fsync; tree_put in
#      one transaction): ops/s;
#  (b) storing a 1 GiB file through the cas writer, fed in 16 KiB pieces
#      as a TLS connection delivers them, beside `sha256sum` plus `cp` of
#      the same file (and beside that plus `sync`, since the store
#      fsyncs and cp does not), in the same run; ratio goal: <= 1.3x.
#
#   tests/bench/storage.sh [BUILD_DIR] [WORK_DIR]
# WORK_DIR (default: a new directory under /var/tmp) must have ~3 GiB free.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
work=${2:-$(mktemp -d /var/tmp/consort-bench-XXXXXX)}
drv=$build/tests/bench/bench_storage
[ -x "$drv" ] || { echo "build first: ninja -C $build" >&2; exit 1; }
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== (a) 10,000 small versions"
"$drv" versions "$work/small" 10000
rm -rf "$work/small"

echo "== (b) 1 GiB: cas writer vs sha256sum + cp"
big=$work/input.bin
head -c $((1024 * 1024 * 1024)) /dev/urandom > "$big"
cat "$big" > /dev/null   # both sides read it from the page cache
sync
runs=${RUNS:-3}
best_base=999999 best_sync=999999 best_cas=999999
for i in $(seq "$runs"); do
  t0=$(now); sha256sum "$big" > /dev/null; cp "$big" "$work/copy.bin"; t1=$(now)
  sync; t2=$(now)
  base=$(secs "$t0" "$t1"); withsync=$(secs "$t0" "$t2")
  rm -f "$work/copy.bin"; sync
  out=$("$drv" store "$work/store-$i" "$big")
  cas=$(echo "$out" | awk '{print $2}')
  rm -rf "$work/store-$i"; sync
  printf 'run %d: sha256sum+cp %.2f s (+sync %.2f s), cas %.2f s\n' "$i" "$base" "$withsync" "$cas"
  best_base=$(min "$base" "$best_base")
  best_sync=$(min "$withsync" "$best_sync")
  best_cas=$(min "$cas" "$best_cas")
done
printf 'best: sha256sum+cp %.2f s, sha256sum+cp+sync %.2f s, cas %.2f s\n' \
  "$best_base" "$best_sync" "$best_cas"
echo "ratio cas / (sha256sum+cp)      = $(div "$best_cas" "$best_base")x (goal <= 1.3x)"
echo "ratio cas / (sha256sum+cp+sync) = $(div "$best_cas" "$best_sync")x"
