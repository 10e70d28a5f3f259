// swift-tools-version:6.1
// The S3 sync benchmarks, kept in their own package so their release build and the benchmark
// harness stay out of `swift test`. Run from this folder, with the sandbox up:
//   ../scripts/services.sh start && . ../.sandbox/env && swift package benchmark
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between checkouts.
let relay = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "AtlasRelayBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "S3SyncBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "S3Sync", package: relay),
                .product(name: "AWSCore", package: relay),
                .product(name: "AWSSigning", package: relay),
            ],
            path: "Benchmarks/S3SyncBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
