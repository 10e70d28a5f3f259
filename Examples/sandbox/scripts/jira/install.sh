#!/usr/bin/env bash
# Installs a release of this repository on a Jira node and restarts Jira (the steps are in
# scripts/lib/install-release.sh).
#
#   ATLAS_ENVIRONMENT=dev DEPLOY_BUCKET=atlas-dev-deploy install.sh [COMMIT]
set -euo pipefail

jira_home="${JIRA_HOME:-/var/atlassian/application-data/jira}"

# Jira reads jira-config.properties from its local home at start.
install_config() {
  install -m 0640 "$1/config/jira/jira-config.properties" "${jira_home}/jira-config.properties"
}

# shellcheck source=SCRIPTDIR/../lib/install-release.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/install-release.sh"
install_release jira "$@"
