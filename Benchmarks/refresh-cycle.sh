#!/usr/bin/env bash
# One provide → refresh cycle of the data-refresh tool on a seeded data set, measured: wall time
# and peak RSS (from /usr/bin/time) of each half. Jira only: a PROD database of about 200 MB
# (PostgreSQL's size) and a shared home of about 1 GiB (1,000 × 1 MiB attachments and 2 × 64 MiB
# files, random bytes), restored into a DEV database and shared home while a simulator plays
# DEV's Jira (stopped for the restore, started and waited for, as a real node).
#   Benchmarks/refresh-cycle.sh          # about 3 minutes after the release build
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-/tmp/atlas-relay-refresh-bench}"
cd "$ROOT"
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product data-refresh >/dev/null
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product atlassian-simulator >/dev/null
TOOL="$ROOT/.build/release/data-refresh"
SIM="$ROOT/.build/release/atlassian-simulator"
EP="$AWS_ENDPOINT_URL_S3"
BASE="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT"
RUN="$(date +%s)"
PROD_DB="bench_prod_$RUN"; DEV_DB="bench_dev_$RUN"; BUCKET="refresh-bench-$RUN"
PORT=$((20000 + RUN % 20000))
SIM_PID=""

cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
  for db in "$PROD_DB" "$DEV_DB" "${DEV_DB}_previous" "${DEV_DB}_restore"; do
    psql -X -q "$BASE/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  aws --endpoint-url "$EP" s3 rb "s3://$BUCKET" --force >/dev/null 2>&1 || true
  rm -rf "$WORK/dev-home" "$WORK/state"
}
trap cleanup EXIT

echo "seeding: PROD and DEV databases, 1 GiB shared home"
for db in "$PROD_DB" "$DEV_DB"; do
  psql -X -q -v ON_ERROR_STOP=1 "$BASE/postgres" -c "CREATE DATABASE $db"
  psql -X -q -v ON_ERROR_STOP=1 "$BASE/$db" -f scripts/sql/atlassian-schema.sql -f scripts/sql/atlassian-seed-prod.sql
done
psql -X -q -v ON_ERROR_STOP=1 "$BASE/$PROD_DB" -c "CREATE TABLE jiraissue (id bigint PRIMARY KEY, summary text, description text);
  INSERT INTO jiraissue SELECT g, 'Issue ' || g, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text)
    || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(1, 600000) g;"
DB_SIZE=$(psql -X -A -t "$BASE/$PROD_DB" -c "SELECT pg_database_size(current_database())")
if [ ! -f "$WORK/prod-home/.done" ]; then
  rm -rf "$WORK/prod-home"; mkdir -p "$WORK/prod-home/data/attachments"
  for i in $(seq 1 1000); do
    d="$WORK/prod-home/data/attachments/PROJ/$((i / 100))"; mkdir -p "$d"
    head -c $((1 << 20)) /dev/urandom > "$d/$((10000 + i))"
  done
  mkdir -p "$WORK/prod-home/data/exports-large"
  for i in 1 2; do head -c $((64 << 20)) /dev/urandom > "$WORK/prod-home/data/exports-large/big$i.bin"; done
  mkdir -p "$WORK/prod-home/caches/indexes" && head -c $((8 << 20)) /dev/urandom > "$WORK/prod-home/caches/indexes/seg"
  touch "$WORK/prod-home/.done"
fi
HOME_BYTES=$(du -sb --exclude=caches "$WORK/prod-home" | cut -f1)
aws --endpoint-url "$EP" s3 mb "s3://$BUCKET" >/dev/null

cat > "$WORK/dev.yml" <<YML
environment: dev
productionBaseURLs: [https://jira.example.com]
jira:
  title: Jira (DEV)
  baseURL: http://127.0.0.1:$PORT
  mailDisabled: true
  banner: DEV copy of PROD
YML
START="$SIM --product jira --db $BASE/$DEV_DB --port $PORT > $WORK/sim.log 2>&1 & echo \$! > $WORK/sim.pid"
STOP="[ -f $WORK/sim.pid ] && kill \$(cat $WORK/sim.pid) 2>/dev/null; rm -f $WORK/sim.pid; true"
eval "$START"; sleep 1; SIM_PID="$(cat "$WORK/sim.pid")"

measure() { # label command...
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" > "$WORK/$label.log" 2>&1 || { cat "$WORK/$label.log"; exit 1; }
  read -r wall rss < "$WORK/time.out"
  printf '%-8s wall %7.2f s   peak RSS %5d MB\n' "$label" "$wall" $((rss / 1024))
}
export ATLASSIAN_TOKEN=simulator-admin-token
echo "PROD database: $((DB_SIZE / 1048576)) MB; shared home: $((HOME_BYTES / 1048576)) MB (+ 8 MB of caches left out)"
measure provide "$TOOL" provide --bucket "$BUCKET" --prefix nightly/ --endpoint-url "$EP" \
  --jira-db "$BASE/$PROD_DB" --jira-home "$WORK/prod-home"
DUMP=$(aws --endpoint-url "$EP" s3 ls "s3://$BUCKET/nightly/" --recursive | awk '/database.dump/ {print $3}')
echo "dump: $((DUMP / 1048576)) MB (pg_dump -Fc compresses)"
measure refresh "$TOOL" refresh --bucket "$BUCKET" --prefix nightly/ --endpoint-url "$EP" \
  --jira-db "$BASE/$DEV_DB" --jira-home "$WORK/dev-home" --jira-url "http://127.0.0.1:$PORT" \
  --prod-db "$BASE/$PROD_DB" --settings "$WORK/dev.yml" --work "$WORK/state" \
  --stop-command "$STOP" --start-command "$START" --start-timeout 120
SIM_PID="$(cat "$WORK/sim.pid" 2>/dev/null || true)"
ROWS=$(psql -X -A -t "$BASE/$DEV_DB" -c "SELECT count(*) FROM jiraissue")
FILES=$(find "$WORK/dev-home" -type f | wc -l)
echo "DEV after refresh: $ROWS issues, $FILES files in the shared home"
