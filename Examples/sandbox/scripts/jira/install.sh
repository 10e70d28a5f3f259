#!/usr/bin/env bash
# Installs a release of this repository on a Jira node and restarts Jira.
#
# Run by the node's bootstrap at launch (cold deploy: the version comes from the stack's SSM
# parameter /atlas/<env>/jira/code-version) and by SSM Run Command during a hot deploy
# (COMMIT_ID is exported first). Needs the AWS CLI, tar, sha256sum and jq, and an instance role
# that may read the deploy bucket and the /atlas/<env>/ parameters.
#
#   ATLAS_ENVIRONMENT=dev DEPLOY_BUCKET=atlas-dev-deploy install.sh [COMMIT]
set -euo pipefail

product=jira
service=jira
environment="${ATLAS_ENVIRONMENT:?set ATLAS_ENVIRONMENT (dev, uat or prod)}"
bucket="${DEPLOY_BUCKET:?set DEPLOY_BUCKET (the environment deploy bucket)}"
install_root="${INSTALL_ROOT:-/opt/atlas/${product}}"
jira_home="${JIRA_HOME:-/var/atlassian/application-data/jira}"

commit="${1:-${COMMIT_ID:-}}"
if [[ -z "$commit" ]]; then
  commit="$(aws ssm get-parameter --name "/atlas/${environment}/${product}/code-version" \
    --query Parameter.Value --output text)"
fi
if [[ ! "$commit" =~ ^[0-9a-f]{7,40}$ ]]; then
  echo "install.sh: no release to install (code version '${commit}'); deploy a commit first" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "installing ${product} ${commit} from s3://${bucket}/releases/${commit}/"
aws s3 cp --only-show-errors "s3://${bucket}/releases/${commit}/manifest.json" "$work/manifest.json"
aws s3 cp --only-show-errors "s3://${bucket}/releases/${commit}/code.tar" "$work/code.tar"

# The manifest records the archive's SHA-256; a damaged or replaced archive is not installed.
expected="$(jq -r '.archive.sha256' "$work/manifest.json")"
echo "${expected}  ${work}/code.tar" | sha256sum --check --status || {
  echo "install.sh: code.tar does not match its manifest (sha256 ${expected}); not installing" >&2
  exit 1
}

release_dir="${install_root}/releases/${commit}"
mkdir -p "$release_dir"
tar -xf "$work/code.tar" -C "$release_dir"

# Jira reads jira-config.properties from its local home at start.
install -m 0640 "${release_dir}/config/${product}/jira-config.properties" "${jira_home}/jira-config.properties"

# Switch atomically, so a failed install leaves the previous release in place.
ln -sfn "$release_dir" "${install_root}/current.new"
mv -T "${install_root}/current.new" "${install_root}/current"

systemctl restart "$service"
echo "${product} ${commit} installed; ${service} restarted"
