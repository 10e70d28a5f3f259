#!/usr/bin/env bash
# Fuzzes the listing and size parsers with libFuzzer for a bounded time (default 30 s):
#   scripts/fuzz.sh [seconds]
# The target is compiled with swiftc from the few source files it exercises (they need only
# Foundation), with -sanitize=fuzzer,address, so no package rebuild is needed. Leak reports are
# off: FoundationXML leaks an error object per malformed document, which is not ours. A crash writes its
# input under .build-fuzz/ and exits non-zero.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SECONDS_TO_RUN="${1:-${FUZZ_SECONDS:-30}}"
OUT="$ROOT/.build-fuzz"
mkdir -p "$OUT/corpus" "$OUT/crashes"
cp -n "$ROOT"/Fuzz/ListingAndSizes/corpus/* "$OUT/corpus/" 2>/dev/null || true

swiftc -sanitize=fuzzer,address -parse-as-library -package-name AtlasRelayFuzz -O -g \
  "$ROOT/Fuzz/ListingAndSizes/main.swift" \
  "$ROOT/Sources/S3Sync/S3ListPage.swift" "$ROOT/Sources/S3Sync/S3ObjectSummary.swift" "$ROOT/Sources/S3Sync/ByteSize.swift" \
  "$ROOT/Sources/S3Sync/SyncKey.swift" "$ROOT/Sources/S3Sync/SyncError.swift" \
  "$ROOT/Sources/AWSCore/XMLNode.swift" "$ROOT/Sources/AWSCore/AWSErrors.swift" \
  "$ROOT/Sources/AWSSigning/AWSTimestamps.swift" \
  -o "$OUT/fuzz-listing-and-sizes" 2> >(grep -v "Cannot export local symbol" >&2)

echo "fuzz: listing and size parsers for ${SECONDS_TO_RUN} s"
ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "$OUT/fuzz-listing-and-sizes" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=10 -detect_leaks=0 -rss_limit_mb=4096 \
  -artifact_prefix="$OUT/crashes/" -print_final_stats=1 "$OUT/corpus" 2>&1 | tail -n 25
