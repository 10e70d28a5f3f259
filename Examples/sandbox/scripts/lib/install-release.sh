# shellcheck shell=bash
# install_release PRODUCT [COMMIT]: installs a release of this repository on a node of PRODUCT and
# restarts its service; sourced by scripts/<product>/install.sh, which defines
# install_config RELEASE_DIR (puts the product's config file where the product reads it).
#
# The commit comes from the argument, else COMMIT_ID (exported by SSM Run Command during a hot
# deploy), else the stack's SSM parameter /atlas/<env>/<product>/code-version (cold deploy, at
# boot). Needs the AWS CLI, tar, sha256sum and jq, and an instance role that may read the deploy
# bucket and the /atlas/<env>/ parameters.
install_release() {
  local product="$1" service="$1"
  local environment="${ATLAS_ENVIRONMENT:?set ATLAS_ENVIRONMENT (dev, uat or prod)}"
  local bucket="${DEPLOY_BUCKET:?set DEPLOY_BUCKET (the environment deploy bucket)}"
  local install_root="${INSTALL_ROOT:-/opt/atlas/${product}}"

  local commit="${2:-${COMMIT_ID:-}}"
  if [[ -z "$commit" ]]; then
    commit="$(aws ssm get-parameter --name "/atlas/${environment}/${product}/code-version" \
      --query Parameter.Value --output text)"
  fi
  if [[ ! "$commit" =~ ^[0-9a-f]{7,40}$ ]]; then
    echo "install.sh: no release to install (code version '${commit}'); deploy a commit first" >&2
    exit 2
  fi

  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT

  echo "installing ${product} ${commit} from s3://${bucket}/releases/${commit}/"
  aws s3 cp --only-show-errors "s3://${bucket}/releases/${commit}/manifest.json" "$work/manifest.json"
  aws s3 cp --only-show-errors "s3://${bucket}/releases/${commit}/code.tar" "$work/code.tar"

  # The manifest records the archive's SHA-256; a damaged or replaced archive is not installed.
  local expected
  expected="$(jq -r '.archive.sha256' "$work/manifest.json")"
  echo "${expected}  ${work}/code.tar" | sha256sum --check --status || {
    echo "install.sh: code.tar does not match its manifest (sha256 ${expected}); not installing" >&2
    exit 1
  }

  local release_dir="${install_root}/releases/${commit}"
  mkdir -p "$release_dir"
  tar -xf "$work/code.tar" -C "$release_dir"

  install_config "$release_dir"

  # Switch atomically, so a failed install leaves the previous release in place.
  ln -sfn "$release_dir" "${install_root}/current.new"
  mv -T "${install_root}/current.new" "${install_root}/current"

  systemctl restart "$service"
  echo "${product} ${commit} installed; ${service} restarted"
}
