#!/usr/bin/env bash
# Query plans of the feed (the first page, and page 500 by cursor) on a seeded database.
#   benches/explain.sh sqlite://tribune.db
#   benches/explain.sh postgres://postgres@127.0.0.1:5432/tribune
# The SQL is what diesel generates for discussions::repo::feed_segment (columns trimmed); the
# cursor of page 500 is looked up first, as the API would have handed it out.
set -euo pipefail
url=${1:?DATABASE_URL}
cursor_sql="SELECT last_activity_at, id FROM discussions WHERE pinned = FALSE
  ORDER BY last_activity_at DESC, id DESC LIMIT 1 OFFSET 9999"
# The first page reads the pinned segment, then the unpinned one; both look like this.
first_page="SELECT d.id, d.title, d.views, d.replies, u.username FROM discussions d
  LEFT OUTER JOIN users u ON u.id = d.author_id
  WHERE d.pinned = FALSE AND d.visible_from <= CURRENT_TIMESTAMP
  ORDER BY d.last_activity_at DESC, d.id DESC LIMIT 21"
deep_page() { # timestamp id
  echo "SELECT d.id, d.title, d.views, d.replies, u.username FROM discussions d
  LEFT OUTER JOIN users u ON u.id = d.author_id
  WHERE d.visible_from <= CURRENT_TIMESTAMP AND d.pinned = FALSE
    AND d.last_activity_at <= '$1' AND (d.last_activity_at < '$1' OR d.id < $2)
  ORDER BY d.last_activity_at DESC, d.id DESC LIMIT 21"
}
case "$url" in
  sqlite://*)
    python3 - "${url#sqlite://}" "$first_page" "$cursor_sql" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
at, id_ = db.execute(sys.argv[3]).fetchone()
deep = f"""SELECT d.id, d.title, d.views, d.replies, u.username FROM discussions d
  LEFT OUTER JOIN users u ON u.id = d.author_id
  WHERE d.visible_from <= CURRENT_TIMESTAMP AND d.pinned = FALSE
    AND d.last_activity_at <= '{at}' AND (d.last_activity_at < '{at}' OR d.id < {id_})
  ORDER BY d.last_activity_at DESC, d.id DESC LIMIT 21"""
for name, sql in (("first page", sys.argv[2]), ("page 500", deep)):
    print(f"-- {name}")
    for row in db.execute("EXPLAIN QUERY PLAN " + sql):
        print("  ", row[3])
PY
    ;;
  postgres://*|postgresql://*)
    IFS='|' read -r at id < <(psql -qtA "$url" -c "$cursor_sql")
    for sql in "$first_page" "$(deep_page "$at" "$id")"; do
      psql -q "$url" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $sql"
    done
    ;;
esac
