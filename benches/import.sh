#!/usr/bin/env bash
# Importing a million comments (docs/benchmarks.md, "Import"): generates a Disqus export of
# $THREADS threads and $COMMENTS posts (a third of them replies to an earlier post of their
# thread, one author in 50 repeating), then times `tribune import disqus` into a fresh database
# and reports the peak memory, the comments per second, then times the second run (which
# must add nothing).
#
#   cargo build --release
#   benches/import.sh sqlite
#   benches/import.sh postgres
#   COMMENTS=100000 benches/import.sh sqlite     # a quicker look
#
# PostgreSQL: a scratch database is made (and dropped) on 127.0.0.1:5432 as user postgres.
# Needs awk and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?sqlite or postgres}
comments=${COMMENTS:-1000000}
threads=${THREADS:-10000}
bin=target/release/tribune
. benches/lib.sh
scratch_database
export RUST_LOG=warn TRIBUNE_CONFIG=/dev/null
trap drop_scratch EXIT

export_file="$work/disqus.xml"
awk -v posts="$comments" -v threads="$threads" 'BEGIN {
  srand(7)
  print "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
  print "<disqus xmlns=\"http://disqus.com\" xmlns:dsq=\"http://disqus.com/disqus-internals\">"
  for (t = 1; t <= threads; t++)
    printf "<thread dsq:id=\"t%d\"><id/><link>https://news.example/news/story-%d/</link><title>Story %d</title><createdAt>2020-01-01T00:00:00Z</createdAt></thread>\n", t, t, t
  for (p = 1; p <= posts; p++) {
    t = int(rand() * threads) + 1
    parent = ""
    if (last[t] && rand() < 0.33) parent = sprintf("<parent dsq:id=\"p%d\"/>", last[t])
    a = int(rand() * posts / 50)
    printf "<post dsq:id=\"p%d\"><message><![CDATA[<p>Comment %d on story %d: the rocket launch and the budget, again &amp; again. Ракета и бюджет.</p>]]></message><createdAt>2020-01-02T00:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam><author><email>reader%d@old.example</email><name>Reader %d</name><isAnonymous>false</isAnonymous></author><thread dsq:id=\"t%d\"/>%s</post>\n", p, p, t, a, a, t, parent
    last[t] = p
  }
  print "</disqus>"
}' > "$export_file"
echo "export: $(du -h "$export_file" | cut -f1), $threads threads, $comments posts"
"$bin" migrate

run() {
  /usr/bin/time -f "elapsed %e s, peak RSS %M KB" "$bin" import disqus "$export_file"
}
echo "== first import"
start=$(date +%s.%N)
run
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$comments" 'BEGIN { printf "%.0f comments/s\n", n / (e - s) }'
echo "== the same file again (adds nothing)"
run
