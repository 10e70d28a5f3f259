import Yams

/// Finds where keys are in the YAML, for messages, and checks for keys nobody reads.
struct Locator {
    let file: String
    let root: Node

    /// The keys each kind of mapping may have; `*` stands for a name (environment, account,
    /// product) or a list index.
    static let allowed: [String: Set<String>] = [
        "": ["name", "production", "baseBranch", "accounts", "snapshots", "environments", "bitbucket"],
        "accounts.*": ["id", "region", "role", "readRole"],
        "snapshots": ["account", "bucket", "prefix", "keep", "role", "dumpFormat", "dumpJobs"],
        "bitbucket": ["url", "token", "project", "repository", "caFile"],
        "environments.*": [
            "account", "deployBucket", "stacks", "applications", "control", "settings", "tests", "refresh", "deploy",
            "nodes",
        ],
        "environments.*.deploy": ["statefulTypes", "continueRollback", "recreateFailedCreate", "hot"],
        "environments.*.deploy.hot": [
            "batchSize", "concurrency", "drainSeconds", "commandSeconds", "healthSeconds", "outputPrefix",
        ],
        "environments.*.nodes.*": [
            "stack", "targetGroups", "scheme", "port", "statusPath", "releasePath", "script", "directory", "service",
            "environment", "codeVersionParameter",
        ],
        "environments.*.refresh": [
            "nightly", "jobs", "maxDelete", "reindex", "keepFromProduction", "webhookAllowList", "productionHosts", "licences",
        ],
        "environments.*.stacks.*": [
            "name", "template", "parameters", "dependsOn", "capabilities", "tags", "allowReplaceOrDelete",
        ],
        "environments.*.applications.*": ["url", "credentials", "database", "sharedHome", "sharedHomeEFS", "version"],
        "environments.*.applications.*.credentials": ["token", "user", "password"],
        "environments.*.applications.*.database": ["url", "password", "owner"],
        "environments.*.control": ["stop", "start", "autoScalingGroup", "capacity"],
        "environments.*.settings": ["jira", "confluence"],
        "environments.*.settings.jira": ["title", "baseURL", "colours", "banner", "mailDisabled", "applicationLinks"],
        "environments.*.settings.confluence": ["siteTitle", "baseURL", "bannerHTML", "colours", "applicationLinks"],
        "environments.*.tests": [
            "functional", "project", "space", "issueType", "scenarios", "searchWait", "perf", "smoke", "waivers",
        ],
        "environments.*.tests.waivers": ["functional", "perf", "invite", "version", "commit"],
        "environments.*.tests.perf": [
            "mix", "users", "rampUp", "hold", "thinkTime", "p90", "baseline", "alpha", "tolerance", "tolerances", "minimumSamples", "compliance",
            "userPool",
        ],
        "environments.*.tests.perf.compliance": ["minimumMinutes", "minimumUsers", "required"],
        "environments.*.tests.smoke": ["jira", "confluence"],
        "environments.*.tests.smoke.*": ["issue", "page"],
    ]
    /// Mappings whose keys are names.
    static let named: Set<String> = [
        "accounts", "environments", "environments.*.applications", "environments.*.tests.smoke",
        "environments.*.refresh.licences", "environments.*.nodes", "environments.*.tests.perf.tolerances",
        "environments.*.nodes.*.environment",
    ]

    func unknownKeys() -> [String] {
        var problems: [String] = []
        func walk(_ node: Node, path: [String], pattern: String) {
            switch node {
            case .mapping(let mapping):
                let allowed = Self.allowed[pattern]
                for (key, value) in mapping {
                    let name = key.string ?? ""
                    if let allowed, !allowed.contains(name) {
                        let suggestion =
                            allowed.min { distance($0, name) < distance($1, name) }.map { " (did you mean '\($0)'?)" }
                            ?? ""
                        problems.append(place(key.mark, path + [name], "unknown key '\(name)'\(suggestion)"))
                    }
                    let child = Self.named.contains(pattern) ? "*" : name
                    walk(value, path: path + [name], pattern: pattern.isEmpty ? child : pattern + "." + child)
                }
            case .sequence(let sequence):
                for (index, item) in sequence.enumerated() {
                    walk(item, path: path + ["\(index)"], pattern: pattern + ".*")
                }
            default: break
            }
        }
        walk(root, path: [], pattern: "")
        return problems
    }

    /// `message` at the node of `path` (or its nearest existing parent).
    func at(_ path: [String], _ message: String) -> String {
        var node: Node? = root
        var mark = root.mark
        for component in path {
            guard let current = node else { break }
            switch current {
            case .mapping(let mapping):
                node = mapping[component]
            case .sequence(let sequence):
                node = Int(component).flatMap { $0 < sequence.count ? sequence[$0] : nil }
            default: node = nil
            }
            if let found = node?.mark { mark = found }
        }
        return place(mark, path, message)
    }

    func describe(_ error: DecodingError) -> String {
        func keys(_ path: [any CodingKey]) -> [String] { path.map { $0.intValue.map(String.init) ?? $0.stringValue } }
        switch error {
        case .keyNotFound(let key, let context):
            return at(keys(context.codingPath), "missing key '\(key.stringValue)'")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let found =
                ["Sequence": "a list", "Mapping": "a mapping", "Scalar": "a single value", "Alias": "an alias"]
                .first { context.debugDescription.contains("found \($0.key)") }.map { ", found \($0.value)" } ?? ""
            return at(keys(context.codingPath), "expected \(Self.describe(type))\(found)")
        case .dataCorrupted(let context):
            return at(keys(context.codingPath), context.debugDescription)
        @unknown default:
            return "\(file): \(error)"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "text"
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            "\(type)".contains("Scalar")
                ? "a single value"
                : "\(type)".contains("Mapping") || "\(type)".hasPrefix("Dictionary")
                    ? "a mapping (key: value)"
                    : "\(type)".contains("Sequence") || "\(type)".hasPrefix("Array") ? "a list" : "\(type)"
        }
    }

    func place(_ mark: Mark?, _ path: [String], _ message: String) -> String {
        let where_ = mark.map { "\(file):\($0.line):\($0.column)" } ?? file
        return path.isEmpty ? "\(where_): \(message)" : "\(where_): \(path.joined(separator: ".")): \(message)"
    }

    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        var row = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var previous = row[0]
            row[0] = i + 1
            for (j, y) in b.enumerated() {
                let current = row[j + 1]
                row[j + 1] = min(current + 1, row[j] + 1, previous + (x == y ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}
