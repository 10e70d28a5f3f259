#!/usr/bin/env bash
# The sandbox demo (`make demo`): the whole pipeline on this machine.
#
# Starts (via scripts/services.sh) SeaweedFS, moto and PostgreSQL, then six Atlassian simulators
# (Jira and Confluence for DEV, UAT and PROD), seeds PROD's databases and shared homes, creates the
# buckets and a sample infrastructure git repository from Examples/sandbox/ on a Bitbucket Server
# stand-in, and runs the phases as the CodeBuild projects do: nightly fetching master's head from
# Bitbucket, uat and go-live on the release of the commit that passed. Re-running it works without cleanup: the databases are
# re-seeded, the repository gets a new commit, and the stacks are updated to it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"

DEMO="$ROOT/.sandbox/demo"
BIN="$ROOT/.build/debug"
mkdir -p "$DEMO/run" "$DEMO/reports"

echo "==> building the tools (the first build takes about 12 minutes on 2 cores)"
for product in atlassian-simulator dev-release nightly uat go-live; do
  swift build --product "$product" 2>&1 | grep -E "error|warning: unre" || true
  [ -x "$BIN/$product" ] || { echo "build of $product failed" >&2; exit 1; }
done

# The simulators' control script: Data-Refresher stops and starts DEV's through it.
cat > "$DEMO/control.sh" <<EOF
#!/usr/bin/env bash
# control.sh start|stop ENV PRODUCT: one sandbox simulator (ports: jira 1808N, confluence 1809N).
set -euo pipefail
action="\$1"; env="\$2"; product="\$3"
case "\$env" in dev) n=1 ;; uat) n=2 ;; prod) n=3 ;; *) echo "unknown environment \$env" >&2; exit 2 ;; esac
case "\$product" in jira) port=1808\$n ;; confluence) port=1809\$n ;; *) echo "unknown product \$product" >&2; exit 2 ;; esac
pidfile="$DEMO/run/\$env-\$product.pid"
# The simulators read the password from the environment: a --db URL with it would show it in ps.
export PGPASSWORD='$PGPASSWORD'
case "\$action" in
  start)
    # Only the database's own users sign in (as on a real node): the pipeline's atlas-relay
    # account with the password the environment's database gives it.
    "$BIN/atlassian-simulator" --product "\$product" --port "\$port" --database-users-only \\
      --db "postgres://$PGUSER@$PGHOST:$PGPORT/\${env}_\${product}" --shared-home "$DEMO/homes/\$env/\$product" \\
      > "$DEMO/run/\$env-\$product.log" 2>&1 < /dev/null &
    echo \$! > "\$pidfile"
    for _ in \$(seq 1 100); do
      curl -fsS "http://127.0.0.1:\$port/status" >/dev/null 2>&1 && exit 0
      sleep 0.1
    done
    echo "\$env \$product did not start; see $DEMO/run/\$env-\$product.log" >&2; exit 1 ;;
  stop)
    "$ROOT/scripts/stop-pidfiles.sh" atlassian-simulator "\$pidfile" >/dev/null ;;
  *) echo "usage: control.sh start|stop ENV PRODUCT" >&2; exit 2 ;;
esac
EOF
chmod +x "$DEMO/control.sh"

echo "==> databases and shared homes (PROD's from the real Jira 8 and Confluence 6 dumps; DEV and UAT hold an old copy)"
for env in dev uat prod; do
  for product in jira confluence; do
    "$DEMO/control.sh" stop "$env" "$product"
    db="${env}_${product}"
    scripts/product-db.sh drop "$db"
    # PROD: the real product database with PROD's own settings, mail servers, mail handlers,
    # webhooks and trusted applications written in (scripts/sql/prod-*.sql). DEV and UAT start
    # as a stale copy of it, as after an old refresh; tonight's refresh replaces it.
    scripts/product-db.sh create "$db" "$product"
    mkdir -p "$DEMO/homes/$env/$product"
  done
done
for product in jira confluence; do
  home="$DEMO/homes/prod/$product"
  mkdir -p "$home/data/attachments/DEMO" "$home/caches" "$home/plugins/installed-plugins"
  for i in $(seq 1 50); do head -c $((i * 1024)) /dev/urandom > "$home/data/attachments/DEMO/$i"; done
  echo "cache" > "$home/caches/not-travelling"
  echo "plugin" > "$home/plugins/installed-plugins/relay-demo.jar"
done
rm -rf "$ROOT/.atlas-relay-demo"
for env in dev uat prod; do for product in jira confluence; do "$DEMO/control.sh" start "$env" "$product"; done; done

echo "==> three accounts in moto: DEV 123456789012 (the pipeline's own), UAT 222222222222, PROD 333333333333"
# The demo's S3 is moto's as well: the pipeline reaches UAT's and PROD's buckets with credentials
# from AssumeRole, which only moto's STS issues (SeaweedFS, the tests' S3, has no STS).
export AWS_ENDPOINT_URL_S3="$AWS_ENDPOINT_URL"
# in_account ID COMMAND...: runs COMMAND as the account's administrator
# (OrganizationAccountAccessRole, as in an AWS Organizations member account); DEV's is ours.
in_account() {
  local id="$1"; shift
  if [ "$id" = 123456789012 ]; then "$@"; return; fi
  local key secret token
  read -r key secret token < <(aws sts assume-role --role-arn "arn:aws:iam::$id:role/OrganizationAccountAccessRole" \
    --role-session-name atlas-sandbox-demo --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_SESSION_TOKEN="$token" "$@"
}
ACCOUNTS=(dev:123456789012 uat:222222222222 prod:333333333333)
for entry in "${ACCOUNTS[@]}"; do
  in_account "${entry#*:}" aws s3 mb "s3://atlas-sandbox-${entry%%:*}-deploy" >/dev/null 2>&1 || true
done
aws s3 mb s3://atlas-sandbox-snapshots >/dev/null 2>&1 || true

echo "==> the infrastructure repository ($DEMO/infra)"
INFRA="$DEMO/infra"
mkdir -p "$INFRA"
cp -R Examples/sandbox/. "$INFRA/"
cd "$INFRA"
# The phases run as in CodeBuild: nightly on a checkout fetched from Bitbucket, uat and go-live
# on the release's files, each in a folder of its own. Paths outside the repository are
# therefore absolute, and the repository says where its Bitbucket is.
sed -i "s#\.\./#$DEMO/#g" pipeline.yml
cat >> pipeline.yml <<EOF
bitbucket:
  url: https://127.0.0.1:7990
  token: env:ATLAS_SANDBOX_BITBUCKET_TOKEN
  project: OPS
  repository: infra
  caFile: $DEMO/bitbucket/state/ca.crt
EOF
if [ ! -d .git ]; then
  git init -q -b master
  git config user.email "demo@atlas-relay.invalid"
  git config user.name "Atlas Relay demo"
fi
date -u +"demo run %Y-%m-%dT%H:%M:%SZ" > RELEASE_NOTES
git add -A
git commit -q -m "TEST-1: sandbox infrastructure, $(date -u +%H:%M:%S)"
COMMIT="$(git rev-parse HEAD)"

# The on-premise Bitbucket Server: scripts/bitbucket-standin.py (git over HTTPS with Bearer
# tokens and the build-status APIs, as Atlassian documents them), holding this repository.
export ATLAS_SANDBOX_BITBUCKET_TOKEN=sandbox-bitbucket-token
BB="$DEMO/bitbucket"
if ! { [ -f "$DEMO/run/bitbucket.pid" ] && kill -0 "$(cat "$DEMO/run/bitbucket.pid")" 2>/dev/null &&
  [ -f "$BB/state/port" ]; }; then
  rm -rf "$BB/state" && mkdir -p "$BB/repositories/ops"
  BITBUCKET_STANDIN_TOKEN="$ATLAS_SANDBOX_BITBUCKET_TOKEN" python3 "$ROOT/scripts/bitbucket-standin.py" \
    "$BB/state" "$BB/repositories" --port 7990 > "$DEMO/run/bitbucket.log" 2>&1 < /dev/null &
  echo $! > "$DEMO/run/bitbucket.pid"
  for _ in $(seq 1 100); do [ -f "$BB/state/port" ] && break; sleep 0.1; done
  [ -f "$BB/state/port" ] || { echo "the Bitbucket stand-in did not start; see $DEMO/run/bitbucket.log" >&2; exit 1; }
fi
git init -q --bare "$BB/repositories/ops/infra.git"
git push -q --mirror "$BB/repositories/ops/infra.git"
echo "==> Bitbucket Server stand-in: https://127.0.0.1:7990/scm/OPS/infra.git at $COMMIT"

echo "==> dev-release bootstrap --roles-only: the deploy and read roles in UAT's and PROD's accounts"
# (The CodeBuild stack is left out: moto has no CodeBuild resources in CloudFormation.)
(cd "$INFRA" && "$BIN/dev-release" bootstrap --roles-only --config pipeline.yml --prefix atlas-sandbox --poll-seconds 1 \
  --templates "$ROOT/Examples/codebuild") | sed 's/^/  /'

# The pipeline's service account: PROD's password is the one PROD's fixture database holds;
# DEV's and UAT's are what the refresher writes into their restored databases.
export ATLAS_SANDBOX_PROD_PASSWORD=prod-service-sandbox
export ATLAS_SANDBOX_DEV_PASSWORD=dev-service-sandbox
export ATLAS_SANDBOX_UAT_PASSWORD=uat-service-sandbox
COMMON=(--config pipeline.yml --report-dir "$DEMO/reports" --work "$DEMO/work" --poll-seconds 1)
echo
echo "==> nightly --from-bitbucket (DEV): master's head as Bitbucket has it"
"$BIN/nightly" --from-bitbucket "${COMMON[@]}"
echo
echo "==> uat --from-release --commit $COMMIT --refresh"
"$BIN/uat" --from-release --commit "$COMMIT" --refresh "${COMMON[@]}"
echo
echo "==> go-live --from-release --commit $COMMIT --confirm-prod"
"$BIN/go-live" --from-release --commit "$COMMIT" --confirm-prod "${COMMON[@]}"
echo
echo "==> a hot deploy to UAT: each node drained, installed, started and put back; a node that fails is rolled back"
# UAT's nodes (environments.uat.nodes): scripts/node-standin.py plays EC2, the target groups and
# SSM Run Command (from AWS's API references), running the install commands on this machine in
# each node's folder; everything else goes on to moto.
NODES="$DEMO/nodes"
if ! { [ -f "$DEMO/run/nodes.pid" ] && kill -0 "$(cat "$DEMO/run/nodes.pid")" 2>/dev/null && [ -f "$NODES/state/port" ]; }; then
  rm -rf "$NODES" && mkdir -p "$NODES"
  TG="arn:aws:elasticloadbalancing:us-east-1:222222222222:targetgroup"
  cat > "$NODES/config.json" <<JSON
{"nodes": [
  {"id": "i-0a5b1e0000000001", "ip": "127.0.0.31", "root": "$NODES/jira-1", "appPort": 18180, "tags": {"aws:cloudformation:stack-name": "uat-jira"}, "launchTime": "2026-11-01T10:00:00.000Z"},
  {"id": "i-0a5b1e0000000002", "ip": "127.0.0.32", "root": "$NODES/jira-2", "appPort": 18180, "tags": {"aws:cloudformation:stack-name": "uat-jira"}, "launchTime": "2026-11-01T10:01:00.000Z"},
  {"id": "i-0a5b1e0000000003", "ip": "127.0.0.33", "root": "$NODES/confluence-1", "appPort": 18190, "tags": {"aws:cloudformation:stack-name": "uat-confluence"}, "launchTime": "2026-11-01T10:02:00.000Z"}],
 "targetGroups": [
  {"arn": "$TG/uat-jira/6d0ecf831eec9f09", "port": 18180, "healthCheckPath": "/status", "registered": ["i-0a5b1e0000000001", "i-0a5b1e0000000002"], "deregistrationDelay": 2, "healthyThreshold": 2, "interval": 0.5},
  {"arn": "$TG/uat-confluence/8e1fcb9e2d6a5b31", "port": 18190, "healthCheckPath": "/status", "registered": ["i-0a5b1e0000000003"], "deregistrationDelay": 2, "healthyThreshold": 2, "interval": 0.5}]}
JSON
  python3 "$ROOT/scripts/node-standin.py" "$NODES/state" "$NODES/config.json" > "$DEMO/run/nodes.log" 2>&1 < /dev/null &
  echo $! > "$DEMO/run/nodes.pid"
  for _ in $(seq 1 100); do [ -f "$NODES/state/port" ] && break; sleep 0.1; done
  [ -f "$NODES/state/port" ] || { echo "the node stand-in did not start; see $DEMO/run/nodes.log" >&2; exit 1; }
fi
NODE_ENDPOINT="http://127.0.0.1:$(cat "$NODES/state/port")"
HOT=(env AWS_ENDPOINT_URL_EC2="$NODE_ENDPOINT" AWS_ENDPOINT_URL_SSM="$NODE_ENDPOINT"
  AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2="$NODE_ENDPOINT")
# A second commit, through nightly, so that UAT has a release to go back to.
cd "$INFRA"
date -u +"hot deploy %Y-%m-%dT%H:%M:%SZ" > RELEASE_NOTES
git commit -q -am "TEST-1: a change for the hot deploy, $(date -u +%H:%M:%S)"
NEXT="$(git rev-parse HEAD)"
git push -q --mirror "$BB/repositories/ops/infra.git"
echo "  nightly for $NEXT"
"$BIN/nightly" --from-bitbucket "${COMMON[@]}" > "$DEMO/run/nightly-next.log" 2>&1 ||
  { tail -20 "$DEMO/run/nightly-next.log"; exit 1; }
echo "  uat --deployer hot with jira-2 broken by $NEXT (expected to fail, and to roll back to ${COMMIT:0:12})"
echo "$NEXT" > "$NODES/jira-2/broken"
if "${HOT[@]}" "$BIN/uat" --from-release --commit "$NEXT" --deployer hot "${COMMON[@]}" > "$DEMO/run/uat-hot-broken.log" 2>&1; then
  echo "the broken hot deploy passed; see $DEMO/run/uat-hot-broken.log" >&2; exit 1
fi
sed -n '/^uat /,$p' "$DEMO/run/uat-hot-broken.log" | sed 's/^/  /'
echo "  the nodes run: $(for n in jira-1 jira-2 confluence-1; do printf '%s=%s ' "$n" "$(cut -c1-12 "$NODES/$n/current/.atlas-relay-release")"; done)"
rm -f "$NODES/jira-2/broken"
echo "  uat --deployer hot again, nothing broken"
"${HOT[@]}" "$BIN/uat" --from-release --commit "$NEXT" --deployer hot "${COMMON[@]}" > "$DEMO/run/uat-hot.log" 2>&1 ||
  { tail -30 "$DEMO/run/uat-hot.log"; exit 1; }
sed -n '/^uat /,$p' "$DEMO/run/uat-hot.log" | sed 's/^/  /'
grep -E "draining|installing|is RUNNING|healthy in the load balancer" "$DEMO/run/uat-hot.log" | head -4 | sed 's/^.*\] /  log: /'
echo "  perf-tester against the baseline (${COMMIT:0:12}'s kept UAT run, the commit PROD runs), per action:"
grep -E "\] jmeter_[a-z_]+ (regressed|unchanged|improved|new|missing|inconclusive):" "$DEMO/run/uat-hot.log" |
  sed 's/^.*\] /    /'
echo "  the report: $DEMO/reports/perf-${NEXT:0:12}.html (the baseline's curves dashed beside this run's)"
echo
echo "==> go-live status: which commit runs where"
"$BIN/go-live" status --config pipeline.yml | sed 's/^/  /'
cd "$ROOT"

echo
echo "==> build statuses Bitbucket received (key, state, description)"
python3 - "$BB/state/builds.jsonl" "$COMMIT" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    build = json.loads(line)
    if sys.argv[2] in build["path"]:
        body = build["body"]
        print("  %-22s %-11s %s  (%s)" % (body["key"], body["state"], body.get("description", ""), build["path"].split("/commits/")[0]))
PY
echo
echo "==> what each account holds (stacks; the deploy bucket's pass records)"
for entry in "${ACCOUNTS[@]}"; do
  name="${entry%%:*}" id="${entry#*:}"
  stacks="$(in_account "$id" aws cloudformation describe-stacks --output text \
    --query "Stacks[?starts_with(StackName, '$name-') || starts_with(StackName, 'atlas-sandbox-')].StackName" | tr '\t' ' ')"
  passed="$(in_account "$id" aws s3 ls "s3://atlas-sandbox-$name-deploy/passed/" --recursive | awk '{print $4}' |
    grep -F "$COMMIT" | tr '\n' ' ')"
  printf '  %-4s %s  stacks: %s\n       passed: %s\n' "$name" "$id" "$stacks" "${passed:-none}"
done
echo
echo "Done. Reports (JSON, JUnit XML, the perf HTML): $DEMO/reports"
echo "The infrastructure repository: $INFRA (edit, commit, run the phases again)"
echo "Look around (S3 is moto's in the demo): source .sandbox/env; AWS_ENDPOINT_URL_S3=\$AWS_ENDPOINT_URL aws s3 ls s3://atlas-sandbox-dev-deploy/passed/ --recursive"
echo "The services and simulators stay up; stop them with: make stop"
