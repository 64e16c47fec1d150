#!/usr/bin/env bash
# Notifications: what they add to comment creation, and the inbox's reads.
#
#   cargo build --release
#   benches/notifications.sh sqlite
#   benches/notifications.sh postgres
#
# 64 accounts each start a topic; in topic t, account t+1 posts a root comment. Then wrk
# (64 connections, 10 s each, loopback) posts:
#   1. root comments, each account in its own topic: nothing to notify (the baseline);
#   2. replies, account i to the root comment of topic i+2: two notifications each (the reply's
#      parent's author, the topic's author), each queued for a mail;
#   3. a burst: every account replies to one comment for 5 s (its author's inbox fills up; one
#      mail goes out for it).
# Then the inbox of that comment's author: page 1, page 1 of the unread, the unread count
# (32 connections). Prints Markdown table rows, and the notification and mail counts.
#
# PostgreSQL: a scratch database is made (and dropped) on 127.0.0.1:5432 as user postgres.
# Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
bin=target/release/tribune
port=${PORT:-18093}
url="http://127.0.0.1:$port"
. benches/lib.sh
scratch_database
export TRIBUNE_LISTEN="127.0.0.1:$port" TRIBUNE_RATE_LIMITS=off TRIBUNE_MAIL_DIR="$work/mail" \
       RUST_LOG=warn TRIBUNE_CONFIG=/dev/null TRIBUNE_NOTIFICATION_MAIL_DELAY_SECONDS=1

cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  drop_scratch
}
trap cleanup EXIT

"$bin" seed --users 100 --discussions 2000 --comments 20000 >&2
"$bin" serve & server=$!
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done

# Accounts, topics, root comments; the wrk scripts of the three runs; the burst's target's
# author's token.
reader=$(python3 - "$url" "$work" <<'PY'
import json, sys, urllib.request
url, work = sys.argv[1], sys.argv[2]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": "Bearer " + token} if token else {})})
    return json.load(urllib.request.urlopen(req))
n = 64
tokens = [call("POST", "/api/v1/auth/register", {"username": f"notified{i}",
          "email": f"notified{i}@example.com", "password": "bench-violet-harbour-42"})["access_token"]
          for i in range(n)]
topics = [call("POST", "/api/v1/discussions", {"title": f"Topic {t}", "body": "A topic."},
               tokens[t])["id"] for t in range(n)]
roots = [call("POST", f"/api/v1/discussions/{topics[t]}/comments",
              {"body": f"The first word in topic {t}."}, tokens[(t + 1) % n])["id"] for t in range(n)]
lua = lambda xs: json.dumps(xs).replace("[", "{").replace("]", "}")
head = "tokens = " + lua(tokens) + "\n"
own = "targets = " + lua([[t, 0] for t in topics]) + "\npick = function(n, i, count) return i end\n"
replies = ("targets = " + lua([[topics[t], roots[t]] for t in range(n)])
           + "\npick = function(n, i, count) return (i + 2) % count end\n")
# The burst: everyone but the topic's and the comment's authors replies to topic 0's root.
burst = ("targets = " + lua([[topics[0], roots[0]]])
         + "\npick = function(n, i, count) return 0 end\n")
burst_tokens = "tokens = " + lua(tokens[2:]) + "\n"
body = open("benches/reply.lua").read()
for name, text in [("own", head + own), ("replies", head + replies), ("burst", burst_tokens + burst)]:
    open(f"{work}/{name}.lua", "w").write(text + body)
print(tokens[1])
PY
)

measure() { # name connections url [script] [token]
  local out rps p50 p99
  out=$(wrk -t1 -c"$2" -d"${DURATION:-10s}" --latency ${4:+-s "$4"} ${5:+-H "Authorization: Bearer $5"} "$3")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $1 had non-2xx answers" >&2; grep "Non-2xx" <<<"$out" >&2; fi
  printf '| %s | %s | %s | %s | %s | %s |\n' "$backend" "$1" "$2" "$rps" "$p50" "$p99"
}

echo "| backend | run | connections | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|---|"
measure "healthz (the ceiling)" 32 "$url/healthz"
measure "POST a root comment in one's own topic (notifies nobody)" 64 "$url" "$work/own.lua"
measure "POST a reply (notifies the parent's and the topic's authors)" 64 "$url" "$work/replies.lua"
DURATION=5s measure "POST a reply, all to one comment (the burst)" 64 "$url" "$work/burst.lua"
sleep 3
count=$(curl -s -H "Authorization: Bearer $reader" "$url/api/v1/me/notifications/unread-count")
echo "the burst's target's author: unread $count (the count stops at 100)" >&2
measure "GET /me/notifications (page 1 of 20)" 32 "$url/api/v1/me/notifications" "" "$reader"
measure "GET /me/notifications?unread=true" 32 "$url/api/v1/me/notifications?unread=true" "" "$reader"
measure "GET /me/notifications/unread-count" 32 "$url/api/v1/me/notifications/unread-count" "" "$reader"
sleep 3
"$bin" purge >/dev/null
python3 - <<PY >&2
import os, sqlite3, subprocess
url = os.environ["DATABASE_URL"]
q = "SELECT (SELECT COUNT(*) FROM notifications), (SELECT COUNT(*) FROM notifications WHERE mail IS NOT NULL), (SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE 'notifications:%')"
if url.startswith("sqlite://"):
    row = sqlite3.connect(url[len("sqlite://"):]).execute(q).fetchone()
else:
    row = subprocess.run(["psql", "-At", "-F", " ", url, "-c", q], capture_output=True, text=True).stdout.split()
print(f"notifications: {row[0]}, waiting for a mail: {row[1]}, notification mails made: {row[2]} (64 readers)")
PY
