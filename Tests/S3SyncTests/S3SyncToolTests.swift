import AtlasRelayTestSupport
import Foundation
import Testing

/// The `s3sync` executable, run as a user would, against SeaweedFS.
struct S3SyncToolTests {
    static var binary: URL {
        // Test bundles live beside the built products.
        var url = Bundle.main.bundleURL
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("s3sync").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("s3sync")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for key in [
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ] {
            environment[key] = Sandbox.environment[key]
        }
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self)
        )
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func uploadDryRunFiltersAndExitCodes() async throws {
        _ = try Sandbox.s3Endpoint()
        let s3 = try S3ClientTests.client()
        let bucket = try await S3ClientTests.bucket(s3)
        let local = try SyncEngineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: local) }
        try SyncEngineTests.write([("keep/a.txt", 10), ("keep/b.log", 10), ("drop/c.txt", 10)], under: local)

        let dry = try Self.run([
            local, "s3://\(bucket)/home", "--dryrun", "--exclude", "*", "--include", "keep/*", "--exclude", "*.log",
        ])
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("(dryrun) upload: \(local)/keep/a.txt to s3://\(bucket)/home/keep/a.txt  [new]"))
        #expect(!dry.stdout.contains("b.log"), "the last matching rule wins")
        #expect(!dry.stdout.contains("c.txt"))
        #expect(try await s3.listAllObjects(bucket: bucket).isEmpty, "a dry run changes nothing")

        let real = try Self.run([local, "s3://\(bucket)/home", "--json", "--exclude=drop/*"])
        #expect(real.status == 0)
        let summary = try Self.json(real.stdout)
        #expect(summary["transferred"] as? Int == 2)
        #expect(summary["succeeded"] as? Bool == true)
        #expect(Set(try await s3.listAllObjects(bucket: bucket).map(\.key)) == ["home/keep/a.txt", "home/keep/b.log"])

        let again = try Self.json(try Self.run([local, "s3://\(bucket)/home", "--json", "--exclude=drop/*"]).stdout)
        #expect(again["transferred"] as? Int == 0)
        #expect(again["unchanged"] as? Int == 2)

        let bad = try Self.run([local, "s3://\(bucket)/home", "--shard", "4/4"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("shard 4/4 is impossible"))
        let smallPart = try Self.run([local, "s3://\(bucket)/home", "--part-size", "1MiB"])
        #expect(smallPart.status != 0)
        #expect(
            smallPart.stderr.contains(
                "--part-size 1MiB is below 5.0 MiB (S3 takes parts of 5 MiB to 5 GiB); use at least 5.0 MiB"))
        let badRange = try Self.run([local, "s3://\(bucket)/home", "--range-size", "sixteen"])
        #expect(badRange.status != 0)
        #expect(badRange.stderr.contains("--range-size: 'sixteen' is not a size"))

        let down = try Self.run([
            local, "s3://\(bucket)/home", "--endpoint-url", "http://127.0.0.1:9", "--give-up-after", "1",
        ])
        #expect(down.status == 1)
        #expect(down.stderr.contains("could not reach 127.0.0.1:9"))
    }
}
