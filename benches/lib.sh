# The scratch database every benchmark measures on. Source it from a benchmark script after
# setting $backend (sqlite or postgres):
#   . benches/lib.sh; scratch_database      # exports DATABASE_URL; $work is a temporary directory
# and call drop_scratch from the script's cleanup.
# PostgreSQL: the database is made (and dropped) on 127.0.0.1:5432 as user postgres.
work=$(mktemp -d)
pg_db="tribune_bench_$$"
psql_admin() { psql -q -h 127.0.0.1 -U postgres -d postgres "$@"; }

scratch_database() {
  case "$backend" in
    sqlite) export DATABASE_URL="sqlite://$work/bench.db" ;;
    postgres)
      psql_admin -c "CREATE DATABASE $pg_db"
      export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pg_db" ;;
    *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
  esac
}

drop_scratch() {
  if [ "$backend" = postgres ]; then
    psql_admin -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
  fi
  rm -rf "$work"
}
