#!/usr/bin/env bash
# The CodeBuild phases' install step, timed: the exact command of the uat project's inline
# buildspec (read out of Examples/codebuild/pipeline-codebuild.yaml), run against the sandbox's
# S3 (SeaweedFS) with the tarball and SHA256SUMS of `make dist` in the artifacts bucket:
# download, sha256sum --check, unpack. Before this, every phase compiled the tools
# (`swift build -c release` in its install phase); scripts/dist.sh's build is that cost.
#
#   make dist && Benchmarks/install-step.sh [RUNS]        (RUNS default 5; prints each and the median)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-5}"
shopt -s nullglob
tarballs=("$ROOT"/dist/atlas-relay-*.tar.gz)
[ "${#tarballs[@]}" -eq 1 ] || { echo "run make dist first (expected one dist/atlas-relay-*.tar.gz)" >&2; exit 2; }

"$ROOT/scripts/services.sh" start >/dev/null
# shellcheck disable=SC1091
source "$ROOT/.sandbox/env"
bucket="bench-install-$(date +%s)"
work="$(mktemp -d)"
trap 'aws s3 rb --force "s3://$bucket" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
aws s3 mb "s3://$bucket" >/dev/null
aws s3 cp --quiet "${tarballs[0]}" "s3://$bucket/atlas-relay/tools/bench/"
aws s3 cp --quiet "$ROOT/dist/SHA256SUMS" "s3://$bucket/atlas-relay/tools/bench/"
echo "name: bench" | aws s3 cp --quiet - "s3://$bucket/atlas-relay/pipeline.yml"

# The install command as CodeBuild gets it: !Sub resolved, /opt and /usr/local moved into $work.
command="$(python3 - "$ROOT/Examples/codebuild/pipeline-codebuild.yaml" "$bucket" "$work" <<'PY'
import sys, yaml
class Loader(yaml.SafeLoader):
    pass
Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None)
template = yaml.load(open(sys.argv[1]), Loader=Loader)
spec = template["Resources"]["UatProject"]["Properties"]["Source"]["BuildSpec"]
for name, value in {"ArtifactsBucket": sys.argv[2], "ToolsVersion": "bench", "ConfigKey": "atlas-relay/pipeline.yml"}.items():
    spec = spec.replace("${%s}" % name, value)
spec = spec.replace("${!", "${")
line = yaml.safe_load(spec)["phases"]["install"]["commands"][0]
print(line.replace("/opt/atlas-relay", sys.argv[3] + "/opt").replace("/usr/local", sys.argv[3] + "/local"))
PY
)"

size=$(stat -c %s "${tarballs[0]}")
times=()
for run in $(seq 1 "$RUNS"); do
  rm -rf "$work/opt" "$work/local" "$work/src" && mkdir -p "$work/local" "$work/src"
  sync
  start=$(date +%s.%N)
  (cd "$work/src" && bash -eo pipefail -c "$command" >/dev/null)
  end=$(date +%s.%N)
  t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
  times+=("$t")
  echo "run $run: $t s"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
tools=$(ls "$work/local/bin" | wc -l)
echo "install step: median $median s over $RUNS runs; $(awk -v s="$size" 'BEGIN { printf "%.0f", s / 1048576 }') MiB tarball, $tools tools, $(du -sm "$work/local/bin" | cut -f1) MiB unpacked"
