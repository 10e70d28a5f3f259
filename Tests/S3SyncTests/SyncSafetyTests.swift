import AWSCore
import AtlasRelayTestSupport
import Foundation
import NIOCore
import Testing

@testable import S3Sync

/// What a careless operator or a hostile server can do to a sync, and what the sync does instead:
/// nothing is written outside the destination, nothing is deleted because a source was missing or
/// empty, two syncs never write one folder, and bad listings are errors, not crashes.
struct SyncSafetyTests {
    /// Moto's S3 keeps keys exactly as given, `..` included, as S3 does.
    static func moto() throws -> S3Client { S3Client(try Sandbox.motoAWSClient()) }

    /// A client of a test server at `baseURL` that tries each request once.
    static func client(for baseURL: String) -> S3Client {
        S3Client(
            AWSClient(
                region: "us-east-1", credentialProvider: .static(accessKeyId: "AKID", secretAccessKey: "secret"),
                endpoints: EndpointResolver(environment: ["AWS_ENDPOINT_URL_S3": baseURL]),
                retryPolicy: RetryPolicy(maxAttempts: 1)))
    }

    static func put(_ s3: S3Client, _ bucket: String, _ objects: [(String, String)]) async throws {
        for (key, text) in objects { try await s3.putObject(bucket: bucket, key: key, data: ByteBuffer(string: text)) }
    }

    @Test func keysThatWouldLeaveTheDestinationAreRefusedAndNothingEscapes() async throws {
        let s3 = try Self.moto()
        try await withSandboxBucket(s3.aws, prefix: "trav") { bucket in
            try await Self.put(
                s3, bucket,
                [
                    ("trav/../../ESCAPED.txt", "escaped"), ("trav/ok.txt", "fine"), ("trav/a/./b.txt", "dot"),
                    ("trav/a//b.txt", "double"), ("trav/sub/../../../UP.txt", "up"),
                ])
            let parent = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: parent) }
            let destination = parent + "/one/two"
            try SyncEngineTests.write([("one/two/stale.txt", 5)], under: parent)
            let engine = try SyncEngine(
                source: .s3(bucket: bucket, prefix: "trav/"), destination: .local(destination), sourceClient: s3,
                configuration: SyncEngineTests.configuration(SyncOptions(delete: true)))
            let plan = try await engine.plan()
            let summary = try await engine.sync()

            #expect(
                Set(plan.refused.map(\.entry.key.string)) == [
                    "../../ESCAPED.txt", "a/./b.txt", "a//b.txt", "sub/../../../UP.txt",
                ])
            #expect(!summary.succeeded, "refused keys are failures")
            #expect(Set(summary.failures.map(\.key)) == Set(plan.refused.map(\.entry.key.string)))
            #expect(summary.deletionsWithheldBecause == .incompleteTransfers, "no deletions after a refusal")
            #expect(
                try SyncEngineTests.files(under: parent).keys.sorted() == ["one/two/ok.txt", "one/two/stale.txt"],
                "nothing written outside the destination, and nothing deleted")
        }
    }

    @Test func uploadsAndCopiesRefuseUnsafeKeysToo() async throws {
        let s3 = try Self.moto()
        try await withSandboxBucket(s3.aws, prefix: "travcp") { bucket in
            try await Self.put(s3, bucket, [("src/../outside.txt", "x"), ("src/in.txt", "y")])
            let engine = try SyncEngine(
                source: .s3(bucket: bucket, prefix: "src/"), destination: .s3(bucket: bucket, prefix: "dst/"),
                sourceClient: s3, destinationClient: s3, configuration: SyncEngineTests.configuration())
            let plan = try await engine.plan()
            let summary = try await engine.sync()
            #expect(plan.refused.map(\.entry.key.string) == ["../outside.txt"])
            #expect(summary.transferred == 1)
            #expect(try await s3.listAllObjects(bucket: bucket, prefix: "dst/").map(\.key) == ["dst/in.txt"])
        }
    }

    @Test func unsafeKeyRules() {
        for key in ["../x", "a/../b", "a/..", "./a", "a/./b", "a//b", "/abs", "a\u{0}b", "a/../"] {
            #expect(SyncKey(key).unsafeReason != nil, "\(key)")
        }
        for key in ["a", "a/b", "..a", "a..", "a/.b", "dir/", "", "ü ñ+%~.txt", "a/...", "a b/c"] {
            #expect(SyncKey(key).unsafeReason == nil, "\(key)")
        }
        #expect(SyncKey.relative("p/x", below: "p/") == "x")
        #expect(SyncKey.relative("other/x", below: "p/") == nil)
        #expect(SyncKey.relative("é", below: "e") == nil, "compared as bytes, not as characters")
    }

    @Test func aListingOutsideTheRequestedPrefixIsAnErrorNotACrash() async throws {
        try await withTestServer { _ in
            .text(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>home/</Prefix>\
                <IsTruncated>false</IsTruncated><Contents><Key>h\u{e9}/x</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>\
                <ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><Size>1</Size></Contents></ListBucketResult>
                """, headers: [("Content-Type", "application/xml")])
        } body: { server in
            let s3 = Self.client(for: server.baseURL)
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let engine = try SyncEngine(
                source: .s3(bucket: "bucket", prefix: "home/"), destination: .local(local), sourceClient: s3)
            await #expect {
                _ = try await engine.plan()
            } throws: { error in
                (error as? SyncError)?.kind == .malformedListing
            }
        }
    }

    @Test func aMissingSourceIsAnErrorAndDeletesNothing() async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            try await Self.put(s3, bucket, [("p/keep.txt", "keep")])
            let engine = try SyncEngine(
                source: .local("/nonexistent/srcTYPO-\(UUID())"), destination: .s3(bucket: bucket, prefix: "p/"),
                destinationClient: s3, configuration: SyncEngineTests.configuration(SyncOptions(delete: true)))
            await #expect {
                _ = try await engine.sync()
            } throws: { error in
                (error as? SyncError)?.kind == .sourceMissing
            }
            #expect(try await s3.listAllObjects(bucket: bucket).map(\.key) == ["p/keep.txt"])
        }
    }

    @Test func anEmptySourceDeletesOnlyWhenAllowed() async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            try await Self.put(s3, bucket, [("p/a.txt", "a"), ("p/b.txt", "b")])
            let empty = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: empty) }

            // Also from S3 to a local folder: an empty snapshot must not wipe a shared home.
            let home = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: home) }
            try SyncEngineTests.write([("attachment.bin", 10)], under: home)
            let restore = try SyncEngine(
                source: .s3(bucket: bucket, prefix: "nothing-here/"), destination: .local(home), sourceClient: s3,
                configuration: SyncEngineTests.configuration(SyncOptions(delete: true)))
            for engine in [
                try SyncEngine(
                    source: .local(empty), destination: .s3(bucket: bucket, prefix: "p/"), destinationClient: s3,
                    configuration: SyncEngineTests.configuration(SyncOptions(delete: true))),
                restore,
            ] {
                await #expect {
                    _ = try await engine.sync()
                } throws: { error in
                    (error as? SyncError)?.kind == .emptySource
                }
            }
            #expect(try await s3.listAllObjects(bucket: bucket).count == 2)
            #expect(try SyncEngineTests.files(under: home).keys.sorted() == ["attachment.bin"])

            let allowed = try SyncEngine(
                source: .local(empty), destination: .s3(bucket: bucket, prefix: "p/"), destinationClient: s3,
                configuration: SyncEngineTests.configuration(SyncOptions(delete: true, allowEmptySource: true)))
            let summary = try await allowed.sync()
            #expect(summary.deleted == 2)
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)
        }
    }

    @Test func overlappingPrefixesAreRefused() throws {
        let s3 = try SyncEngineTests.s3()
        func refused(_ from: String, _ to: String) throws -> Bool {
            do {
                _ = try SyncEngine(
                    source: SyncLocation(parsing: from), destination: SyncLocation(parsing: to), sourceClient: s3,
                    destinationClient: s3)
                return false
            } catch let error as SyncError where error.kind == .overlap {
                return true
            }
        }
        #expect(try refused("s3://bkt/ov/inner", "s3://bkt/ov"))
        #expect(try refused("s3://bkt/ov", "s3://bkt/ov/inner"))
        #expect(try refused("s3://bkt/ov", "s3://bkt/ov/"))
        #expect(try refused("s3://bkt", "s3://bkt/x"))
        #expect(try !refused("s3://bkt/ov", "s3://bkt/ov2"))
        #expect(try !refused("s3://bkt/ov", "s3://other/ov"))
    }

    @Test func aLockedDestinationIsRefusedUntilReleased() async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            try await Self.put(s3, bucket, [("p/a.txt", "a")])
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let engine = try SyncEngine(
                source: .s3(bucket: bucket, prefix: "p/"), destination: .local(local), sourceClient: s3,
                configuration: SyncEngineTests.configuration())
            let lock = try await DestinationLock.acquire(local)
            await #expect {
                _ = try await engine.sync()
            } throws: { error in
                (error as? SyncError)?.kind == .destinationBusy
            }
            // Another process is refused the same way, with exit status 2.
            let other = try await S3SyncToolTests.run(["s3://\(bucket)/p", local])
            #expect(other.status == 2)
            #expect(try SyncEngineTests.files(under: local).isEmpty)
            lock.release()
            #expect(try await engine.sync().transferred == 1)
            #expect(
                try SyncEngineTests.files(under: local).keys.sorted() == ["a.txt"], "the lock leaves nothing behind")
        }
    }

    @Test func folderMarkersBecomeFolders() async throws {
        let s3 = try Self.moto()
        try await withSandboxBucket(s3.aws, prefix: "marker") { bucket in
            try await Self.put(s3, bucket, [("m/", ""), ("m/dir/", ""), ("m/dir/file.txt", "in"), ("m/empty/", "")])
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let engine = try SyncEngine(
                source: .s3(bucket: bucket, prefix: "m/"), destination: .local(local), sourceClient: s3,
                configuration: SyncEngineTests.configuration())
            let summary = try await engine.sync()
            #expect(summary.succeeded, "\(summary.failures)")
            #expect(try SyncEngineTests.files(under: local).keys.sorted() == ["dir/file.txt"])
            var isDirectory: ObjCBool = false
            #expect(
                FileManager.default.fileExists(atPath: local + "/empty", isDirectory: &isDirectory)
                    && isDirectory.boolValue)
            #expect(try await engine.plan().isEmpty, "a second sync finds the folders in place")

            try await Self.put(s3, bucket, [("m/notafolder/", "has bytes")])
            let plan = try await engine.plan()
            let withBytes = try await engine.sync()
            #expect(plan.refused.map(\.entry.key.string) == ["notafolder/"])
            #expect(!withBytes.succeeded)
        }
    }

    @Test func sizesParseWithoutTrapping() throws {
        #expect(try ByteSize.parse("16MiB") == 16 << 20)
        #expect(try ByteSize.parse("8MB") == 8 << 20)
        #expect(try ByteSize.parse(" 5242880 ") == 5_242_880)
        #expect(try ByteSize.parse("1tb") == 1 << 40)
        for text in ["99999999999GiB", "9999999999999999GB", "99999999999999999999", "-5MiB", "1.5GiB", "MiB", "", "5 XB"] {
            #expect(throws: SyncError.self, "\(text)") { try ByteSize.parse(text) }
        }
        #expect(ByteSize.format(5 << 20) == "5.0 MiB")
        #expect(ByteSize.format(1536) == "1.5 KiB")
        #expect(ByteSize.format(12) == "12 B")
    }

    @Test func locationsRefuseMistypedURLsAndBadBucketNames() throws {
        for text in ["s3:/typo", "S3://bucket", "s3:bucket", "s3://Bad_Bucket", "s3://b?prefix=x/p", "s3://ab", "s3://-lead"] {
            #expect(throws: SyncError.self, "\(text)") { try SyncLocation(parsing: text) }
        }
        #expect(try SyncLocation(parsing: "s3://my.bucket-1/x") == .s3(bucket: "my.bucket-1", prefix: "x/"))
        #expect(try SyncLocation(parsing: "./s3:/typo") == .local("./s3:/typo"))
    }

    @Test func aTruncatedPageWithoutAContinuationTokenIsAnErrorNotTheEnd() throws {
        let page = """
            <ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size>\
            <LastModified>2026-01-01T00:00:00Z</LastModified></Contents></ListBucketResult>
            """
        #expect {
            _ = try S3ListPage.parse(Data(page.utf8), bucket: "b")
        } throws: { ($0 as? AWSClientError)?.kind == .malformedResponse }
        let negative = page.replacingOccurrences(of: "<Size>1</Size>", with: "<Size>-1</Size>")
            .replacingOccurrences(of: "true", with: "false")
        #expect {
            _ = try S3ListPage.parse(Data(negative.utf8), bucket: "b")
        } throws: { ($0 as? AWSClientError)?.kind == .malformedResponse }
    }

    @Test func aListingThatRepeatsItsContinuationTokenIsAnErrorNotALoop() async throws {
        // The server ends its loop after 50 pages, so a client that trusted it would return a
        // listing here (and fail the test) rather than hang; no wall-clock limit is needed.
        let (kind, requests) = try await TestHTTPServer.withLoopingS3Listing { server in
            let s3 = S3Client(server.s3AWSClient())
            do {
                _ = try await s3.listAllObjects(bucket: "bucket")
                return (AWSClientError.Kind?.none, server.requests.count)
            } catch let error as AWSClientError {
                return (error.kind, server.requests.count)
            }
        }
        #expect(kind == .malformedResponse)
        #expect(requests == 2, "stopped at the first repeated token")
    }
}
