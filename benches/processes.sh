#!/usr/bin/env bash
# One process against three, behind nginx, on one PostgreSQL: the feed (cache off), a thread
# page and comment creation, plus what one shared rate-limit check costs in the database.
#
#   cargo build --release
#   benches/processes.sh
#
# Seeds a fresh database (`tribune seed --users 100 --discussions 2000 --comments 20000`),
# makes 64 accounts and a comment-posting wrk script (benches/comment.lua), then for 1 and 3
# processes (each TRIBUNE_WORKERS=1, pool 8) behind nginx (deploy/nginx.conf) runs wrk
# (2 threads, 32 connections, 8 s; 64 for posting). Last, pgbench runs the upsert a rate-limit
# check is (one statement) for 5 s on 4 connections. Prints Markdown table rows.
# Needs nginx, wrk, pgbench, curl and python3; PostgreSQL on 127.0.0.1:5432 as postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/tribune
work=$(mktemp -d)
db="tribune_bench_$$"
psql_admin() { psql -q -h 127.0.0.1 -U postgres -d postgres "$@"; }
psql_admin -c "CREATE DATABASE $db"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" TRIBUNE_RATE_LIMITS=off \
       TRIBUNE_MAIL_DIR="$work/mail" RUST_LOG=warn TRIBUNE_CONFIG=/dev/null \
       TRIBUNE_FEED_CACHE_MS=0 TRIBUNE_WORKERS=1 TRIBUNE_DB_POOL_SIZE=8 \
       TRIBUNE_TRUSTED_PROXIES=127.0.0.1
servers=()
nginx_pid=
stop_all() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  servers=()
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=; fi
}
cleanup() { stop_all; psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"; }
trap cleanup EXIT

"$bin" seed --users 100 --discussions 2000 --comments 20000 >&2
front=18190
ports=(18191 18192 18193)

start() { # processes
  local n=$1 site
  for i in $(seq 0 $((n - 1))); do
    TRIBUNE_LISTEN="127.0.0.1:${ports[$i]}" "$bin" serve & servers+=($!)
  done
  site=$(sed -e "s/listen 80;/listen 127.0.0.1:$front;/" \
             -e "s/127.0.0.1:8081/127.0.0.1:${ports[0]}/" \
             -e "s/127.0.0.1:8082/127.0.0.1:${ports[1]}/" \
             -e "s/127.0.0.1:8083/127.0.0.1:${ports[2]}/" deploy/nginx.conf)
  if [ "$n" = 1 ]; then site=$(grep -v -e "${ports[1]}" -e "${ports[2]}" <<<"$site"); fi
  echo "$site" >"$work/site.conf"
  cat >"$work/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path $work/client; proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  include $work/site.conf;
}
EOF
  nginx -g 'daemon off;' -c "$work/nginx.conf" -p "$work" & nginx_pid=$!
  for port in "$front" "${ports[@]:0:$n}"; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  done
}

url="http://127.0.0.1:$front"
start 1
read -r thread < <(python3 - "$url" "$work/comment.lua" <<'PY'
import json, sys, urllib.request
url, script = sys.argv[1], sys.argv[2]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": "Bearer " + token} if token else {})})
    return json.load(urllib.request.urlopen(req))
tokens = [call("POST", "/api/v1/auth/register", {"username": f"bench{n}",
          "email": f"bench{n}@example.com", "password": "bench-violet-harbour-42"})["access_token"]
          for n in range(64)]
thread = call("POST", "/api/v1/discussions", {"title": "Sixteen comments", "body": "A thread."},
              tokens[0])["id"]
for n in range(8):
    root = call("POST", f"/api/v1/discussions/{thread}/comments",
                {"body": f"Root comment {n}, with **Markdown**."}, tokens[n + 1])["id"]
    call("POST", f"/api/v1/discussions/{thread}/comments",
         {"body": f"A reply to {n}.", "parent_id": root}, tokens[n + 10])
ids = [d["id"] for d in call("GET", "/api/v1/discussions?limit=100")["items"]]
with open(script, "w") as f:
    f.write("tokens = " + json.dumps(tokens).replace("[", "{").replace("]", "}") + "\n")
    f.write("discussions = " + json.dumps(ids).replace("[", "{").replace("]", "}") + "\n")
    f.write(open("benches/comment.lua").read())
print(thread)
PY
)

measure() { # processes name connections url [script]
  local out
  out=$(wrk -t2 -c"$3" -d8s --latency ${5:+-s "$5"} "$4")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $2 had non-2xx answers" >&2; fi
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}

echo "| processes | run | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for n in 1 3; do
  if [ "$n" = 3 ]; then stop_all; start 3; fi
  measure "$n" "/healthz through nginx" 32 "$url/healthz"
  measure "$n" "feed page 1, cache off" 32 "$url/api/v1/discussions"
  measure "$n" "16-comment thread page" 32 "$url/api/v1/discussions/$thread/comments"
  measure "$n" "POST a comment (64 accounts)" 64 "$url" "$work/comment.lua"
done

# One shared rate-limit check: the upsert of src/ratelimit/repo.rs, on 1,000 keys.
cat >"$work/check.sql" <<'SQL'
\set k random(1, 1000)
INSERT INTO rate_counters (key, window_start, hits, prev_hits, last_at, expires_at)
VALUES ('bench:' || :k, 0, 1, 0, 0, 120)
ON CONFLICT (key) DO UPDATE SET hits = CASE WHEN rate_counters.window_start >= excluded.window_start
  THEN rate_counters.hits + excluded.hits ELSE excluded.hits END
RETURNING window_start, hits, prev_hits;
SQL
out=$(pgbench -n -h 127.0.0.1 -U postgres -f "$work/check.sql" -c 4 -j 2 -T 5 "$db" 2>&1)
echo "shared rate-limit check (pgbench, 4 connections): $(grep -E 'latency average|tps' <<<"$out" | tr '\n' ' ')"
