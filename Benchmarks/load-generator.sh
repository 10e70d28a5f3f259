#!/usr/bin/env bash
# How much load one app-tester process drives, and what it adds: an open-model run against the
# simulator's /status (a trivial endpoint) at fixed rates, with app-tester's CPU and peak RSS;
# then the sandbox's UAT load (the DCAPT Jira mix, 8 users, closed model) with its CPU per request,
# as one generator and as two side by side (--generator 1/2 and 2/2) merged.
#   Benchmarks/load-generator.sh            # release build, then about a minute
#   SKIP_BUILD=1 BUILD=/work/rel-build/release Benchmarks/load-generator.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
[ -n "${SKIP_BUILD:-}" ] || { swift build -c release --product app-tester >/dev/null; swift build -c release --product atlassian-simulator >/dev/null; }
BUILD="${BUILD:-.build/release}"
DB="loadbench_$(date +%s)"
PORT=$((30000 + RANDOM % 20000))
scripts/product-db.sh create "$DB" jira   # the real Jira 8 database
"$BUILD/atlassian-simulator" --product jira --db "postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$DB" --port "$PORT" \
  > /tmp/loadbench-sim.log 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; sleep 1; scripts/product-db.sh drop "$DB" >/dev/null' EXIT
sleep 2
export ATLASSIAN_TOKEN=simulator-admin-token
for rate in ${RATES:-1000 2000 3000}; do
  echo "== $rate requests/s for 10 s (64 in flight at most)"
  /usr/bin/time -f "app-tester: %e s wall, %U s user + %S s sys CPU, peak RSS %M KB" \
    "$BUILD/app-tester" perf --jira-url "http://127.0.0.1:$PORT" --mix status --rate "$rate" --users 64 --hold 10 \
    2>&1 | grep -E "^status|requests/s|dispatch lag|app-tester:"
done
# CPU per request = (user + sys) / requests, the requests from the run's own count.
cpu_per_request() { # label time-file output-file
  read -r user sys < "$2"
  requests=$(grep -Eo '^[0-9.]+ requests/s over [0-9.]+ s' "$3" | awk '{printf "%d", $1 * $4}')
  awk -v u="$user" -v s="$sys" -v r="$requests" -v l="$1" \
    'BEGIN { printf "%-28s %6d requests, %5.2f s CPU, %.3f ms CPU per request\n", l, r, u + s, (u + s) * 1000 / r }'
}
W=$(mktemp -d)
echo "== the sandbox's UAT load: the DCAPT Jira mix, 8 users, closed model, 20 s"
/usr/bin/time -f "%U %S" -o "$W/one.time" "$BUILD/app-tester" perf --jira-url "http://127.0.0.1:$PORT" --mix jira --project TEST \
  --users 8 --hold 20 --json "$W/one.json" > "$W/one.out" 2>&1
cpu_per_request "one generator" "$W/one.time" "$W/one.out"
GENERATORS=()
for i in 1 2; do
  /usr/bin/time -f "%U %S" -o "$W/g$i.time" "$BUILD/app-tester" perf --jira-url "http://127.0.0.1:$PORT" --mix jira --project TEST \
    --users 8 --hold 20 --generator "$i/2" --json "$W/g$i.json" > "$W/g$i.out" 2>&1 &
  GENERATORS+=($!)
done
wait "${GENERATORS[@]}"   # not a bare wait: the simulator is a child too
for i in 1 2; do cpu_per_request "generator $i of 2" "$W/g$i.time" "$W/g$i.out"; done
"$BUILD/app-tester" merge "$W/g1.json" "$W/g2.json" --output "$W/merged.json" --html "$W/merged.html" | grep -E "requests/s|view_issue"
rm -rf "$W"
