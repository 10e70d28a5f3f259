#!/usr/bin/env bash
# Builds every library module's DocC catalog (swift-docc-plugin) into .build/docs/<Module>.doccarchive
# and fails when DocC warns about our own sources (a broken symbol link, a parameter left out of a
# documented list, …). Warnings about dependencies' packages are not ours and are ignored.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
modules=(RelayFoundation RelayHTTP AWSSigning AWSCore S3Sync StackDeploy AtlassianAdmin AtlassianSimulator DataRefresh
    AppTesting Pipeline ToolSupport AtlasRelayTestSupport)
[[ -d Sources/PhaseCLI ]] && modules+=(PhaseCLI)
# `scripts/docs.sh Module…` builds only those.
[[ $# -gt 0 ]] && modules=("$@")
args=()
for module in "${modules[@]}"; do args+=(--target "$module"); done
# Package.swift adds the DocC plugin only when this is set, so other builds neither resolve nor compile it.
export ATLAS_RELAY_DOCS=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mkdir -p .build/docs
swift package --allow-writing-to-directory .build/docs generate-documentation "${args[@]}" \
    --output-path .build/docs --warnings-as-errors 2>&1 | tee "$log" \
    | grep -E '^(warning|error)|Generated' | grep -vE "^warning: '[^']+': found [0-9]+ file" || true
status=${PIPESTATUS[0]}
# Package-graph warnings about other packages' files ("'swift-x': found 1 file(s) which are unhandled")
# are not about our documentation.
ours=$(grep -E '^(warning|error):' "$log" | grep -vE "^warning: '[^']+': found [0-9]+ file" || true)
if [[ $status -ne 0 || -n "$ours" ]]; then
    echo "docs: DocC reported problems in our sources (above); fix them" >&2
    exit 1
fi
echo "docs: ${#modules[@]} catalogs in .build/docs"
