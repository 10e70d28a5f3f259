import Foundation

/// Something that supplies AWS credentials: static keys, the environment, a profile, a role.
///
/// Providers are values that can be shared between tasks. Providers that fetch temporary
/// credentials are wrapped in a ``CachingCredentialProvider`` so concurrent callers share one fetch
/// and credentials are refreshed before they expire.
public protocol CredentialProvider: Sendable, CustomStringConvertible {
    /// Returns credentials, fetching or refreshing them if needed.
    ///
    /// - Throws: ``CredentialError`` naming what is missing or wrong and how to fix it.
    func credentials() async throws -> Credentials
}

/// Why credentials could not be had. The message names the problem and the fix; it never
/// contains a secret.
public struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable {
        /// The provider's source is not configured here (a chain moves on to the next one).
        case notConfigured
        /// No provider in a chain had credentials.
        case notFound
        /// A config or credentials file could not be parsed.
        case malformedConfig
        /// The requested profile does not exist.
        case unknownProfile
        /// The profile exists but cannot produce credentials as written.
        case invalidProfile
        /// The credentials have expired and cannot be refreshed.
        case expired
        /// A provider's source answered with an error or something unreadable.
        case providerFailed
    }

    /// The class of failure.
    public let kind: Kind
    /// What went wrong and what to do about it.
    public let message: String

    /// The error underneath (a connection's, a process's, a file's), if any.
    public let underlying: (any Error)?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - kind: the class of failure.
    ///   - message: what went wrong and what to do; never a secret.
    ///   - underlying: the error underneath, if any.
    public init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }

    /// Two errors are equal when their kind and message are (the underlying error is not compared).
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message
    }
}

/// A provider that always returns the same credentials.
public struct StaticCredentialProvider: CredentialProvider {
    let value: Credentials

    /// Creates a provider for fixed credentials.
    public init(_ credentials: Credentials) { self.value = credentials }

    public func credentials() async throws -> Credentials {
        if let expiration = value.expiration, expiration <= Date() {
            throw CredentialError(
                .expired, "the static credentials \(value.accessKeyId) expired at \(expiration); supply fresh ones")
        }
        return value
    }

    public var description: String { "static credentials" }
}

extension CredentialProvider where Self == StaticCredentialProvider {
    /// Fixed credentials.
    public static func `static`(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil)
        -> StaticCredentialProvider
    {
        StaticCredentialProvider(
            Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken))
    }
}

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    let environment: [String: String]

    /// Reads from `environment` (the process environment by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func credentials() async throws -> Credentials {
        let key = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (key, secret) {
        case (nil, nil):
            throw CredentialError(.notConfigured, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        case (nil, _):
            throw CredentialError(
                .invalidProfile, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both or neither")
        case (_, nil):
            throw CredentialError(
                .invalidProfile, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both or neither")
        case (let key?, let secret?):
            let expiration = environment["AWS_CREDENTIAL_EXPIRATION"].flatMap(ISO8601.parse)
            return Credentials(
                accessKeyId: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"],
                expiration: expiration, accountId: environment["AWS_ACCOUNT_ID"])
        }
    }

    public var description: String { "environment variables" }
}

extension CredentialProvider where Self == EnvironmentCredentialProvider {
    /// Credentials from the process environment.
    public static var environment: EnvironmentCredentialProvider { EnvironmentCredentialProvider() }
}

/// Tries providers in order and returns the first credentials found.
///
/// A provider whose source is not configured (``CredentialError/Kind-swift.enum/notConfigured``)
/// is passed over; any other failure stops the chain, so a broken profile is reported rather than
/// silently replaced by, say, instance credentials.
public struct CredentialProviderChain: CredentialProvider {
    /// The providers, in the order they are tried.
    public let providers: [any CredentialProvider]

    /// Creates a chain.
    public init(_ providers: [any CredentialProvider]) { self.providers = providers }

    public func credentials() async throws -> Credentials {
        var skipped: [String] = []
        for provider in providers {
            do {
                return try await provider.credentials()
            } catch let error as CredentialError where error.kind == .notConfigured {
                skipped.append("\(provider): \(error.message)")
            }
        }
        throw CredentialError(
            .notFound,
            "no AWS credentials found. Tried:\n  - " + skipped.joined(separator: "\n  - ")
                + "\nSet AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, choose a profile with AWS_PROFILE, "
                + "or run where a role is available (CodeBuild, ECS, EC2).")
    }

    public var description: String { "chain(\(providers.map(\.description).joined(separator: ", ")))" }
}

/// Caches another provider's credentials and refreshes them before they expire.
///
/// Concurrent callers during a refresh wait for the same fetch. If a refresh fails while the old
/// credentials are still valid, the old ones are returned and the refresh is tried again next time.
public actor CachingCredentialProvider: CredentialProvider {
    let base: any CredentialProvider
    let refreshMargin: TimeInterval
    let now: @Sendable () -> Date
    private var cached: Credentials?
    private var refresh: Task<Credentials, any Error>?

    /// Wraps `base`.
    ///
    /// - Parameters:
    ///   - base: the provider whose credentials are cached.
    ///   - refreshMargin: refresh this many seconds before expiry (default five minutes).
    ///   - now: the clock, for tests.
    public init(
        _ base: any CredentialProvider, refreshMargin: TimeInterval = 300,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.base = base
        self.refreshMargin = refreshMargin
        self.now = now
    }

    public func credentials() async throws -> Credentials {
        let current = now()
        if let cached, !cached.isExpiring(within: refreshMargin, now: current) { return cached }
        let task: Task<Credentials, any Error>
        if let refresh {
            task = refresh
        } else {
            let base = self.base
            task = Task { try await base.credentials() }
            refresh = task
        }
        do {
            let fresh = try await task.value
            if refresh == task {
                cached = fresh
                refresh = nil
            }
            return fresh
        } catch {
            if refresh == task { refresh = nil }
            if let cached, !cached.isExpiring(within: 0, now: current) { return cached }
            throw error
        }
    }

    /// Drops the cached credentials, for example after the service rejected them as expired.
    public func invalidate() {
        cached = nil
    }

    public nonisolated var description: String { "cached(\(base))" }
}
