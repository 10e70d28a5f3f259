import Foundation
import Synchronization
import Testing

@testable import AWSSigning

struct CredentialProviderTests {
    @Test func environmentProvider() async throws {
        let full = EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
        ])
        let credentials = try await full.credentials()
        #expect(credentials.accessKeyId == "AKIDENV")
        #expect(credentials.sessionToken == "env-token")

        await #expect(
            throws: CredentialError(.notConfigured, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        ) {
            try await EnvironmentCredentialProvider(environment: [:]).credentials()
        }
        do {
            _ = try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKIDONLY"]).credentials()
            Issue.record("expected an error")
        } catch let error as CredentialError {
            #expect(error.kind == .invalidProfile)
            #expect(error.message.contains("AWS_SECRET_ACCESS_KEY is not"))
        }
    }

    @Test func staticProviderRefusesExpiredCredentials() async throws {
        let expired = StaticCredentialProvider(
            Credentials(accessKeyId: "AKIDOLD", secretAccessKey: "s", expiration: Date(timeIntervalSinceNow: -10)))
        await #expect(throws: CredentialError.self) { try await expired.credentials() }
    }

    @Test func chainSkipsUnconfiguredAndStopsOnRealFailures() async throws {
        let chain = CredentialProviderChain([
            EnvironmentCredentialProvider(environment: [:]),
            StaticCredentialProvider(Credentials(accessKeyId: "AKIDSECOND", secretAccessKey: "x")),
        ])
        #expect(try await chain.credentials().accessKeyId == "AKIDSECOND")

        let broken = CredentialProviderChain([
            EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKIDONLY"]),
            StaticCredentialProvider(Credentials(accessKeyId: "AKIDSECOND", secretAccessKey: "x")),
        ])
        await #expect(throws: CredentialError.self) { try await broken.credentials() }

        let empty = CredentialProviderChain([EnvironmentCredentialProvider(environment: [:])])
        do {
            _ = try await empty.credentials()
            Issue.record("expected an error")
        } catch let error as CredentialError {
            #expect(error.kind == .notFound)
            #expect(error.message.contains("environment variables: AWS_ACCESS_KEY_ID"))
            #expect(error.message.contains("AWS_PROFILE"))
        }
    }

    /// Hands out numbered credentials that expire `lifetime` seconds after the fake clock's now.
    final class CountingProvider: CredentialProvider {
        let calls = Mutex(0)
        let failing = Mutex(false)
        let clock: FakeClock
        let lifetime: TimeInterval
        init(clock: FakeClock, lifetime: TimeInterval) {
            self.clock = clock
            self.lifetime = lifetime
        }
        func credentials() async throws -> Credentials {
            let number = calls.withLock {
                $0 += 1; return $0
            }
            try await Task.sleep(for: .milliseconds(50))
            if failing.withLock({ $0 }) { throw CredentialError(.providerFailed, "source down") }
            return Credentials(
                accessKeyId: "AKID\(number)", secretAccessKey: "s", expiration: clock.now.addingTimeInterval(lifetime))
        }
        var description: String { "counting" }
    }

    final class FakeClock: Sendable {
        let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { value.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { value.withLock { $0 += seconds } }
    }

    @Test func cachingSharesOneFetchAndRefreshesBeforeExpiry() async throws {
        let clock = FakeClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let cache = CachingCredentialProvider(base, refreshMargin: 300, now: { clock.now })
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { try await cache.credentials().accessKeyId } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(keys == ["AKID1"])
        #expect(base.calls.withLock { $0 } == 1)

        clock.advance(3000)  // 600 s left: still cached
        #expect(try await cache.credentials().accessKeyId == "AKID1")
        clock.advance(400)  // 200 s left: inside the refresh margin
        #expect(try await cache.credentials().accessKeyId == "AKID2")

        // A failed refresh while the old credentials still work keeps them; once expired, it fails.
        clock.advance(3500)
        base.failing.withLock { $0 = true }
        #expect(try await cache.credentials().accessKeyId == "AKID2")
        clock.advance(200)
        await #expect(throws: CredentialError.self) { try await cache.credentials() }
    }

    @Test func secretsNeverAppearInDescriptions() {
        let credentials = Credentials(
            accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            sessionToken: "FwoGZXIvYXdzEXAMPLETOKEN")
        for text in [
            credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials),
        ] {
            #expect(!text.contains("wJalrXUtnFEMI"))
            #expect(!text.contains("FwoGZXIvYXdzEXAMPLETOKEN"))
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"))
        }
    }
}
