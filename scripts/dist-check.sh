#!/usr/bin/env bash
# Shows that the operators' tools from `make dist` run on a machine without Swift: unpacks
# dist/atlas-relay-*.tar.gz into a plain Debian 12 (bookworm) made with debootstrap (minbase,
# plus libxml2, the one library the tools load that a minimal Debian lacks), checks there is no
# Swift runtime in it, and runs every tool's --help there. Prints the time of the install step
# (checksum and unpack) as CodeBuild's phases do it.
#
#   make dist && make dist-check          (needs root for debootstrap and chroot; network for the mirror)
#
# Env: DIST_CHECK_ROOT (default /tmp/atlas-relay-dist-check, kept between runs so the Debian
#      download happens once), DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHROOT="${DIST_CHECK_ROOT:-/tmp/atlas-relay-dist-check}/bookworm"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

die() { printf 'dist-check: ERROR: %s\n' "$*" >&2; exit 1; }
log() { printf 'dist-check: %s\n' "$*"; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
shopt -s nullglob
tarballs=("$ROOT"/dist/atlas-relay-*.tar.gz)
[ "${#tarballs[@]}" -eq 1 ] || die "expected one dist/atlas-relay-*.tar.gz (run make dist first), found ${#tarballs[@]}"
tarball="${tarballs[0]}"
[ -f "$ROOT/dist/SHA256SUMS" ] || die "dist/SHA256SUMS is missing; run make dist"

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
if [ ! -x "$CHROOT/bin/sh" ]; then
  log "making a plain Debian 12 in $CHROOT (once)"
  mkdir -p "$CHROOT"
  debootstrap --variant=minbase --include=libxml2,ca-certificates bookworm "$CHROOT" "$MIRROR" >"$CHROOT.log" 2>&1 ||
    { tail -n 20 "$CHROOT.log" >&2; die "debootstrap failed (log: $CHROOT.log)"; }
fi
if find "$CHROOT" -xdev \( -name 'libswiftCore.so*' -o -name 'swift' -o -name 'libFoundation.so*' \) -print -quit | grep -q .; then
  die "the chroot holds a Swift runtime or toolchain; it would prove nothing"
fi

# The install step, as the phases' buildspecs run it: check against SHA256SUMS, then unpack.
rm -rf "$CHROOT/opt/atlas-relay" && mkdir -p "$CHROOT/opt/atlas-relay"
start=$(date +%s.%N)
(cd "$ROOT/dist" && sha256sum --check --strict --quiet SHA256SUMS)
tar -xzf "$tarball" --strip-components=1 -C "$CHROOT/opt/atlas-relay"
end=$(date +%s.%N)
size=$(stat -c %s "$tarball")
log "install step (sha256sum --check, tar -xz): $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s for $(awk -v s="$size" 'BEGIN { printf "%.0f", s / 1048576 }') MiB"

# Swift reads a program's arguments from /proc/self/cmdline, as a real machine has it.
mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc"
trap 'umount "$CHROOT/proc" 2>/dev/null || true' EXIT
failed=0
for tool in "$CHROOT"/opt/atlas-relay/bin/*; do
  name="$(basename "$tool")"
  if out="$(chroot "$CHROOT" env -i PATH=/usr/bin:/bin "/opt/atlas-relay/bin/$name" --help 2>&1)"; then
    log "ok   $name: $(printf '%s\n' "$out" | grep -m1 -i 'overview\|usage' || true)"
  else
    log "FAIL $name: $(printf '%s\n' "$out" | head -3)"
    failed=1
  fi
done
[ "$failed" -eq 0 ] || die "a tool does not run on plain Debian 12 without Swift"

# Real work too when the sandbox is up: s3sync uploads 200 files to SeaweedFS and reads them back (HTTP, signing, the event loop and the file system under the static runtime).
if [ -f "$ROOT/.sandbox/env" ]; then
  # shellcheck disable=SC1091
  source "$ROOT/.sandbox/env"
  bucket="dist-check-$(date +%s)"
  if aws s3 mb "s3://$bucket" >/dev/null 2>&1; then
    run() {
      chroot "$CHROOT" env -i PATH=/usr/bin:/bin AWS_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
        AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3="$AWS_ENDPOINT_URL_S3" \
        /opt/atlas-relay/bin/s3sync "$@"
    }
    rm -rf "$CHROOT/tmp/data" "$CHROOT/tmp/data-back" && mkdir -p "$CHROOT/tmp/data/a" "$CHROOT/tmp/data/b"
    for i in $(seq 1 100); do
      head -c $((i * 997)) /dev/urandom >"$CHROOT/tmp/data/a/$i"
      head -c $((i * 13)) /dev/urandom >"$CHROOT/tmp/data/b/$i"
    done
    if run /tmp/data "s3://$bucket/data" --json >/dev/null && run "s3://$bucket/data" /tmp/data-back --json >/dev/null &&
      diff -r "$CHROOT/tmp/data" "$CHROOT/tmp/data-back" >/dev/null; then
      log "ok   s3sync in the chroot: 200 files to s3://$bucket and back, identical"
    else
      failed=1
      log "FAIL s3sync in the chroot could not sync its files to the sandbox's S3 and back"
    fi
    aws s3 rb --force "s3://$bucket" >/dev/null 2>&1 || true
    [ "$failed" -eq 0 ] || die "s3sync does not work on plain Debian 12 without Swift"
  fi
fi
log "every tool runs on Debian 12 without Swift (libxml2 is the one library added)"
