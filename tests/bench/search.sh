#!/usr/bin/env bash
# Search benchmark (not part of the test suite), one run:
#  1. the same corpus of mixed-format documents (default 2,000) indexed by
#     omindex (Debian's xapian-omega) and by consort's indexer
#     (`consort reindex`, extraction helper included): documents/s ratio
#     (goal >= 1.0x) and index size ratio;
#  2. query latency p50/p95 over 200 queries with the permission filter
#     and snippets on a 10,000-document index (goal p95 < 20 ms).
#
#   tests/bench/search.sh [DOCS] [LATENCY_DOCS]     (DOCS=0: latency only)
#
# OLD_BUILD=DIR (a build directory of another commit, e.g. one from
# before the per-work-package index) also indexes a copy of the latency
# corpus with DIR/server/consort and measures it with
# DIR/tests/bench/searchbench, alternating with this build's, so both
# figures come from the same run on the same machine. (A searchbench
# older than its READABLE argument measures 3 readable work packages
# only: build this tests/bench/searchbench.c against the older library
# for the coordinator's figure.)
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/common.sh
install_packages xapian-omega bc
build_dir build -Dbuildtype=debugoptimized

docs=${1:-2000}
ldocs=${2:-10000}
work=$(mktemp -d /tmp/consort-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
bin=build/server/consort
mk=build/tests/bench/mkcorpus

secs() { date +%s.%N; }

if [ "$docs" -gt 0 ]; then
echo "==> corpus: $docs documents (docx xlsx pptx odt ods odp pdf html md csv txt)"
$mk --files "$work/files" --store "$work/data" --docs "$docs" --wps 10

echo "==> omindex"
t0=$(secs)
# Markdown as plain text: omindex has no Markdown filter of its own.
omindex --db "$work/omega" --url / -Mmd:text/plain "$work/files" > "$work/omindex.log" 2>&1 ||
  { tail "$work/omindex.log"; exit 1; }
t1=$(secs)
om_docs=$(xapian-delve "$work/omega" | sed -n 's/^number of documents = //p')

echo "==> consort reindex"
t2=$(secs)
$bin reindex --data "$work/data" > "$work/reindex.log" 2>&1 || { cat "$work/reindex.log"; exit 1; }
t3=$(secs)
co_docs=$(sed -n 's/.*, \([0-9]*\) documents in the index/\1/p' "$work/reindex.log")

om_time=$(echo "$t1 - $t0" | bc -l)
co_time=$(echo "$t3 - $t2" | bc -l)
om_rate=$(echo "$om_docs / $om_time" | bc -l)
co_rate=$(echo "$co_docs / $co_time" | bc -l)
om_size=$(du -sb "$work/omega" | cut -f1)
co_size=$(du -sbL "$work/data/index/current" | cut -f1)
printf 'omindex: %d docs in %.2f s = %.1f docs/s, index %d KiB\n' "$om_docs" "$om_time" "$om_rate" $((om_size / 1024))
printf 'consort: %d docs in %.2f s = %.1f docs/s, index %d KiB\n' "$co_docs" "$co_time" "$co_rate" $((co_size / 1024))
printf 'throughput ratio consort/omindex: %.2fx (goal >= 1.0x)\n' "$(echo "$co_rate / $om_rate" | bc -l)"
printf 'index size ratio consort/omindex: %.2fx\n' "$(echo "$co_size / $om_size" | bc -l)"
fi

echo "==> latency corpus: $ldocs documents"
$mk --files "$work/lfiles" --store "$work/ldata" --docs "$ldocs" --wps 10 --seed 7
rm -rf "$work/lfiles"
if [ -n "${OLD_BUILD:-}" ]; then
  cp -a "$work/ldata" "$work/ldata-old"
  "$OLD_BUILD/server/consort" reindex --data "$work/ldata-old" > "$work/lreindex-old.log" 2>&1 ||
    { cat "$work/lreindex-old.log"; exit 1; }
  echo "old build: $(tail -1 "$work/lreindex-old.log")"
fi
$bin reindex --data "$work/ldata" > "$work/lreindex.log" 2>&1 || { cat "$work/lreindex.log"; exit 1; }
tail -1 "$work/lreindex.log"
echo "==> 200 queries, 3 readable work packages of 10, first page with snippets"
for round in 1 2; do
  [ -z "${OLD_BUILD:-}" ] || echo "old: $("$OLD_BUILD/tests/bench/searchbench" "$work/ldata-old" 200 10)"
  echo "new: $(build/tests/bench/searchbench "$work/ldata" 200 10)"
  [ -n "${OLD_BUILD:-}" ] || break
done
echo "==> 200 queries, all 10 work packages readable (a coordinator)"
for round in 1 2; do
  [ -z "${OLD_BUILD:-}" ] || echo "old: $("$OLD_BUILD/tests/bench/searchbench" "$work/ldata-old" 200 10 10)"
  echo "new: $(build/tests/bench/searchbench "$work/ldata" 200 10 10)"
  [ -n "${OLD_BUILD:-}" ] || break
done
