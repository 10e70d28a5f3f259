import AWSCore
import Foundation
import RelayFoundation

// Scoped resources for tests: each helper runs a body and then awaits the resource's cleanup,
// whether the body returned or threw, so a server, proxy, bucket or database never outlives the
// test that made it (`defer { Task { await server.stop() } }` does not wait, and loses what the
// cleanup throws).
//
// The helpers take the caller's isolation (`#isolation`), so the bodies need not be `@Sendable`
// and their results need not be `Sendable`.

/// Runs `body`, then awaits `cleanup` whether `body` returned or threw.
///
/// ```swift
/// let store = try await JiraSettingsStore.open(location)
/// try await withCleanup {
///     #expect(try await store.properties()["jira.title"] == .string("Jira"))
/// } cleanup: {
///     await store.close()
/// }
/// ```
///
/// - Parameters:
///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
///   - body: The work that uses the resource.
///   - cleanup: Releases the resource; it runs once, after `body`, even when `body` threw or the
///     task was cancelled (in the same task, so a cleanup that checks for cancellation may stop
///     early then; ``Sandbox`` sweeps buckets left that way).
/// - Returns: What `body` returned.
/// - Throws: What `body` threw (an error `cleanup` throws then is dropped: the body's error says
///   what went wrong first); when `body` returned, what `cleanup` threw.
public func withCleanup<Value>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> Value,
    cleanup: () async throws -> Void
) async throws -> Value {
    let value: Value
    do {
        value = try await body()
    } catch {
        try? await cleanup()
        throw error
    }
    try await cleanup()
    return value
}

/// Makes a resource, runs `body` with it, then awaits `cleanup` on it whether `body` returned or
/// threw; when `make` throws, neither runs.
///
/// ```swift
/// try await withResource {
///     try await AtlassianSimulator.start(configuration)
/// } cleanup: { simulator in
///     await simulator.stop()
/// } body: { simulator in
///     #expect(simulator.port > 0)
/// }
/// ```
///
/// - Parameters:
///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
///   - make: Creates the resource.
///   - cleanup: Releases it, after `body`.
///   - body: The work that uses it.
/// - Returns: What `body` returned.
/// - Throws: What `make` or `body` threw; when `body` returned, what `cleanup` threw.
public func withResource<Resource, Value>(
    isolation: isolated (any Actor)? = #isolation,
    _ make: () async throws -> Resource,
    cleanup: (Resource) async throws -> Void,
    body: (Resource) async throws -> Value
) async throws -> Value {
    let resource = try await make()
    return try await withCleanup(isolation: isolation) {
        try await body(resource)
    } cleanup: {
        try await cleanup(resource)
    }
}

/// Starts a ``TestHTTPServer`` that answers with `handler`, runs `body` with it, then stops it
/// (closing its connections) whether `body` returned or threw.
///
/// ```swift
/// try await withTestServer({ _ in .text("ok") }) { server in
///     #expect(try await fetch(server.baseURL) == "ok")
/// }
/// ```
///
/// - Parameters:
///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
///   - handler: Answers each request; it runs on any thread, concurrently with `body`.
///   - body: The test, given the running server.
/// - Returns: What `body` returned.
/// - Throws: ``TestSupportError`` when the server cannot start, else what `body` threw.
public func withTestServer<Value>(
    isolation: isolated (any Actor)? = #isolation,
    _ handler: @escaping @Sendable (RecordedRequest) async -> TestResponse,
    body: (TestHTTPServer) async throws -> Value
) async throws -> Value {
    try await withServer(isolation: isolation, try await TestHTTPServer.start(handler), stop: { await $0.stop() }, body)
}

/// Starts a ``StallingHTTPServer`` that stalls as `behaviour` says, runs `body` with it, then
/// stops it (ending any drip) whether `body` returned or threw.
///
/// - Parameters:
///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
///   - behaviour: Silent, or a drip of one byte per interval.
///   - body: The test, given the running server.
/// - Returns: What `body` returned.
/// - Throws: ``TestSupportError`` when the server cannot start, else what `body` threw.
public func withStallingServer<Value>(
    isolation: isolated (any Actor)? = #isolation,
    _ behaviour: StallingHTTPServer.Behaviour,
    body: (StallingHTTPServer) async throws -> Value
) async throws -> Value {
    try await withServer(
        isolation: isolation, try await StallingHTTPServer.start(behaviour), stop: { await $0.stop() }, body)
}

/// Starts a ``FaultProxy`` in front of `targetPort` on 127.0.0.1, runs `body` with it, then stops
/// it whether `body` returned or threw.
///
/// - Parameters:
///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
///   - targetPort: The port of the real server behind the proxy.
///   - body: The test, given the running proxy.
/// - Returns: What `body` returned.
/// - Throws: What starting the proxy or `body` threw.
public func withFaultProxy<Value>(
    isolation: isolated (any Actor)? = #isolation,
    targetPort: Int,
    body: (FaultProxy) async throws -> Value
) async throws -> Value {
    try await withServer(
        isolation: isolation, try await FaultProxy.start(targetPort: targetPort), stop: { await $0.stop() }, body)
}

/// Runs `body` with `server`, then stops it.
private func withServer<Server, Value>(
    isolation: isolated (any Actor)?,
    _ server: Server,
    stop: (Server) async -> Void,
    _ body: (Server) async throws -> Value
) async throws -> Value {
    try await withCleanup(isolation: isolation) {
        try await body(server)
    } cleanup: {
        await stop(server)
    }
}

/// Creates a bucket of its own for the test (``Sandbox/makeBucket(_:prefix:)``: `prefix-<random>`),
/// runs `body` with its name, then deletes the bucket with its objects and unfinished multipart
/// uploads, whether `body` returned or threw.
///
/// ```swift
/// let aws = try Sandbox.s3AWSClient()
/// try await withSandboxBucket(aws, prefix: "wire") { bucket in
///     try await S3Client(aws).putObject(bucket: bucket, key: "a", data: ByteBuffer(string: "x"))
/// }
/// ```
///
/// - Parameters:
///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
///   - aws: A client for the S3 endpoint (SeaweedFS or moto), with rights to create and delete.
///   - prefix: The start of the bucket's name (lower case, digits and `-`).
///   - body: The test, given the bucket's name.
/// - Returns: What `body` returned.
/// - Throws: What creating the bucket or `body` threw; when `body` returned, an `AWSServiceError`
///   when the bucket could not be emptied or deleted.
public func withSandboxBucket<Value>(
    isolation: isolated (any Actor)? = #isolation,
    _ aws: AWSClient,
    prefix: String,
    body: (String) async throws -> Value
) async throws -> Value {
    let bucket = try await Sandbox.makeBucket(aws, prefix: prefix)
    return try await withCleanup(isolation: isolation) {
        try await body(bucket)
    } cleanup: {
        try await Sandbox.deleteBucket(aws, bucket)
    }
}

/// Creates a database of its own for the test (``Sandbox/makeDatabase(prefix:scripts:)``), runs
/// `body` with its `postgres://` URL, then drops it (with the `_previous` and `_restore` copies a
/// refresh leaves), whether `body` returned or threw.
///
/// - Parameters:
///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
///   - prefix: The start of the database's name.
///   - scripts: SQL files (relative to the repository) run in it first.
///   - body: The test, given the database's URL.
/// - Returns: What `body` returned.
/// - Throws: ``TestSupportError`` when psql fails, else what `body` threw.
public func withSandboxDatabase<Value>(
    isolation: isolated (any Actor)? = #isolation,
    prefix: String,
    scripts: [String],
    body: (String) async throws -> Value
) async throws -> Value {
    let url = try await Sandbox.makeDatabase(prefix: prefix, scripts: scripts)
    return try await withCleanup(isolation: isolation) {
        try await body(url)
    } cleanup: {
        await Sandbox.dropDatabase(Sandbox.databaseName(url))
    }
}

/// Runs `body` with the URL of a fresh copy of the real `product` database (see
/// ``Sandbox/makeProductDatabase(_:prefix:)``), and drops it (with the `_previous` and `_restore`
/// copies a refresh leaves) afterwards, whether `body` threw or not.
public func withProductDatabase<Value>(
    isolation: isolated (any Actor)? = #isolation,
    _ product: Sandbox.ProductDump,
    prefix: String,
    body: (String) async throws -> Value
) async throws -> Value {
    let url = try await Sandbox.makeProductDatabase(product, prefix: prefix)
    return try await withCleanup(isolation: isolation) {
        try await body(url)
    } cleanup: {
        await Sandbox.dropDatabase(Sandbox.databaseName(url))
    }
}

extension Sandbox {
    /// Deletes `bucket` after deleting its objects and aborting its unfinished multipart uploads
    /// (S3 refuses to delete a bucket that holds either).
    ///
    /// - Throws: `AWSServiceError` when a listing or a deletion fails.
    public static func deleteBucket(_ aws: AWSClient, _ bucket: String) async throws {
        var token: String?
        repeat {
            let query = [("list-type", "2")] + (token.map { [("continuation-token", $0)] } ?? [])
            let page = try XMLNode.parse(
                try await aws.execute(
                    AWSRequest(service: .s3, operation: "ListObjectsV2", query: query, bucket: bucket)
                ).data)
            for key in page.children("Contents").compactMap({ $0.string("Key") }) {
                _ = try await aws.execute(
                    AWSRequest(
                        service: .s3, operation: "DeleteObject", method: .DELETE, path: "/" + PercentEncoding.path(key),
                        bucket: bucket))
            }
            let next = page.string("IsTruncated") == "true" ? page.string("NextContinuationToken") : nil
            token = next == token ? nil : next
        } while token != nil
        let uploads = try XMLNode.parse(
            try await aws.execute(
                AWSRequest(service: .s3, operation: "ListMultipartUploads", query: [("uploads", "")], bucket: bucket)
            ).data)
        for upload in uploads.children("Upload") {
            guard let key = upload.string("Key"), let id = upload.string("UploadId") else { continue }
            _ = try await aws.execute(
                AWSRequest(
                    service: .s3, operation: "AbortMultipartUpload", method: .DELETE,
                    path: "/" + PercentEncoding.path(key), query: [("uploadId", id)], bucket: bucket))
        }
        _ = try await aws.execute(
            AWSRequest(service: .s3, operation: "DeleteBucket", method: .DELETE, path: "/", bucket: bucket))
    }

    /// The database name at the end of a `postgres://` URL's path (before any query).
    static func databaseName(_ url: String) -> String {
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        return path.split(separator: "/").last.map(String.init) ?? path
    }
}
