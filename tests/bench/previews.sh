#!/usr/bin/env bash
# Benchmark of previews (issue 18; not part of the test suite).
#
#   tests/bench/previews.sh [BUILD_DIR]      (default: build)
#
# Time to the first page image (state request until page 1 at 800 px is
# received), p50 and p95, for
#   1. a 20-page PDF (poppler only)
#   2. a 20-slide PPTX with a cold converter (a fresh server: LibreOffice
#      starts for it)
#   3. a 20-slide PPTX with a warm converter (LibreOffice already running)
# each sample a distinct content (nothing cached); and
#   4. the preview store against the blob store for `consort demo` after
#      every document's folder thumbnail and first three pages at 800 px.
# BENCH_SAMPLES (default 10) and BENCH_COLD (default 4) set the counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
[ -x "$build/server/consort" ] || { echo "no $build/server/consort: build first" >&2; exit 1; }
command -v soffice >/dev/null || { echo "LibreOffice (libreoffice-core-nogui) is not installed" >&2; exit 1; }
# A CA and a localhost certificate the server presents and Node trusts
# (as tests/e2e/run.mjs makes them).
ca=$(mktemp -d /tmp/consort-bench-ca-XXXXXX)
trap 'rm -rf "$ca"' EXIT
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/ca.key" \
  -out "$ca/ca.pem" -days 2 -subj '/CN=consort bench CA'
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/key.pem" \
  -out "$ca/leaf.csr" -subj /CN=localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$ca/ext.cnf"
ossl x509 -req -in "$ca/leaf.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
  -out "$ca/cert.pem" -days 2 -extfile "$ca/ext.cnf"
CONSORT_BIN=$build/server/consort NODE_EXTRA_CA_CERTS=$ca/ca.pem CONSORT_TEST_CERT=$ca/cert.pem \
  CONSORT_TEST_KEY=$ca/key.pem E2E_ARTIFACTS=$ca/artifacts node tests/bench/previews.mjs
