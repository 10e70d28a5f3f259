#!/usr/bin/env bash
# XMLNode.parse (the parser of its own) against Foundation's XMLParser on a 1,000-object
# ListObjectsV2 page, in one process, alternating: Benchmarks/xml-parse.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
OUT="$ROOT/.build-bench-xml"
mkdir -p "$OUT"
swiftc -O -package-name bench "$ROOT/Benchmarks/xml/main.swift" "$ROOT/Benchmarks/xml/FoundationXMLNode.swift" \
  "$ROOT/Sources/AWSCore/XMLNode.swift" "$ROOT/Sources/AWSCore/AWSErrors.swift" -o "$OUT/xml-parse"
"$OUT/xml-parse"
