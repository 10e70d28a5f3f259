#!/usr/bin/env bash
# One provide → refresh cycle on the real Jira 8 database grown past 1 GB, measured side by side
# with the same cycle done by hand:
#   ours:    data-refresh provide  (pg_dump -Fc streamed into a multipart upload with its SHA-256,
#                                   the shared home synced, the manifest last)
#            data-refresh refresh  (the dump fetched and checked, pg_restore into a fresh database
#                                   created as the product needs, swapped in; the shared home
#                                   synced with delete; sanitisation, settings, the service account;
#                                   a simulator stopped, started and waited for; verified)
#   by hand: pg_dump -Fc | aws s3 cp - s3://…   and   aws s3 cp s3://… - | pg_restore
# then the database work with 1 and with JOBS jobs (default: the cores):
#   ours:    provide --dump-format directory --dump-jobs JOBS (each table uploaded as pg_dump
#            closes it), refresh --jobs JOBS of it; refresh --jobs 1 of the custom dump (streamed)
#   by hand: pg_dump -Fd -j JOBS, aws s3 cp --recursive; aws s3 cp --recursive, pg_restore -j JOBS
# Each of our runs also prints its database step alone (from its log: "database dumped/restored").
# Wall time and peak RSS come from /usr/bin/time (for a pipeline: the largest process in it).
#   Benchmarks/refresh-cycle.sh              # release build, then about 6 minutes
#   ISSUES=230000 SKIP_BUILD=1 Benchmarks/refresh-cycle.sh
#   ISSUES=1000000 REINDEX_RUN=0 Benchmarks/refresh-cycle.sh   # a 5 GB database, about 40 minutes
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-/tmp/atlas-relay-refresh-bench}"
ISSUES="${ISSUES:-230000}"
JOBS="${JOBS:-$(nproc)}"
REINDEX_RUN="${REINDEX_RUN:-1}"
cd "$ROOT"
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --scratch-path "${SCRATCH:-$ROOT/.build-release}" --product data-refresh >/dev/null
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --scratch-path "${SCRATCH:-$ROOT/.build-release}" --product atlassian-simulator >/dev/null
BUILD="${BUILD:-${SCRATCH:-$ROOT/.build-release}/release}"
TOOL="$BUILD/data-refresh"
SIM="$BUILD/atlassian-simulator"
EP="$AWS_ENDPOINT_URL_S3"
RUN="$(date +%s)"
PROD_DB="bench_prod_$RUN"; DEV_DB="bench_dev_$RUN"; HAND_DB="bench_hand_$RUN"; HANDJ_DB="bench_handj_$RUN"
BUCKET="refresh-bench-$RUN"
PORT=$((20000 + RUN % 20000))
url() { echo "postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$1?sslmode=$PGSSLMODE&sslrootcert=$PGSSLROOTCERT"; }
mkdir -p "$WORK"

cleanup() {
  [ -f "$WORK/sim.pid" ] && kill "$(cat "$WORK/sim.pid")" 2>/dev/null || true
  for db in "$PROD_DB" "$DEV_DB" "$HAND_DB" "$HANDJ_DB"; do scripts/product-db.sh drop "$db" >/dev/null 2>&1 || true; done
  aws --endpoint-url "$EP" s3 rb "s3://$BUCKET" --force >/dev/null 2>&1 || true
  rm -rf "$WORK/dev-home" "$WORK/state" "$WORK/sim.pid" "$WORK/dump" "$WORK/hand-dir"
}
trap cleanup EXIT

echo "seeding: the real Jira database grown with $ISSUES issues; DEV an old copy; a small shared home"
scripts/product-db.sh create "$PROD_DB" jira
scripts/product-db.sh create "$DEV_DB" jira
psql -X -q -v issues="$ISSUES" -d "$PROD_DB" -f Benchmarks/grow-jira.sql
DB_SIZE=$(psql -X -A -t -d "$PROD_DB" -c "SELECT pg_database_size(current_database())")
rm -rf "$WORK/prod-home"; mkdir -p "$WORK/prod-home/data/attachments/TEST/10000"
for i in $(seq 1 100); do head -c 65536 /dev/urandom > "$WORK/prod-home/data/attachments/TEST/10000/$((10000 + i))"; done
aws --endpoint-url "$EP" s3 mb "s3://$BUCKET" >/dev/null
export PROD_URL DEV_URL
PROD_URL="$(url "$PROD_DB")"; DEV_URL="$(url "$DEV_DB")"

cat > "$WORK/dev.yml" <<YML
environment: dev
productionBaseURLs: [https://jira.example.com]
jira:
  title: Jira (DEV)
  baseURL: http://127.0.0.1:$PORT
  mailDisabled: true
  banner: DEV copy of PROD
YML
START="PGPASSWORD=$PGPASSWORD $SIM --product jira --db postgres://$PGUSER@$PGHOST:$PGPORT/$DEV_DB --port $PORT > $WORK/sim.log 2>&1 & echo \$! > $WORK/sim.pid"
STOP="[ -f $WORK/sim.pid ] && kill \$(cat $WORK/sim.pid) 2>/dev/null; rm -f $WORK/sim.pid; true"
eval "$START"; sleep 1

measure() { # label command...
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" > "$WORK/$label.log" 2>&1 || { cat "$WORK/$label.log"; exit 1; }
  read -r wall rss < "$WORK/time.out"
  printf '%-22s wall %7.2f s   peak RSS %5d MB%s\n' "$label" "$wall" $((rss / 1024)) "$(dbstep "$WORK/$label.log")"
}
dbstep() { # the seconds of the "database dumped" / "database restored" log lines of one run, summed
  local seconds
  seconds=$(grep -E '\] database (dumped|restored)$' "$1" | grep -oE ' seconds=[0-9.]+' | cut -d= -f2 | paste -sd+ | bc)
  [ -z "$seconds" ] || echo "   (database step ${seconds} s)"
}
export ATLASSIAN_TOKEN=simulator-admin-token
echo "PROD database: $((DB_SIZE / 1048576)) MB (PostgreSQL's size)"
measure "ours provide" "$TOOL" provide --bucket "$BUCKET" --prefix nightly/ --endpoint-url "$EP" \
  --jira-db env:PROD_URL --jira-home "$WORK/prod-home"
DUMP=$(aws --endpoint-url "$EP" s3 ls "s3://$BUCKET/nightly/" --recursive | awk '/\.dump/ {print $3}')
echo "dump: $((DUMP / 1048576)) MB"
if [ "$REINDEX_RUN" = 1 ]; then
measure "ours refresh" "$TOOL" refresh --bucket "$BUCKET" --prefix nightly/ --endpoint-url "$EP" \
  --jira-db env:DEV_URL --jira-home "$WORK/dev-home" --jira-url "http://127.0.0.1:$PORT" \
  --prod-db env:PROD_URL --settings "$WORK/dev.yml" --work "$WORK/state" \
  --stop-command "$STOP" --start-command "$START" --start-timeout 300
ROWS=$(psql -X -A -t -d "$DEV_DB" -c "SELECT count(*) FROM jiraissue")
echo "DEV after our refresh: $ROWS issues"
# Where the time went: each step's start, from the log (the start and reindex steps poll every 5 s).
grep -E "step started|reindex finished|restore complete" "$WORK/ours refresh.log" | sed -E 's/^([0-9T:-]+)\+0000 .*step=([a-z-]+).*/  \1  \2/; s/^([0-9T:-]+)\+0000 .*reindex finished.*/  \1  (reindex finished)/'
fi
# The same again without the reindex: the data path alone, against the same cycle by hand.
measure "ours no reindex" "$TOOL" refresh --bucket "$BUCKET" --prefix nightly/ --endpoint-url "$EP" \
  --jira-db env:DEV_URL --jira-home "$WORK/dev-home" --jira-url "http://127.0.0.1:$PORT" \
  --prod-db env:PROD_URL --settings "$WORK/dev.yml" --work "$WORK/state" --reindex none \
  --stop-command "$STOP" --start-command "$START" --start-timeout 300

# By hand: what an operator types, without checksums, sanitisation, settings or a swap.
measure "by hand dump" bash -c "pg_dump -Fc -d '$PROD_DB' | aws --endpoint-url '$EP' s3 cp - 's3://$BUCKET/byhand/jira.dump'"
psql -X -q -d postgres -c "CREATE DATABASE $HAND_DB"
measure "by hand restore" bash -c "aws --endpoint-url '$EP' s3 cp 's3://$BUCKET/byhand/jira.dump' - | pg_restore --no-owner -d '$HAND_DB'"
ROWS=$(psql -X -A -t -d "$HAND_DB" -c "SELECT count(*) FROM jiraissue")
echo "by hand: $ROWS issues"

# With JOBS jobs, and the custom dump streamed into one pg_restore.
echo "parallel: $JOBS jobs"
measure "ours provide -j$JOBS" "$TOOL" provide --bucket "$BUCKET" --prefix parallel/ --endpoint-url "$EP" \
  --jira-db env:PROD_URL --jira-home "$WORK/prod-home" --dump-format directory --dump-jobs "$JOBS" --work "$WORK/dump"
FILES=$(aws --endpoint-url "$EP" s3 ls "s3://$BUCKET/parallel/" --recursive | grep -c '/database/')
DIRBYTES=$(aws --endpoint-url "$EP" s3 ls "s3://$BUCKET/parallel/" --recursive | awk '/\/database\// {s += $3} END {print s}')
echo "directory dump: $FILES files, $((DIRBYTES / 1048576)) MB"
measure "ours refresh -j$JOBS dir" "$TOOL" refresh --bucket "$BUCKET" --prefix parallel/ --endpoint-url "$EP" \
  --jira-db env:DEV_URL --jira-home "$WORK/dev-home" --jira-url "http://127.0.0.1:$PORT" \
  --prod-db env:PROD_URL --settings "$WORK/dev.yml" --work "$WORK/state" --reindex none --jobs "$JOBS" \
  --stop-command "$STOP" --start-command "$START" --start-timeout 300
ROWS=$(psql -X -A -t -d "$DEV_DB" -c "SELECT count(*) FROM jiraissue")
echo "DEV after the parallel refresh: $ROWS issues"
measure "ours refresh 1 job" "$TOOL" refresh --bucket "$BUCKET" --prefix nightly/ --endpoint-url "$EP" \
  --jira-db env:DEV_URL --jira-home "$WORK/dev-home" --jira-url "http://127.0.0.1:$PORT" \
  --prod-db env:PROD_URL --settings "$WORK/dev.yml" --work "$WORK/state" --reindex none --jobs 1 \
  --stop-command "$STOP" --start-command "$START" --start-timeout 300
measure "by hand dump -j$JOBS" bash -c "rm -rf '$WORK/hand-dir' && pg_dump -Fd -j $JOBS -f '$WORK/hand-dir' -d '$PROD_DB' && aws --endpoint-url '$EP' s3 cp --recursive --only-show-errors '$WORK/hand-dir' 's3://$BUCKET/byhand-dir/'"
psql -X -q -d postgres -c "CREATE DATABASE $HANDJ_DB"
measure "by hand restore -j$JOBS" bash -c "rm -rf '$WORK/hand-dir' && aws --endpoint-url '$EP' s3 cp --recursive --only-show-errors 's3://$BUCKET/byhand-dir/' '$WORK/hand-dir' && pg_restore --no-owner -j $JOBS -d '$HANDJ_DB' '$WORK/hand-dir'"
ROWS=$(psql -X -A -t -d "$HANDJ_DB" -c "SELECT count(*) FROM jiraissue")
echo "by hand -j$JOBS: $ROWS issues"
