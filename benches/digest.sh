#!/usr/bin/env bash
# The daily digest: time to enqueue it for 100,000 confirmed subscribers, and to run it again
# (a rerun writes nothing twice).
#
#   cargo build --release
#   benches/digest.sh sqlite
#   benches/digest.sh postgres
#
# Seeds a fresh database with `tribune seed --users 100 --discussions 2000 --comments 0
# --subscribers 100000` (articles spread over 90 days, so a few fall in the digest's 24 hours),
# then times `tribune newsletter send-digest --enqueue-only` for today at the current hour
# (the last 24 hours) twice.
# PostgreSQL: a scratch database is made (and dropped) on 127.0.0.1:5432 as user postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
subscribers=${SUBSCRIBERS:-100000}
bin=target/release/tribune
. benches/lib.sh
scratch_database
export TRIBUNE_MAIL_DIR="$work/mail" RUST_LOG=warn TRIBUNE_CONFIG=/dev/null
# The digest of today at this hour: the 24 hours up to now.
export TRIBUNE_DIGEST_HOUR=$((10#$(date -u +%H)))
cleanup() {
  drop_scratch
}
trap cleanup EXIT

"$bin" seed --users 100 --discussions 2000 --comments 0 --subscribers "$subscribers" >&2
day=$(date -u +%F)
echo "| backend | subscribers | run | result |"
echo "|---|---|---|---|"
for run in first again; do
  out=$("$bin" newsletter send-digest --date "$day" --enqueue-only)
  printf '| %s | %s | %s | %s |\n' "$backend" "$subscribers" "$run" "$out"
done
