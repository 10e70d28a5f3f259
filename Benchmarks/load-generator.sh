#!/usr/bin/env bash
# How much load one app-tester process drives, and what it adds: an open-model run against the
# simulator's /status (a trivial endpoint) at fixed rates, with app-tester's CPU and peak RSS.
#   Benchmarks/load-generator.sh            # release build, then about a minute
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
[ -n "${SKIP_BUILD:-}" ] || { swift build -c release --product app-tester >/dev/null; swift build -c release --product atlassian-simulator >/dev/null; }
DB="loadbench_$(date +%s)"
PORT=$((30000 + RANDOM % 20000))
scripts/product-db.sh create "$DB" jira   # the real Jira 8 database
.build/release/atlassian-simulator --product jira --db "postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$DB" --port "$PORT" \
  > /tmp/loadbench-sim.log 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; sleep 1; scripts/product-db.sh drop "$DB" >/dev/null' EXIT
sleep 2
export ATLASSIAN_TOKEN=simulator-admin-token
for rate in ${RATES:-1000 2000 3000}; do
  echo "== $rate requests/s for 10 s (64 in flight at most)"
  /usr/bin/time -f "app-tester: %e s wall, %U s user + %S s sys CPU, peak RSS %M KB" \
    .build/release/app-tester perf --jira-url "http://127.0.0.1:$PORT" --mix status --rate "$rate" --users 64 --hold 10 \
    2>&1 | grep -E "^status|requests/s|dispatch lag|app-tester:"
done
