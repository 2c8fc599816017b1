#!/usr/bin/env bash
# TLS audit, not part of the suite: runs Debian's testssl against a
# consort started with its own self-signed certificate, and prints the
# protocol, cipher, forward-secrecy, server-defaults and vulnerability
# sections (summarised in docs/tls.md). Needs: testssl.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
ninja -C build >/dev/null
. tests/bench/ports.sh
port=$(free_port)
build/server/consort serve --data "$work/data" --listen 127.0.0.1:$port 2> "$work/log" &
for _ in $(seq 50); do grep -q listening "$work/log" 2>/dev/null && break; sleep 0.1; done
testssl --quiet --color 0 --warnings off -p -s -f -S -H -R -C -E 127.0.0.1:$port
