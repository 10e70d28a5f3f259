#!/usr/bin/env bash
# Installs a release of this repository on a Confluence node and restarts Confluence (the steps
# are in scripts/lib/install-release.sh).
#
#   ATLAS_ENVIRONMENT=dev DEPLOY_BUCKET=atlas-dev-deploy install.sh [COMMIT]
set -euo pipefail

confluence_install="${CONFLUENCE_INSTALL:-/opt/atlassian/confluence}"

# Confluence finds its home through confluence-init.properties in the installation directory.
install_config() {
  install -m 0644 "$1/config/confluence/confluence-init.properties" \
    "${confluence_install}/confluence/WEB-INF/classes/confluence-init.properties"
}

# shellcheck source=SCRIPTDIR/../lib/install-release.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/install-release.sh"
install_release confluence "$@"
