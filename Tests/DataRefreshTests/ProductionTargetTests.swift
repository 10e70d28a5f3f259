import AtlasRelayTestSupport
import AtlassianAdmin
import Foundation
import Synchronization
import Testing

@testable import DataRefresh

/// The refresher refuses PROD's resources by identity when it is used without a pipeline config
/// (the SDK and `data-refresh` path): PROD's database under another host spelling, and PROD's
/// shared home through a symbolic link or `..`. Both run against the sandbox's PostgreSQL and
/// SeaweedFS with a real snapshot, so a refresh that got past the guard would show in PROD.
struct ProductionTargetTests {
    /// PROD's Jira title, as the refresh would rewrite it.
    static func prodTitle(_ world: DataRefreshTests.World) async throws -> String {
        try await PostgresTools.sql(
            try #require(world.prod["jira"]), "SELECT propertyvalue FROM propertystring WHERE id = 10000")
    }

    @Test func prodsDatabaseSpeltLocalhostIsRefusedAndPRODKeepsItsTitle() async throws {
        try await DataRefreshTests.withWorld { world in
            _ = try await world.provider.provide()
            let prod = try #require(world.prod["jira"])
            #expect(prod.host == "127.0.0.1", "the sandbox's PROD database is on 127.0.0.1")
            let password = try #require(prod.libpqEnvironment["PGPASSWORD"])
            // The same server, port and database: only the host is spelt another way.
            let localhost = try DatabaseLocation(
                url: "postgres://\(prod.user)@LocalHost:\(prod.port)/\(prod.database)"
            )
            .with(password: password)
            let titleBefore = try await Self.prodTitle(world)

            let refresher = world.refresher(targetDatabase: localhost)
            #expect(refresher.production.conflicts(refresher.targets).map(\.kind) == [.database])
            let error = try await #require(throws: DataRefreshError.self) { try await refresher.refresh() }
            #expect(error.kind == .refused, "\(error)")
            #expect(error.description.contains("is PROD's"), "\(error)")
            let showsPassword = error.description.contains(password)
            #expect(!showsPassword, "the error shows the database password")
            #expect(world.stops.withLock { $0 } == 0, "nothing may run once the target is PROD's")
            #expect(try await Self.prodTitle(world) == titleBefore)
            #expect(try refresher.unfinished() == nil)
        }
    }

    @Test func prodsSharedHomeThroughALinkIsRefusedAndPRODKeepsItsFiles() async throws {
        try await DataRefreshTests.withWorld { world in
            _ = try await world.provider.provide()
            let prodHomes = try ["jira", "confluence"].map { try #require(world.prodHome[$0]) }
            // DEV's Jira home is a link to PROD's; Confluence's reaches PROD's through `..`.
            let link = "\(world.root)/dev-jira-link"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: prodHomes[0])
            let dotted = "\(world.root)/not-yet/../prod-confluence"
            let kept = prodHomes.map { "\($0)/caches/indexes/segment" }
            #expect(kept.allSatisfy { FileManager.default.fileExists(atPath: $0) })

            var refresher = world.refresher()
            refresher.targets[0].sharedHome = link
            refresher.targets[1].sharedHome = dotted
            refresher.production.sharedHomes = prodHomes
            #expect(refresher.production.conflicts(refresher.targets).map(\.kind) == [.sharedHome, .sharedHome])
            let error = try await #require(throws: DataRefreshError.self) { try await refresher.refresh() }
            #expect(error.kind == .refused, "\(error)")
            #expect(error.description.contains("shared home"), "\(error)")
            #expect(world.stops.withLock { $0 } == 0)
            // The snapshot leaves caches out, so a sync with delete into PROD's home would remove these.
            #expect(kept.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "a PROD file was deleted")

            // A home inside PROD's is PROD's too.
            refresher.targets = [refresher.targets[0]]
            refresher.targets[0].sharedHome = "\(prodHomes[0])/data/dev"
            let inside = try #require(throws: DataRefreshError.self) { try refresher.checkTarget() }
            #expect(inside.kind == .refused)
            // DEV's own homes pass.
            var own = world.refresher()
            own.production.sharedHomes = prodHomes
            try own.checkTarget()
        }
    }
}
