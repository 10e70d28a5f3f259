import AWSCore
import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

/// The `s3sync` executable, run as a user would, against SeaweedFS.
struct S3SyncToolTests {
    static var binary: URL { URL(fileURLWithPath: BuiltProducts.path("s3sync")) }

    /// The sandbox's S3 settings for the tool, with other credentials when given.
    static func environment(credentials: (String, String)? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in [
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ] {
            environment[key] = Sandbox.environment[key]
        }
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        if let (key, secret) = credentials {
            environment["AWS_ACCESS_KEY_ID"] = key
            environment["AWS_SECRET_ACCESS_KEY"] = secret
        }
        return environment
    }

    /// Runs the tool to its end without holding a thread of the cooperative pool (the suite runs
    /// in parallel on two cores; a blocking wait there delays every other test's timers).
    static func run(_ arguments: [String], credentials: (String, String)? = nil) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let output = try await ProcessRunner.run(
            binary.path, arguments, environment: environment(credentials: credentials), timeout: .seconds(300))
        return (
            output.status, String(decoding: output.stdout, as: UTF8.self),
            String(decoding: output.stderr, as: UTF8.self)
        )
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func uploadDryRunFiltersAndExitCodes() async throws {
        _ = try Sandbox.s3Endpoint()
        let s3 = try S3ClientTests.client()
        try await S3ClientTests.withBucket(s3) { bucket in
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            try SyncEngineTests.write([("keep/a.txt", 10), ("keep/b.log", 10), ("drop/c.txt", 10)], under: local)

            let dry = try await Self.run([
                local, "s3://\(bucket)/home", "--dryrun", "--exclude", "*", "--include", "keep/*", "--exclude",
                "*.log",
            ])
            #expect(dry.status == 0)
            #expect(
                dry.stdout.contains("(dryrun) upload: \(local)/keep/a.txt to s3://\(bucket)/home/keep/a.txt  [new]"))
            #expect(!dry.stdout.contains("b.log"), "the last matching rule wins")
            #expect(!dry.stdout.contains("c.txt"))
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty, "a dry run changes nothing")

            let real = try await Self.run([local, "s3://\(bucket)/home", "--json", "--exclude=drop/*"])
            #expect(real.status == 0)
            let summary = try Self.json(real.stdout)
            #expect(summary["transferred"] as? Int == 2)
            #expect(summary["succeeded"] as? Bool == true)
            #expect(
                Set(try await s3.listAllObjects(bucket: bucket).map(\.key)) == ["home/keep/a.txt", "home/keep/b.log"])

            let again = try Self.json(
                try await Self.run([local, "s3://\(bucket)/home", "--json", "--exclude=drop/*"]).stdout)
            #expect(again["transferred"] as? Int == 0)
            #expect(again["unchanged"] as? Int == 2)

            let bad = try await Self.run([local, "s3://\(bucket)/home", "--shard", "4/4"])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("shard 4/4 is impossible"))
            let smallPart = try await Self.run([local, "s3://\(bucket)/home", "--part-size", "1MiB"])
            #expect(smallPart.status != 0)
            #expect(
                smallPart.stderr.contains(
                    "--part-size 1MiB is below 5.0 MiB (S3 takes parts of 5 MiB to 5 GiB); use at least 5.0 MiB"))
            let badRange = try await Self.run([local, "s3://\(bucket)/home", "--range-size", "sixteen"])
            #expect(badRange.status != 0)
            #expect(badRange.stderr.contains("--range-size: 'sixteen' is not a size"))

            let down = try await Self.run([
                local, "s3://\(bucket)/home", "--endpoint-url", "http://127.0.0.1:9", "--give-up-after", "1",
            ])
            #expect(down.status == 1)
            #expect(down.stderr.contains("could not reach 127.0.0.1:9"))
        }
    }

    @Test func badInputAndRefusalsExitTwoAndTouchNothing() async throws {
        _ = try Sandbox.s3Endpoint()
        let s3 = try S3ClientTests.client()
        try await S3ClientTests.withBucket(s3) { bucket in
            try await s3.putObject(bucket: bucket, key: "p/keep.txt", data: .init(string: "keep"))
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let target = "s3://\(bucket)/p"
            let cases: [[String]] = [
                [local + "/srcTYPO", target, "--delete"],
                [local, target, "--delete"],
                [local, target, "--memory-limit", "99999999999GiB"],
                [local, target, "--part-size", "9999999999999999GB"],
                [local, target, "--size-only", "--checksum"],
                [local, target, "--sse-kms-key-id", "alias/k"],
                [local, target, "--concurrency", "0"],
                [local, target, "--stale-upload-age", "-5"],
                [local, "s3:/typo"],
                [local, "s3://Bad_Bucket/p"],
                [local, "s3://b?prefix=x"],
                [local, target, "--no-such-flag"],
                ["s3://\(bucket)/p", "s3://\(bucket)/p/inner"],
            ]
            for arguments in cases {
                let result = try await Self.run(arguments)
                #expect(result.status == 2, "\(arguments): \(result.status) \(result.stderr)")
                #expect(!result.stderr.isEmpty, "\(arguments) says why")
            }
            #expect(try await s3.listAllObjects(bucket: bucket).map(\.key) == ["p/keep.txt"])
            #expect(!FileManager.default.fileExists(atPath: "s3:/typo"))

            let allowed = try await Self.run([local, target, "--delete", "--allow-empty-source"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)
        }
    }

    @Test func aKeyThatLeavesTheDestinationFailsTheRunWithStatusOne() async throws {
        let s3 = try SyncSafetyTests.moto()
        try await withSandboxBucket(s3.aws, prefix: "travtool") { bucket in
            try await s3.putObject(bucket: bucket, key: "trav/../../ESCAPED.txt", data: .init(string: "x"))
            let parent = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let result = try await Self.runMoto([
                "s3://\(bucket)/trav", parent + "/a/b", "--endpoint-url", try Sandbox.motoEndpoint(),
            ])
            #expect(result.status == 1, "\(result.stderr)\(result.stdout)")
            #expect(result.stdout.contains("ESCAPED.txt"), "the refused key is reported")
            #expect(!FileManager.default.fileExists(atPath: parent + "/ESCAPED.txt"))
        }
    }

    /// Runs s3sync with moto's credentials.
    static func runMoto(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await run(arguments, credentials: ("AKIDMOTOBASE0000", "moto-secret"))
    }

    @Test func aHangingListingEndsWithinGiveUpAfter() async throws {
        for behaviour in [
            StallingHTTPServer.Behaviour.silent, .drip(every: .seconds(1), contentType: "application/xml"),
        ] {
            let (result, took) = try await withStallingServer(behaviour) { server in
                let local = try SyncEngineTests.temporaryDirectory()
                defer { try? FileManager.default.removeItem(atPath: local) }
                let started = ContinuousClock.now
                let result = try await Self.run([
                    "s3://bucket/p", local, "--endpoint-url", server.baseURL, "--give-up-after", "3",
                ])
                return (result, ContinuousClock.now - started)
            }
            #expect(result.status == 1, "\(behaviour): \(result.stderr)")
            // The request timeout is 300 s: without the bound the listing would run that long. Loose
            // (a page is given at least 5 s; a full parallel run delays timers by seconds).
            #expect(took < .seconds(60), "\(behaviour): took \(took) with --give-up-after 3")
        }
    }
}
