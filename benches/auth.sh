#!/usr/bin/env bash
# Password hashing under load: time per login, logins per second, and /healthz latency
# alone and during a login flood. Loopback only; every load run is bounded in time.
#   cargo build --release && benches/auth.sh
# Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/tribune
port=${PORT:-18080}
work=$(mktemp -d)
export DATABASE_URL="sqlite://$work/bench.db" TRIBUNE_LISTEN="127.0.0.1:$port" \
       TRIBUNE_RATE_LIMITS=off TRIBUNE_MAIL_DIR="$work/mail" RUST_LOG=warn TRIBUNE_CONFIG=/dev/null
TRIBUNE_PASSWORD=bench-violet-harbour-42 "$bin" user create --username bench \
  --email bench@example.com >/dev/null
"$bin" serve & server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

url=http://127.0.0.1:$port
echo "== one login at a time (latency = one argon2id verification + a session insert)"
wrk -t1 -c1 -d10s --latency -s benches/login.lua "$url/api/v1/auth/login" | grep -E "Latency|Requests/sec|50%|99%"
echo "== login flood: 32 connections"
wrk -t2 -c32 -d15s --latency -s benches/login.lua "$url/api/v1/auth/login" | grep -E "Latency|Requests/sec|50%|99%|Non-2xx"
echo "== /healthz alone: 4 connections"
wrk -t1 -c4 -d10s --latency "$url/healthz" | grep -E "Latency|Requests/sec|50%|99%"
echo "== /healthz during a login flood (32 connections)"
wrk -t1 -c32 -d16s -s benches/login.lua "$url/api/v1/auth/login" >/dev/null & flood=$!
sleep 3
wrk -t1 -c4 -d10s --latency "$url/healthz" | grep -E "Latency|Requests/sec|50%|99%"
wait $flood
