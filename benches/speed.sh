#!/usr/bin/env bash
# Reads at a tenth of the server's ceiling: the whole table and targets of docs/benchmarks.md
# ("Reads without a cache in front"), for one backend, in one command.
#
#   cargo build --release
#   benches/speed.sh sqlite
#   benches/speed.sh postgres
#   DISCUSSIONS=1000000 benches/speed.sh postgres     # the memory target's data size
#
# Seeds a fresh database (`tribune seed --users 100 --discussions $DISCUSSIONS --comments
# $COMMENTS`, 20,000 and 100,000 by default), makes a 16-comment discussion and 64 accounts
# through the API (benches/setup.py), then runs wrk (2 threads, 32 connections,
# $SECONDS_PER_RUN s each, loopback, sharing the 2 cores with the server):
#   /healthz (the ceiling), feed page 1 with the feed cache on, the thread page anonymous,
#   signed in and anonymous again; /healthz and feed page 1 again with
#   TRIBUNE_FEED_CACHE_MS=0; comment creation by 8 connections over 64 accounts; then, while
#   10 connections post about 100 comments a second (benches/post_at_rate.lua, 20 of them into
#   the 16-comment thread) and benches/consistency.py checks that every page of that thread
#   agrees with its discussion's `replies` at some instant, the feed (cache on, as served) and
#   the hot thread, 32 connections each.
# Prints the table, the server's peak RSS, and each target with its ratio and PASS or FAIL.
#
# PostgreSQL: a scratch database is made (and dropped) on 127.0.0.1:5432 as user postgres.
# Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
discussions=${DISCUSSIONS:-20000}
comments=${COMMENTS:-100000}
seconds=${SECONDS_PER_RUN:-10}
bin=target/release/tribune
port=${PORT:-18092}
url="http://127.0.0.1:$port"
. benches/lib.sh
scratch_database
# Rate limits off: the load comes from one address. The page budget is raised so that the hot
# thread stays one page for the consistency check.
export TRIBUNE_LISTEN="127.0.0.1:$port" TRIBUNE_RATE_LIMITS=off TRIBUNE_MAIL_DIR="$work/mail" \
       RUST_LOG=warn TRIBUNE_CONFIG=/dev/null TRIBUNE_COMMENT_PAGE_MAX=5000

peak_kb=0
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  drop_scratch
}
trap cleanup EXIT

"$bin" seed --users 100 --discussions "$discussions" --comments "$comments" >&2
start() { # feed cache ms
  TRIBUNE_FEED_CACHE_MS="$1" "$bin" serve & server=$!
  for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
}
stop() {
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
  [ "$hwm" -gt "$peak_kb" ] && peak_kb=$hwm
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

start 500
read -r thread token < <(python3 benches/setup.py "$url" "$work" --accounts 64 --thread-comments 16)

declare -A rps p50 p99
ms() { # wrk latency (850.00us, 1.20ms, 2.00s) in milliseconds
  awk -v t="$1" 'BEGIN { n = t + 0; if (t ~ /us$/) n /= 1000; else if (t ~ /[0-9]s$/ && t !~ /ms$/) n *= 1000; print n }'
}
measure() { # key name connections url [wrk options...]
  local key=$1 name=$2 connections=$3 target=$4 out
  shift 4
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" "$target")
  rps[$key]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50[$key]=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99[$key]=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $name had non-2xx answers" >&2; grep "Non-2xx" <<<"$out" >&2; fi
  printf '| %s | %s | %s | %s | %s | %s |\n' "$backend" "$name" "$connections" "${rps[$key]}" "${p50[$key]}" "${p99[$key]}"
}

thread_url="$url/api/v1/discussions/$thread/comments"
echo "| backend | run | connections | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|---|"
measure healthz "/healthz (the ceiling)" 32 "$url/healthz"
measure feed "feed page 1, cache on (default)" 32 "$url/api/v1/discussions?limit=20"
measure thread "thread page, 16 comments" 32 "$thread_url"
measure signed "thread page, 16 comments, signed in" 32 "$thread_url" -H "Authorization: Bearer $token"
# Anonymous again: target 1's signed-in ratio is taken against the mean of the runs before and
# after it, so that the machine's drift between two runs (often 10 % here) does not decide it.
measure thread2 "thread page, 16 comments (again)" 32 "$thread_url"
stop; start 0
measure healthz0 "/healthz (the ceiling), feed cache off" 32 "$url/healthz"
measure feed0 "feed page 1, TRIBUNE_FEED_CACHE_MS=0" 32 "$url/api/v1/discussions?limit=20"
measure post "comment creation, 64 accounts over 200 discussions" 8 "$url" -s "$work/comment.lua"
stop; start 500

# Reads under writes: 10 connections post about 100 comments a second (20 into the thread)
# through both reader runs, while benches/consistency.py checks the thread's pages.
wrk -t1 -c10 -d$((2 * seconds + 4))s -s "$work/post_at_rate.lua" "$url" >"$work/writes.out" & writes=$!
python3 benches/consistency.py "$url" "$thread" $((2 * seconds + 2)) >"$work/checks.out" & checks=$!
sleep 1
measure feedw "feed page 1 while 100 comments/s are posted" 32 "$url/api/v1/discussions?limit=20"
measure threadw "hot thread page while 20 comments/s go into it" 32 "$thread_url"
consistent=PASS
wait "$checks" || consistent=FAIL
wait "$writes"
write_rate=$(awk '/Requests\/sec/ {print $2}' "$work/writes.out")
if grep -q "Non-2xx" "$work/writes.out"; then consistent=FAIL; grep "Non-2xx" "$work/writes.out" >&2; fi
stop
echo
echo "writes: $write_rate comments/s; consistency: $(cat "$work/checks.out")"
echo "server peak RSS: $((peak_kb / 1024)) MB ($discussions discussions)"
echo

# The targets, by ratio to /healthz of the same run (the absolute figures are for the machine
# kind of docs/benchmarks.md: /healthz there is about 111,000 (PostgreSQL) and 125,000 (SQLite)).
if [ "$backend" = postgres ]; then thread_min=12000 feed_min=10000 post_min=1000 ceiling=111528
else thread_min=15000 feed_min=15000 post_min=2000 ceiling=125158; fi
check() { # description ok(1/0) detail
  if [ "$2" = 1 ]; then echo "PASS  $1: $3"; else echo "FAIL  $1: $3"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
tail_ok() { # key
  local a b
  a=$(ms "${p50[$1]}"); b=$(ms "${p99[$1]}")
  awk -v a="$a" -v b="$b" 'BEGIN { print (b <= 10 * a) ? 1 : 0 }'
}
want_thread=$(ratio "$thread_min" "$ceiling"); want_feed=$(ratio "$feed_min" "$ceiling")
got=$(ratio "${rps[thread]}" "${rps[healthz]}")
check "1. thread page >= $want_thread of /healthz ($thread_min on the reference machine)" "$(ge "$got" "$want_thread")" "$got (${rps[thread]}/s)"
got=$(ratio "${rps[signed]}" "$(awk -v a="${rps[thread]}" -v b="${rps[thread2]}" 'BEGIN { print (a + b) / 2 }')")
check "1. signed in within 10% of anonymous (the runs before and after it)" "$(ge "$got" 0.9)" "$got"
got=$(ratio "${rps[feed0]}" "${rps[healthz0]}")
check "2. feed page 1, cache off, >= $want_feed of /healthz ($feed_min on the reference machine)" "$(ge "$got" "$want_feed")" "$got (${rps[feed0]}/s)"
for key in feed thread signed thread2 feed0 feedw threadw; do
  check "3. p99 <= 10 x p50 ($key)" "$(tail_ok $key)" "p50 ${p50[$key]}, p99 ${p99[$key]}"
done
# Not a target: the tail of /healthz itself, which does no work, is the machine's own (the
# scheduler of 2 cores shared by wrk, the server and the database). A read whose ratio fails
# where /healthz's fails too is at the machine's floor, not slowed by its own work.
for key in healthz healthz0; do
  echo "info  3. the ceiling's own tail ($key): p50 ${p50[$key]}, p99 ${p99[$key]}: $(ratio "$(ms "${p99[$key]}")" "$(ms "${p50[$key]}")") x"
done
got=$(ratio "${rps[feedw]}" "${rps[healthz]}")
check "4. feed under writes >= half of target 2" "$(ge "$got" "$(awk -v w="$want_feed" 'BEGIN { print w / 2 }')")" "$got (${rps[feedw]}/s)"
got=$(ratio "${rps[threadw]}" "${rps[healthz]}")
check "4. hot thread under writes >= half of target 1" "$(ge "$got" "$(awk -v w="$want_thread" 'BEGIN { print w / 2 }')")" "$got (${rps[threadw]}/s)"
check "4. writes at about 100/s, all 201, every page consistent" "$([ "$consistent" = PASS ] && echo 1 || echo 0)" "$write_rate/s, $(cat "$work/checks.out")"
check "5. peak RSS <= 128 MB" "$([ "$peak_kb" -le $((128 * 1024)) ] && echo 1 || echo 0)" "$((peak_kb / 1024)) MB"
got=$(ratio "${rps[post]}" "${rps[healthz0]}")
want=$(ratio "$post_min" "$ceiling")
check "6. comment creation >= $want of /healthz ($post_min/s on the reference machine)" "$(ge "$got" "$want")" "$got (${rps[post]}/s)"
