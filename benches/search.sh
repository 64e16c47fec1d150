#!/usr/bin/env bash
# Search at a million comments: index build time and size, and two-word searches from 8
# concurrent clients (docs/benchmarks.md, "Search").
#
#   cargo build --release
#   benches/search.sh sqlite
#   benches/search.sh postgres
#   COMMENTS=100000 benches/search.sh sqlite     # a quicker look
#
# Seeds a fresh database (`tribune seed --users 1000 --discussions 20000 --comments $COMMENTS`;
# the seed indexes everything at the end and prints how long that took), prints the index's
# size, rebuilds it with `tribune search reindex` (timed), then serves (rate limits off) and
# runs wrk with benches/search.lua: 8 connections, $SECONDS_PER_RUN s, two-word queries over the
# seeded vocabulary in English and Russian.
#
# PostgreSQL: a scratch database is made (and dropped) on 127.0.0.1:5432 as user postgres.
# Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
comments=${COMMENTS:-1000000}
seconds=${SECONDS_PER_RUN:-20}
bin=target/release/tribune
port=${PORT:-18095}
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

"$bin" seed --users 1000 --discussions 20000 --comments "$comments"
"$bin" search reindex
case "$backend" in
  sqlite)
    python3 - "$work/bench.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
try:
    size = db.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'search%'").fetchone()[0]
    print(f"index size: {size / 2**20:.0f} MB (search_documents and search_fts)")
except sqlite3.Error as e:
    print(f"index size: unknown ({e})")
PY
    ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -d "$pg_db" -At -c \
      "SELECT 'index size: ' || pg_size_pretty(pg_total_relation_size('search_documents')) || ' (search_documents with its GIN index; the GIN index alone ' || pg_size_pretty(pg_relation_size('search_documents_terms')) || ')'"
    ;;
esac

"$bin" serve & server=$!
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
wrk -t2 -c8 -d5s -s benches/search.lua "$url" >/dev/null   # warm up
echo "$backend, $comments comments, 8 clients, ${seconds} s:"
wrk -t2 -c8 -d"${seconds}s" --latency -s benches/search.lua "$url" | grep -E "Requests/sec|50%|90%|99%|Non-2xx"
