import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a resource *is*, as opposed to how a config spells it: the one place that decides
/// whether two environments name the same URL, database, bucket or shared home.
///
/// The PROD guards compare identities, never spellings:
/// - a URL by its normalised form (scheme and host lower-cased, a default port dropped,
///   trailing slashes dropped, the path kept; see ``normalisedURL(_:)``);
/// - a database by its server (the host's addresses from `getaddrinfo`, so `localhost`,
///   `127.0.0.1` and `LOCALHOST.` match whenever their address sets meet; every loopback
///   address, `::1` included, counts as this machine), its port (5432 by default) and its name;
/// - a database host by its addresses alone: any database on it;
/// - a bucket by its name (case-insensitive) and account; S3 refuses a bucket whose owner is
///   not the expected account, so the same name in two known, different accounts is two buckets;
/// - a shared home by its real path (symbolic links, `.` and `..` resolved, a path that does not
///   exist yet through its nearest existing folder) and, where given, its EFS file system id.
///   Two shared homes are the same when one contains the other: a sync with delete into a
///   parent of PROD's home deletes PROD's files.
///
/// ```swift
/// let prod = ResourceIdentity.database(try DatabaseLocation(url: "postgres://jira@127.0.0.1/jira"))
/// let dev = ResourceIdentity.database(try DatabaseLocation(url: "postgres://jira@localhost:5432/jira"))
/// dev.isSame(as: prod)  // true
/// ```
///
/// Creating a database identity resolves its host (a blocking `getaddrinfo` call); creating a
/// shared-home identity reads the file system. Both happen once, when the identity is made.
/// `==` compares the spelling too; compare identities with ``isSame(as:)``, which is not
/// transitive (address sets that meet, folders that contain each other).
public struct ResourceIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of resource the guards compare.
    public enum Kind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// An application's base URL.
        case url
        /// A database on a server.
        case database
        /// A database server: every database on it.
        case databaseHost
        /// An S3 bucket in an account.
        case bucket
        /// A shared home folder.
        case sharedHome

        /// The kind in words, for messages.
        public var description: String {
            switch self {
            case .url: "URL"
            case .database: "database"
            case .databaseHost: "database host"
            case .bucket: "bucket"
            case .sharedHome: "shared home"
            }
        }
    }

    enum Key: Sendable, Hashable {
        case url(String)
        case database(Server, port: Int?, name: String?)
        case bucket(name: String, account: String?)
        case path(String, fileSystem: String?)
    }

    /// A host: its lower-cased name and the addresses it resolved to (none when it did not).
    struct Server: Sendable, Hashable {
        let name: String
        let addresses: Set<String>

        func isSame(as other: Server) -> Bool { name == other.name || !addresses.isDisjoint(with: other.addresses) }
    }

    /// What kind of resource this is.
    public let kind: Kind
    /// The resource as it was given (a database without its password), for messages.
    public let spelling: String
    let key: Key

    /// The resource as it was given.
    public var description: String { spelling }

    /// Whether `other` names this resource, or for shared homes one that contains it or that it
    /// contains; a database and a database host match when the database is on that host.
    public func isSame(as other: ResourceIdentity) -> Bool {
        switch (key, other.key) {
        case (.url(let a), .url(let b)): a == b
        case (.database(let a, let portA, let nameA), .database(let b, let portB, let nameB)):
            a.isSame(as: b) && (portA == nil || portB == nil || portA == portB)
                && (nameA == nil || nameB == nil || nameA == nameB)
        case (.bucket(let a, let accountA), .bucket(let b, let accountB)):
            a == b && (accountA == nil || accountB == nil || accountA == accountB)
        case (.path(let a, let fileSystemA), .path(let b, let fileSystemB)):
            (fileSystemA != nil && fileSystemA == fileSystemB) || Self.contains(a, b) || Self.contains(b, a)
        default: false
        }
    }

    /// A resource that two sides both name: `resource` as one spells it, `other` as the other does.
    public struct Conflict: Sendable, Hashable, CustomStringConvertible {
        /// The resource as the side being checked names it.
        public let resource: ResourceIdentity
        /// The same resource as the other side (PROD) names it.
        public let other: ResourceIdentity

        /// What kind of resource both name.
        public var kind: Kind { resource.kind }

        /// `resource` and, when spelt differently, how the other side spells it.
        public var description: String {
            resource.spelling == other.spelling ? "\(kind) \(resource)" : "\(kind) \(resource) (= \(other))"
        }
    }

    /// Every pair of `resources` and `others` that names the same resource (see ``isSame(as:)``),
    /// in the order of `resources`: for example a DEV environment's resources against PROD's.
    public static func conflicts(
        of resources: some Sequence<ResourceIdentity>, with others: some Sequence<ResourceIdentity>
    ) -> [Conflict] {
        let others = Array(others)
        return resources.flatMap { resource in
            others.filter { resource.isSame(as: $0) }.map { Conflict(resource: resource, other: $0) }
        }
    }

    // MARK: - Making identities

    /// An application's base URL, by its normalised form (spelt without any user or password).
    public static func url(_ text: String) -> ResourceIdentity {
        var spelling = text
        if var components = URLComponents(string: text), components.user != nil || components.password != nil {
            components.user = nil
            components.password = nil
            spelling = components.string ?? "(a URL with credentials)"
        }
        return ResourceIdentity(kind: .url, spelling: spelling, key: .url(normalisedURL(text)))
    }

    /// A database: its server's addresses, its port and its name.
    public static func database(_ location: DatabaseLocation) -> ResourceIdentity {
        database(host: location.host, port: location.port, name: location.database)
    }

    /// A database on `host` at `port` (PostgreSQL's 5432 by default) called `name`.
    public static func database(host: String, port: Int? = nil, name: String) -> ResourceIdentity {
        let port = port ?? 5432
        return ResourceIdentity(
            kind: .database, spelling: "postgres://\(host):\(port)/\(name)",
            key: .database(server(host), port: port, name: name))
    }

    /// A database server: it matches every database on it, whatever the port or name.
    public static func databaseHost(_ host: String) -> ResourceIdentity {
        ResourceIdentity(kind: .databaseHost, spelling: host, key: .database(server(host), port: nil, name: nil))
    }

    /// An S3 bucket owned by `account` (a 12-digit id; nil when not known, which matches any).
    public static func bucket(_ name: String, account: String? = nil) -> ResourceIdentity {
        ResourceIdentity(
            kind: .bucket, spelling: account.map { "s3://\(name) (account \($0))" } ?? "s3://\(name)",
            key: .bucket(name: name.lowercased(), account: account))
    }

    /// A shared home at the absolute `path`, on EFS file system `efs` (`fs-…`) when given.
    public static func sharedHome(_ path: String, efs: String? = nil) -> ResourceIdentity {
        ResourceIdentity(
            kind: .sharedHome, spelling: efs.map { "\(path) (\($0))" } ?? path,
            key: .path(realPath(path), fileSystem: efs?.lowercased()))
    }

    // MARK: - Normal forms

    /// `url` in its normal form: scheme and host lower-cased (a trailing dot dropped), the
    /// scheme's default port (80, 443) dropped, user, query and fragment dropped, the path kept
    /// without trailing slashes. `https://JIRA.example.com:443/` becomes `https://jira.example.com`.
    /// Text that is not a URL with a host is only lower-cased and loses its trailing slashes.
    public static func normalisedURL(_ url: String) -> String {
        func trimmed(_ text: String) -> String {
            var text = text
            while text.hasSuffix("/") { text.removeLast() }
            return text
        }
        let text = url.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            var host = components.host?.lowercased(), !host.isEmpty
        else { return trimmed(text.lowercased()) }
        while host.hasSuffix(".") { host.removeLast() }
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        let defaultPort = ["http": 80, "https": 443][scheme]
        let port = components.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)\(trimmed(components.percentEncodedPath))"
    }

    /// `host` lower-cased, without brackets or a trailing dot, with the numeric addresses
    /// `getaddrinfo` gives for it (IPv4-mapped IPv6 addresses as IPv4, this machine's as one).
    static func server(_ host: String) -> Server {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        while name.hasSuffix(".") { name.removeLast() }
        return Server(name: name, addresses: addresses(of: name))
    }

    static func addresses(of host: String) -> Set<String> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var result: Set<String> = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = current.pointee.ai_addr,
                getnameinfo(
                    address, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
            {
                var text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if text.hasPrefix("::ffff:"), text.dropFirst(7).split(separator: ".").count == 4 {
                    text = String(text.dropFirst(7))
                }
                result.insert(isThisMachine(text) ? "loopback" : text)
            }
            entry = current.pointee.ai_next
        }
        return result
    }

    /// Whether connecting to the numeric `address` reaches this machine: 127.0.0.0/8, `::1`, and
    /// the unspecified `0.0.0.0` and `::` (which Linux connects to the local host). All of them
    /// count as one address, so `::1` and `127.0.0.1` name the same server.
    static func isThisMachine(_ address: String) -> Bool {
        address.hasPrefix("127.") || ["::1", "0.0.0.0", "::"].contains(address)
    }

    /// The real path of `path`: symbolic links, `.` and `..` resolved; a path that does not exist
    /// yet is resolved through its nearest existing folder, with the rest standardised after it.
    static func realPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let parts = absolute.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for existing in stride(from: parts.count, through: 0, by: -1) {
            guard let resolved = realpath("/" + parts[..<existing].joined(separator: "/"), nil) else { continue }
            defer { free(resolved) }
            var components = String(cString: resolved).split(separator: "/").map(String.init)
            for component in parts[existing...] {
                switch component {
                case ".": continue
                case "..": if !components.isEmpty { components.removeLast() }
                default: components.append(component)
                }
            }
            return "/" + components.joined(separator: "/")
        }
        return URL(fileURLWithPath: absolute).standardized.path
    }

    /// Whether the real path `outer` is `inner` or one of its folders.
    static func contains(_ outer: String, _ inner: String) -> Bool {
        outer == inner || outer == "/" || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }
}
