#!/usr/bin/env bash
# A nightly on a shared home of FILES small files (default 200 000) of which 1 % changed since the
# night before: the incremental snapshot and restore of data-refresh, against today's full copy.
#
#   Benchmarks/nightly-incremental.sh                     # release build, then about 17 minutes
#                                                         # (and ~10 more to empty the bucket)
#   SKIP_BUILD=1 FILES=200000 Benchmarks/nightly-incremental.sh
#   KEEP_BUCKET=1 ...                                     # leave the bucket for a look afterwards
#
# The home is Benchmarks/nightly-home.py's: FILES Jira attachments of 2-8 KiB of incompressible
# bytes (data/attachments/PROJnn/<bucket>/<PROJnn-n>/<id>), made once under $WORK and reused; its
# 1 % change is N/200 files rewritten with new content, N/400 added and N/400 deleted, undone at
# the start of the next run. PROD's database is a small copy of the real Jira 8 database
# (scripts/product-db.sh, not grown: the benchmark is about the home). Everything runs against the
# sandbox's SeaweedFS on the same two cores, in a fresh bucket.
#
# Night 1 sets up both designs (measured too, as the first night's cost); the home then changes,
# and night 2 is the measured night:
#   incremental: data-refresh provide --snapshot-id N --home-shard 0/1   (walk beside the previous
#                manifest, hash only changed files, upload contents the store lacks, part manifest)
#                data-refresh provide --snapshot-id N --merge-home-shards 1  (pg_dump of PROD's
#                Jira, merge and coverage check, manifest last, retention)
#                data-refresh refresh, only its sync-shared-homes step: SyncEngine.sync(sourceListing:)
#                from the content store into DEV's home, then the check that DEV's home is the
#                manifest. The other steps need running applications, so the run state file
#                (<work>/refresh-state.json) says check, stop and restore-databases are done, and
#                --jira-db names a database that does not exist: the refresh syncs the home, then
#                stops at rewrite-settings with "database does not exist" (expected; checked).
#   full copy:   s3sync HOME s3://B/full/N/                 (every file uploaded into a new prefix)
#                s3sync s3://B/full/N/ DEVHOME --delete     (every file downloaded again: the new
#                                                            objects are newer than DEV's files)
# After night 2 both DEV homes must equal PROD's home (diff -r). /usr/bin/time gives wall, CPU
# (user + sys) and peak RSS; "server s" is SeaweedFS's CPU during the step (/proc). Contents moved
# come from the tools: the shard record (uploaded, uploadedBytes), the merge's "shared home
# recorded" line, the refresh's "shared home synced" line, s3sync --json; manifests moved are the
# sizes of the manifest objects each step reads or writes. Storage is `aws s3 ls --summarize`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/tmp/atlas-relay-nightly}"
FILES="${FILES:-200000}"
SCRATCH="${SCRATCH:-/work/rel-build}"
cd "$ROOT"
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"
if [ -z "${SKIP_BUILD:-}" ]; then
  swift build -c release --scratch-path "$SCRATCH" --product data-refresh >/dev/null
  swift build -c release --scratch-path "$SCRATCH" --product s3sync >/dev/null
fi
TOOL="${TOOL:-$SCRATCH/release/data-refresh}"
S3SYNC="${S3SYNC:-$SCRATCH/release/s3sync}"
EP="$AWS_ENDPOINT_URL_S3"
RUN="$(date +%s)"
BUCKET="nightly-bench-$RUN"
PROD_DB="bench_nightly_prod_$RUN"
NO_DB="bench_nightly_absent_$RUN" # never created: the refresh stops there, after the home
N1="20261201T020000Z"; N2="20261202T020000Z"
HOME_DIR="$WORK/prod-home"; DEV_OURS="$WORK/dev-home-incremental"; DEV_FULL="$WORK/dev-home-full"
WEED_PID="$(cat "$ROOT/.sandbox/seaweedfs/pid")"
url() { echo "postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$1?sslmode=$PGSSLMODE&sslrootcert=$PGSSLROOTCERT"; }
s3() { aws --endpoint-url "$EP" s3 "$@"; }
mkdir -p "$WORK/logs"

cleanup() {
  scripts/product-db.sh drop "$PROD_DB" >/dev/null 2>&1 || true
  if [ -z "${KEEP_BUCKET:-}" ]; then
    mkdir -p "$WORK/empty"
    "$S3SYNC" "$WORK/empty" "s3://$BUCKET/" --delete --allow-empty-source --endpoint-url "$EP" >/dev/null 2>&1 || true
    # SeaweedFS removes the bucket's folders server-side, minutes for ~600 000 objects: no read timeout.
    aws --endpoint-url "$EP" --cli-read-timeout 0 s3 rb "s3://$BUCKET" >/dev/null 2>&1 ||
      echo "could not remove s3://$BUCKET; remove it by hand" >&2
  fi
  rm -rf "$DEV_OURS" "$DEV_FULL" "$WORK/state" "$WORK/empty"
}
trap cleanup EXIT

echo "home: $FILES files under $HOME_DIR (made once, reset to its pristine state)"
python3 Benchmarks/nightly-home.py reset "$FILES" "$HOME_DIR"
HOME_BYTES=$(find "$HOME_DIR" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "  $(find "$HOME_DIR" -type f | wc -l) files, $((HOME_BYTES / 1048576)) MiB"
scripts/product-db.sh create "$PROD_DB" jira >/dev/null
export PROD_URL NO_URL
PROD_URL="$(url "$PROD_DB")"; NO_URL="$(url "$NO_DB")"
s3 mb "s3://$BUCKET" >/dev/null
rm -rf "$DEV_OURS" "$DEV_FULL" "$WORK/state"; mkdir -p "$DEV_OURS" "$DEV_FULL"
PORT=$((20000 + RUN % 20000))
cat > "$WORK/dev.yml" <<YML
environment: dev
productionBaseURLs: [https://jira.example.com]
jira:
  title: Jira (DEV)
  baseURL: http://127.0.0.1:$PORT
  mailDisabled: true
  banner: DEV copy of PROD
YML

ROWS=()
# measure night label command... : sets WALL CPU RSS SRV; the log is $WORK/logs/<night>-<label>.log
measure() {
  local night="$1" label="$2"; shift 2
  local log="$WORK/logs/$night-$label.log" t0 t1 status=0
  sync; t0=$(awk '{ print $14 + $15 }' "/proc/$WEED_PID/stat")
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.out" "$@" > "$log" 2>&1 || status=$?
  t1=$(awk '{ print $14 + $15 }' "/proc/$WEED_PID/stat")
  read -r WALL user sys rss < <(tail -1 "$WORK/time.out")
  CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  RSS=$((rss / 1024))
  SRV=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
  STATUS=$status
}
fail() { echo "$1 failed (status $STATUS):" >&2; tail -20 "$2" >&2; exit 1; }
field() { grep "$2" "$1" | grep -o " $3=[0-9]*" | tail -1 | cut -d= -f2; } # log message key
size_of() { s3 ls "s3://$BUCKET/$1" | awk -v name="${1##*/}" '$4 == name { print $3 }'; } # an object's size
row() { # night design step files contents manifests (figures: $WALL $CPU $RSS $SRV)
  ROWS+=("| $1 | $2 | $3 | $WALL | $CPU | $RSS | $SRV | $4 | $5 | $6 |")
  printf '  %-8s %-12s %-36s wall %7.2f s  cpu %6.2f s  rss %4d MB  server %6.2f s  %s  %s\n' \
    "$1" "$2" "$3" "$WALL" "$CPU" "$RSS" "$SRV" "$4" "$5"
}
sum() { awk 'BEGIN { s = 0; for (i = 1; i < ARGC; i++) s += ARGV[i]; printf "%.2f", s }' "$@"; }
keep() { eval "$1=(\"$WALL\" \"$CPU\" \"$RSS\" \"$SRV\")"; } # keep NAME: the last step's figures
# add NAME...: the figures of the steps kept, summed (peak RSS: the largest)
add() {
  local w=() c=() r=() v=() name
  for name in "$@"; do
    eval "w+=(\"\${$name[0]}\"); c+=(\"\${$name[1]}\"); r+=(\"\${$name[2]}\"); v+=(\"\${$name[3]}\")"
  done
  WALL=$(sum "${w[@]}"); CPU=$(sum "${c[@]}"); SRV=$(sum "${v[@]}")
  RSS=$(printf '%s\n' "${r[@]}" | sort -n | tail -1)
}
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
json() { grep -o "\"$2\":[0-9]*" "$1" | cut -d: -f2; } # s3sync --json log, field

night() { # night-label snapshot-id previous-id
  local n="$1" id="$2" prev="$3" log up upb hashed part merged prevm kept dump files down downb deleted
  local shard=() merge=() snap=() restore=() fullup=() fulldown=()
  echo "$n: incremental snapshot $id"
  measure "$n" shard "$TOOL" provide --bucket "$BUCKET" --prefix snapshots/ --endpoint-url "$EP" \
    --jira-db env:PROD_URL --jira-home "$HOME_DIR" --snapshot-id "$id" --home-shard 0/1
  [ "$STATUS" = 0 ] || fail shard "$WORK/logs/$n-shard.log"
  keep shard
  # The shard's log line has no bytes; its record beside the part manifest has them.
  s3 cp "s3://$BUCKET/snapshots/$id/jira/shared-home.manifest.shard-0-of-1.json" "$WORK/shard.json" >/dev/null
  read -r up upb hashed < <(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["uploaded"], r["uploadedBytes"], r["hashed"])' "$WORK/shard.json")
  part=$(size_of "snapshots/$id/jira/shared-home.manifest.shard-0-of-1")
  prevm=0; [ -z "$prev" ] || prevm=$(size_of "snapshots/$prev/jira/shared-home.manifest")
  row "$n" incremental "snapshot: shard 0/1" "$up up ($hashed read and hashed)" "$(mib "$upb") up" \
    "$(mib "$prevm") down, $(mib "$part") up"

  measure "$n" merge "$TOOL" provide --bucket "$BUCKET" --prefix snapshots/ --endpoint-url "$EP" \
    --jira-db env:PROD_URL --jira-home "$HOME_DIR" --snapshot-id "$id" --merge-home-shards 1
  [ "$STATUS" = 0 ] || fail merge "$WORK/logs/$n-merge.log"
  keep merge
  log="$WORK/logs/$n-merge.log"
  merged=$(size_of "snapshots/$id/jira/shared-home.manifest")
  dump=$(field "$log" "database dumped" bytes)
  files=$(field "$log" "shared home recorded" files)
  kept=$((merged + prevm)) # retention reads every kept snapshot's manifest
  row "$n" incremental "snapshot: merge 1 (pg_dump, retention)" "$files recorded" "dump $(mib "$dump") up" \
    "$(mib $((part + kept))) down, $(mib "$merged") up"
  echo "    merge log: shared home recorded files=$files hashed=$(field "$log" "shared home recorded" hashed) uploaded=$(field "$log" "shared home recorded" uploaded) uploadedBytes=$(field "$log" "shared home recorded" uploadedBytes)"
  add shard merge; keep snap
  row "$n" incremental "snapshot: shard + merge" "$up up" "$(mib "$upb") up + dump" \
    "$(mib $((prevm + part + kept))) down, $(mib $((part + merged))) up"

  echo "$n: incremental restore of $id into DEV's home (the refresh's sync-shared-homes step)"
  mkdir -p "$WORK/state"
  printf '{"snapshot":"%s","done":["check","stop","restore-databases"]}' "$id" > "$WORK/state/refresh-state.json"
  measure "$n" restore env ATLASSIAN_TOKEN=unused "$TOOL" refresh --bucket "$BUCKET" --prefix snapshots/ \
    --endpoint-url "$EP" --jira-db env:NO_URL --jira-home "$DEV_OURS" --jira-url "http://127.0.0.1:$PORT" \
    --prod-db env:PROD_URL --settings "$WORK/dev.yml" --work "$WORK/state" --snapshot "$id" --reindex none \
    --stop-command false --start-command false --start-timeout 1
  log="$WORK/logs/$n-restore.log"
  # Expected: the home synced and checked, then a failure at the next step (no such database).
  { [ "$STATUS" = 1 ] && grep -q "shared home synced" "$log" && grep "step failed" "$log" | grep -q "step=rewrite-settings"; } ||
    fail restore "$log"
  keep restore
  down=$(field "$log" "shared home synced" transferred); downb=$(field "$log" "shared home synced" bytes)
  deleted=$(field "$log" "shared home synced" deleted)
  row "$n" incremental "restore: sync-shared-homes" "$down down, $deleted deleted" "$(mib "$downb") down" \
    "$(mib "$merged") down"
  add snap restore
  row "$n" incremental "**total: snapshot + restore**" "$up up, $down down" "$(mib $((upb + downb))) + dump" \
    "$(mib $((prevm + part + kept + merged))) down, $(mib $((part + merged))) up"

  echo "$n: today's full copy into full/$id/"
  measure "$n" full-up "$S3SYNC" "$HOME_DIR" "s3://$BUCKET/full/$id/" --json --endpoint-url "$EP"
  [ "$STATUS" = 0 ] || fail full-up "$WORK/logs/$n-full-up.log"
  keep fullup
  log="$WORK/logs/$n-full-up.log"
  up=$(json "$log" transferred); upb=$(json "$log" transferred_bytes)
  row "$n" "full copy" "s3sync HOME → full/$id/" "$up up" "$(mib "$upb") up" "–"
  measure "$n" full-down "$S3SYNC" "s3://$BUCKET/full/$id/" "$DEV_FULL" --delete --json --endpoint-url "$EP"
  [ "$STATUS" = 0 ] || fail full-down "$WORK/logs/$n-full-down.log"
  keep fulldown
  log="$WORK/logs/$n-full-down.log"
  down=$(json "$log" transferred); downb=$(json "$log" transferred_bytes); deleted=$(json "$log" deleted)
  row "$n" "full copy" "s3sync full/$id/ → DEV --delete" "$down down, $deleted deleted" "$(mib "$downb") down" "–"
  add fullup fulldown
  row "$n" "full copy" "**total: upload + download**" "$up up, $down down" "$(mib $((upb + downb)))" "–"
}

night "night 1" "$N1" ""
echo "the day: 1 % of the home changes"
CHANGE=$(python3 Benchmarks/nightly-home.py change "$FILES" "$HOME_DIR")
echo "  $CHANGE"
sleep 1 # the changed files are older than night 2's start, as overnight
night "night 2" "$N2" "$N1"

echo "checking: both DEV homes equal PROD's home"
diff -r -q "$HOME_DIR" "$DEV_OURS" > "$WORK/logs/diff-incremental.txt" && echo "  incremental DEV home: identical ($(find "$DEV_OURS" -type f | wc -l) files)" || { echo "  incremental DEV home differs:"; head "$WORK/logs/diff-incremental.txt"; exit 1; }
diff -r -q "$HOME_DIR" "$DEV_FULL" > "$WORK/logs/diff-full.txt" && echo "  full-copy DEV home: identical ($(find "$DEV_FULL" -type f | wc -l) files)" || { echo "  full-copy DEV home differs:"; head "$WORK/logs/diff-full.txt"; exit 1; }

echo "storage after night 2"
STORAGE=()
for prefix in snapshots/content/ "snapshots/$N1/" "snapshots/$N2/" "full/$N1/" "full/$N2/"; do
  read -r objects bytes < <(s3 ls "s3://$BUCKET/$prefix" --recursive --summarize | awk '/Total Objects/ { o = $3 } /Total Size/ { s = $3 } END { print o, s }')
  STORAGE+=("| \`$prefix\` | $objects | $(mib "$bytes") |")
  printf '  %-32s %8s objects  %s\n' "$prefix" "$objects" "$(mib "$bytes")"
done

echo
echo "| night | design | step | wall s | CPU s | peak RSS MB | server s | files | contents moved | manifests moved |"
echo "|---|---|---|---:|---:|---:|---:|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "| prefix after night 2 | objects | size |"
echo "|---|---:|---:|"
printf '%s\n' "${STORAGE[@]}"
echo
echo "change: $CHANGE"
echo "logs: $WORK/logs"
