// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "AtlasRelay",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RelayFoundation", targets: ["RelayFoundation"]),
        .library(name: "RelayHTTP", targets: ["RelayHTTP"]),
        .library(name: "AWSSigning", targets: ["AWSSigning"]),
        .library(name: "AWSCore", targets: ["AWSCore"]),
        .library(name: "S3Sync", targets: ["S3Sync"]),
        .library(name: "StackDeploy", targets: ["StackDeploy"]),
        .library(name: "AtlassianAdmin", targets: ["AtlassianAdmin"]),
        .library(name: "DataRefresh", targets: ["DataRefresh"]),
        .library(name: "AppTesting", targets: ["AppTesting"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .executable(name: "sandbox-check", targets: ["sandbox-check"]),
        .executable(name: "s3sync", targets: ["s3sync"]),
        .executable(name: "atlassian-admin", targets: ["atlassian-admin"]),
        .executable(name: "atlassian-simulator", targets: ["atlassian-simulator"]),
        .executable(name: "data-refresh", targets: ["data-refresh"]),
        .executable(name: "app-tester", targets: ["app-tester"]),
        .executable(name: "dev-release", targets: ["dev-release"]),
        .executable(name: "nightly", targets: ["nightly"]),
        .executable(name: "uat", targets: ["uat"]),
        .executable(name: "go-live", targets: ["go-live"]),
        .library(name: "AtlassianSimulator", targets: ["AtlassianSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "RelayFoundation",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RelayHTTP",
            dependencies: [
                "RelayFoundation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AWSSigning",
            dependencies: ["RelayFoundation", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AWSCore",
            dependencies: [
                "RelayFoundation", "RelayHTTP",
                "AWSSigning",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "S3Sync",
            dependencies: [
                "RelayFoundation",
                "AWSCore", "CCRC32C",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "CCRC32C"),
        .target(
            name: "StackDeploy",
            dependencies: [
                "RelayFoundation", "RelayHTTP",
                "AWSCore", "S3Sync", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AtlassianAdmin",
            dependencies: [
                "RelayFoundation", "RelayHTTP", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AtlassianSimulator",
            dependencies: [
                "RelayFoundation", "AtlassianAdmin",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DataRefresh",
            dependencies: [
                "RelayFoundation",
                "S3Sync", "AtlassianAdmin", "AWSCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AppTesting",
            dependencies: [
                "RelayFoundation", "AtlassianAdmin",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "RelayFoundation", "RelayHTTP",
                "DataRefresh", "StackDeploy", "AppTesting", "AtlassianAdmin", "S3Sync", "AWSCore",
                .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PhaseCLI",
            dependencies: [
                "Pipeline", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ToolSupport",
            dependencies: [
                "RelayFoundation", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AtlasRelayTestSupport",
            dependencies: [
                "RelayFoundation",
                "AWSCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sandbox-check",
            dependencies: [
                "RelayFoundation",
                "AWSCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Examples/sandbox-check",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "s3sync",
            dependencies: [
                "S3Sync", "AWSCore", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/s3sync",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "atlassian-admin",
            dependencies: [
                "RelayFoundation",
                "AtlassianAdmin", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Examples/atlassian-admin",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "atlassian-simulator",
            dependencies: [
                "AtlassianSimulator", "AtlassianAdmin", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/atlassian-simulator",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "data-refresh",
            dependencies: [
                "DataRefresh", "AtlassianAdmin", "S3Sync", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Examples/data-refresh",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "dev-release",
            dependencies: [
                "PhaseCLI", "Pipeline", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/dev-release", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "nightly",
            dependencies: [
                "PhaseCLI", "Pipeline", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/nightly", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "uat",
            dependencies: [
                "PhaseCLI", "Pipeline", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/uat", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "go-live",
            dependencies: [
                "PhaseCLI", "Pipeline", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/go-live", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "app-tester",
            dependencies: [
                "RelayFoundation",
                "AppTesting", "AtlassianAdmin", "ToolSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/app-tester",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RelayFoundationTests",
            dependencies: ["RelayFoundation"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RelayHTTPTests",
            dependencies: [
                "RelayHTTP", "RelayFoundation", "AtlasRelayTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AWSSigningTests",
            dependencies: [
                "RelayFoundation","AWSSigning"],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "S3SyncTests",
            dependencies: [
                "RelayFoundation", "S3Sync", "AWSCore", "AtlasRelayTestSupport", "s3sync",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AtlassianAdminTests",
            dependencies: [
                "RelayFoundation",
                "AtlassianAdmin", "AtlassianSimulator", "AtlasRelayTestSupport", "atlassian-admin",
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StackDeployTests",
            dependencies: [
                "RelayFoundation",
                "StackDeploy", "AWSCore", "AWSSigning", "S3Sync", "AtlasRelayTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AppTestingTests",
            dependencies: [
                "RelayFoundation",
                "AppTesting", "AtlassianAdmin", "AtlassianSimulator", "AtlasRelayTestSupport",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            resources: [.copy("Schemas"), .copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DataRefreshTests",
            dependencies: [
                "RelayFoundation",
                "DataRefresh", "AtlassianAdmin", "AtlassianSimulator", "S3Sync", "AWSCore", "AWSSigning",
                "AtlasRelayTestSupport", "data-refresh",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "RelayFoundation",
                "Pipeline", "DataRefresh", "StackDeploy", "AtlassianAdmin", "AtlassianSimulator",
                "S3Sync",
                "AWSCore", "AWSSigning", "AtlasRelayTestSupport",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AWSCoreTests",
            dependencies: [
                "RelayFoundation",
                "AWSCore", "AWSSigning", "AtlasRelayTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// The DocC plugin only for `make docs` (scripts/docs.sh sets ATLAS_RELAY_DOCS=1): otherwise every
// build would resolve it and compile its two plugins before anything else.
if Context.environment["ATLAS_RELAY_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
