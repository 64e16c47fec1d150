#!/usr/bin/env bash
# The feed at scale: seeds N discussions with `tribune seed`, serves them, and measures with wrk
# (32 connections, 10 s each, loopback): /healthz (the ceiling), feed page 1, feed page 500
# (reached by cursor), and one discussion. Prints a Markdown table row per run.
#
#   cargo build --release
#   benches/feed.sh sqlite 10000               # SQLite, 10k discussions, feed cache 500 ms
#   benches/feed.sh postgres 1000000 "500 0"   # PostgreSQL, 1M, with the cache and without
#
# PostgreSQL: a scratch database is made (and dropped) on 127.0.0.1:5432 as user postgres.
# Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
count=${2:?number of discussions}
caches=${3:-500}
bin=target/release/tribune
port=${PORT:-18090}
url="http://127.0.0.1:$port"
. benches/lib.sh
scratch_database
export TRIBUNE_LISTEN="127.0.0.1:$port" TRIBUNE_RATE_LIMITS=off TRIBUNE_MAIL_DIR="$work/mail" \
       RUST_LOG=warn TRIBUNE_CONFIG=/dev/null

cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  drop_scratch
}
trap cleanup EXIT

"$bin" seed --users 1000 --discussions "$count" >&2
start() {
  TRIBUNE_FEED_CACHE_MS="$1" "$bin" serve & server=$!
  for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }
start 0

# The cursor of page 500 (20 items a page), and a discussion id, by walking the feed.
read -r cursor discussion < <(python3 - "$url" <<'PY'
import json, sys, urllib.request
url = sys.argv[1]
def page(cursor=None):
    q = "?limit=20" + (f"&cursor={cursor}" if cursor else "")
    return json.load(urllib.request.urlopen(url + "/api/v1/discussions" + q))
first = page()
cursor = first["next_cursor"]
for _ in range(498):
    cursor = page(cursor)["next_cursor"]
print(cursor, first["items"][5]["id"])
PY
)

measure() { # name url
  local out rps p50 p99
  out=$(wrk -t1 -c32 -d10s --latency "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $1 had non-2xx answers" >&2; fi
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$backend" "$count" "$cache_ms ms" "$1" "$rps" "$p50" "$p99"
}

echo "| backend | discussions | feed cache | endpoint | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|---|---|"
for cache_ms in $caches; do
  stop; start "$cache_ms"
  measure "/healthz" "$url/healthz"
  measure "feed page 1" "$url/api/v1/discussions?limit=20"
  measure "feed page 500" "$url/api/v1/discussions?limit=20&cursor=$cursor"
  measure "one discussion" "$url/api/v1/discussions/$discussion"
done
