import AtlassianAdmin
import Foundation

extension DataRefresher {
    /// What PROD is, so it can never be a target: PROD's databases, database hosts, base URLs and
    /// shared homes, compared by identity (`ResourceIdentity`), not by spelling. A target
    /// database on `localhost` is PROD's when PROD's is on `127.0.0.1`; a target shared home that
    /// is PROD's through a symbolic link or `..`, or that contains PROD's or lies inside it, is
    /// PROD's too.
    public struct ProductionGuard: Sendable {
        /// PROD's databases (server addresses, port and name are compared).
        public var databases: [DatabaseLocation]
        /// PROD's database hosts: no database on them is ever a target.
        public var hosts: [String]
        /// PROD's base URLs.
        public var urls: [String]
        /// PROD's shared homes (absolute paths): no target shared home may be one, contain one or
        /// lie inside one.
        public var sharedHomes: [String]

        /// Creates a guard.
        ///
        /// - Parameters:
        ///   - databases: PROD's databases.
        ///   - hosts: PROD's database hosts, for servers that hold nothing but PROD.
        ///   - urls: PROD's base URLs.
        ///   - sharedHomes: PROD's shared homes, as absolute paths.
        public init(databases: [DatabaseLocation], hosts: [String] = [], urls: [String], sharedHomes: [String] = []) {
            self.databases = databases
            self.hosts = hosts
            self.urls = urls
            self.sharedHomes = sharedHomes
        }

        /// PROD's resources as identities (resolves the database hosts).
        public var resources: [ResourceIdentity] {
            databases.map(ResourceIdentity.database) + hosts.map(ResourceIdentity.databaseHost)
                + urls.map(ResourceIdentity.url) + sharedHomes.map { ResourceIdentity.sharedHome($0) }
        }

        /// The resources a refresh of `target` would write: its database, base URL and shared home.
        public static func resources(of target: Target) -> [ResourceIdentity] {
            [.database(target.database), .url(target.url), .sharedHome(target.sharedHome)]
        }

        /// Every resource of `targets` that is PROD's, with how PROD names it.
        public func conflicts(_ targets: [Target]) -> [ResourceIdentity.Conflict] {
            let production = resources
            return targets.flatMap { ResourceIdentity.conflicts(of: Self.resources(of: $0), with: production) }
        }

        /// Refuses `targets` when any of them would write a PROD resource.
        ///
        /// - Throws: ``DataRefreshError`` of kind ``DataRefreshError/Kind/refused`` naming each
        ///   target resource that is PROD's.
        public func check(_ targets: [Target]) throws {
            let production = resources
            var problems: [String] = []
            for target in targets {
                for conflict in ResourceIdentity.conflicts(of: Self.resources(of: target), with: production) {
                    problems.append(Self.describe(conflict, of: target))
                }
            }
            guard !problems.isEmpty else { return }
            throw DataRefreshError(problems.joined(separator: "; ") + "; nothing was changed", kind: .refused)
        }

        static func describe(_ conflict: ResourceIdentity.Conflict, of target: Target) -> String {
            let prod = conflict.other
            switch (conflict.kind, prod.kind) {
            case (.database, .databaseHost):
                return "\(target.name)'s target database host \(target.database.host) is a PROD host (\(prod)); "
                    + "refusing to refresh it"
            case (.database, _):
                return "\(target.name)'s target database \(target.database) is PROD's (\(prod)); refusing to refresh it"
            case (.sharedHome, _):
                return "\(target.name)'s target shared home \(target.sharedHome) is PROD's or overlaps it (\(prod)); "
                    + "the refresh syncs with delete, so give the target a shared home of its own"
            default:
                return "\(target.name)'s target \(conflict.kind) \(conflict.resource) is PROD's (\(prod)); "
                    + "refusing to refresh it"
            }
        }
    }
}
