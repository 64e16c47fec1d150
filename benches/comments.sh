#!/usr/bin/env bash
# Comment threads: creation rate, and the latency of a comments page in a discussion of 10
# comments against one of 100,000.
#
#   cargo build --release
#   benches/comments.sh sqlite
#   benches/comments.sh postgres
#
# Seeds a fresh database with `tribune seed --users 1000 --discussions 1000 --comments 200000`
# (half of the comments go to one discussion: the 100,000-comment thread), makes a 10-comment
# thread through the API, then runs wrk (1 thread, 32 connections, 10 s, loopback) on pages of
# both threads (page 1 and, for the big one, page 500 reached by cursor), and finally drives
# POST /api/v1/discussions/{id}/comments with 64 connections and 64 accounts spread over 200
# discussions (benches/comment.lua) for the creation rate. Prints Markdown table rows.
#
# PostgreSQL: a scratch database is made (and dropped) on 127.0.0.1:5432 as user postgres.
# Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
comments=${COMMENTS:-200000}
bin=target/release/tribune
port=${PORT:-18091}
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
[ -n "${KEEP:-}" ] && trap - EXIT

seeded=$("$bin" seed --users 1000 --discussions 1000 --comments "$comments")
echo "$seeded" >&2
big=$(sed -n 's/^largest thread: discussion \([0-9]*\) with.*/\1/p' <<<"$seeded")
"$bin" serve & server=$!
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done

# Accounts and their tokens, the 10-comment thread, the cursor of the big thread's page 500,
# and the wrk script that posts comments.
read -r small cursor < <(python3 - "$url" "$big" "$work/comment.lua" <<'PY'
import json, sys, urllib.request
url, big, script = sys.argv[1], sys.argv[2], sys.argv[3]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": "Bearer " + token} if token else {})})
    return json.load(urllib.request.urlopen(req))
tokens = [call("POST", "/api/v1/auth/register", {"username": f"bench{n}",
          "email": f"bench{n}@example.com", "password": "bench-violet-harbour-42"})["access_token"]
          for n in range(64)]
small = call("POST", "/api/v1/discussions", {"title": "Ten comments", "body": "A small thread."},
             tokens[0])["id"]
for n in range(5):
    root = call("POST", f"/api/v1/discussions/{small}/comments",
                {"body": f"Root comment {n}, with **Markdown**."}, tokens[n + 1])["id"]
    call("POST", f"/api/v1/discussions/{small}/comments",
         {"body": f"A reply to {n}.", "parent_id": root}, tokens[n + 10])
cursor = None
for _ in range(499):
    q = "?limit=20" + (f"&cursor={cursor}" if cursor else "")
    cursor = call("GET", f"/api/v1/discussions/{big}/comments{q}")["next_cursor"]
ids, feed_cursor = [], None
while len(ids) < 200:
    page = call("GET", "/api/v1/discussions?limit=100" + (f"&cursor={feed_cursor}" if feed_cursor else ""))
    ids += [d["id"] for d in page["items"]]
    feed_cursor = page["next_cursor"]
with open(script, "w") as f:
    f.write("tokens = " + json.dumps(tokens).replace("[", "{").replace("]", "}") + "\n")
    f.write("discussions = " + json.dumps(ids[:200]).replace("[", "{").replace("]", "}") + "\n")
    f.write(open("benches/comment.lua").read())
print(small, cursor)
PY
)

measure() { # name connections url [script]
  local out rps p50 p99
  out=$(wrk -t1 -c"$2" -d10s --latency ${4:+-s "$4"} "$3")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $1 had non-2xx answers" >&2; grep "Non-2xx" <<<"$out" >&2; fi
  printf '| %s | %s | %s | %s | %s | %s |\n' "$backend" "$1" "$2" "$rps" "$p50" "$p99"
}

size() { python3 -c 'import json,sys
def n(items): return sum(1 + n(c["children"]) for c in items)
print(n(json.load(sys.stdin)["items"]))'; }
echo "comments on a page: small $(curl -s "$url/api/v1/discussions/$small/comments" | size)," \
     "big page 1 $(curl -s "$url/api/v1/discussions/$big/comments" | size)," \
     "big page 500 $(curl -s "$url/api/v1/discussions/$big/comments?cursor=$cursor" | size)," \
     "big page 1 with limit=4 $(curl -s "$url/api/v1/discussions/$big/comments?limit=4" | size)" >&2

echo "| backend | run | connections | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|---|"
measure "comments page, 10-comment thread" 32 "$url/api/v1/discussions/$small/comments"
measure "comments page 1, 100,000-comment thread" 32 "$url/api/v1/discussions/$big/comments"
measure "comments page 500, 100,000-comment thread" 32 "$url/api/v1/discussions/$big/comments?cursor=$cursor"
measure "comments page 1 (limit=4), 100,000-comment thread" 32 "$url/api/v1/discussions/$big/comments?limit=4"
measure "comments page, 10-comment thread, one at a time" 1 "$url/api/v1/discussions/$small/comments"
measure "comments page 1, 100,000-comment thread, one at a time" 1 "$url/api/v1/discussions/$big/comments"
measure "POST a comment (64 accounts, 200 discussions)" 64 "$url" "$work/comment.lua"
