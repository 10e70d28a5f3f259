#!/usr/bin/env bash
# `make dist`: the operators' tools as one tarball a CodeBuild phase downloads instead of building.
#
# Builds every executable product of Package.swift except the ones only the sandbox uses
# (atlassian-simulator, sandbox-check) in release mode with the Swift standard library and
# Foundation linked statically, so the binaries run on a machine without a Swift toolchain
# (scripts/dist-check.sh proves it). Writes
#   dist/atlas-relay-<version>-linux-<arch>.tar.gz   (atlas-relay-<version>/bin/<tool>)
#   dist/SHA256SUMS                                   (check with: cd dist && sha256sum -c SHA256SUMS)
# <version> is AtlasRelayVersion.current, <arch> is `uname -m`. The build folder is .build-dist,
# apart from the debug build in .build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SWIFT="${SWIFT:-swift}"
SCRATCH="$ROOT/.build-dist"
DIST="$ROOT/dist"
# Executables that serve the sandbox only, never an operator or a phase.
EXCLUDED="atlassian-simulator sandbox-check"

die() { echo "dist: $*" >&2; exit 1; }

VERSION_FILE="Sources/RelayFoundation/AtlasRelayVersion.swift"
version="$(sed -n 's/^ *public static let current = "\([^"]*\)".*/\1/p' "$VERSION_FILE")"
[[ -n "$version" ]] || die "no 'public static let current = \"…\"' in $VERSION_FILE; fix the pattern in $0"
arch="$(uname -m)"

tools="$("$SWIFT" package dump-package | EXCLUDED="$EXCLUDED" python3 -c '
import json, os, sys
excluded = set(os.environ["EXCLUDED"].split())
for product in json.load(sys.stdin)["products"]:
    if "executable" in product["type"] and product["name"] not in excluded:
        print(product["name"])
')"
[[ -n "$tools" ]] || die "Package.swift lists no executable products to ship"

build() { "$SWIFT" build -c release --static-swift-stdlib --scratch-path "$SCRATCH" "$@"; }
# One product at a time (swift build takes one --product); the shared modules compile once.
for tool in $tools; do
    echo "dist: building $tool (release, static Swift stdlib)"
    build --product "$tool"
done
bindir="$(build --show-bin-path)"

name="atlas-relay-$version"
tarball="$name-linux-$arch.tar.gz"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/bin" "$DIST"
for tool in $tools; do
    install -m 0755 "$bindir/$tool" "$stage/$name/bin/$tool"
done
strip "$stage/$name/bin/"* 2>/dev/null || echo "dist: strip not available; shipping unstripped binaries" >&2
# Stable archive: sorted names, fixed owner, no timestamps in the gzip header.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -n -9 >"$DIST/$tarball.tmp"
mv "$DIST/$tarball.tmp" "$DIST/$tarball"
(cd "$DIST" && sha256sum "$tarball" >SHA256SUMS)

echo "dist: $DIST/$tarball ($(du -h "$DIST/$tarball" | cut -f1)), tools: $(echo $tools)"
echo "dist: verify with: (cd dist && sha256sum -c SHA256SUMS)"
