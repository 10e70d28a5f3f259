import AtlassianAdmin
import Foundation
import StackDeploy
import Yams

/// One pipeline's configuration, read from a YAML file (`pipeline.yml`): the accounts, the
/// environments with their deploy buckets, stacks, applications and settings, and which
/// environment is PROD.
///
/// ```swift
/// let config = try PipelineConfig.load("pipeline.yml")
/// let dev = try config.environment("dev")
/// ```
///
/// Loading checks everything it can before anything runs: unknown keys, missing keys, inline
/// secrets, references to unknown accounts or stacks, template files, colours, and any resource
/// of PROD (deploy bucket, database, shared home, URL) that another environment names too,
/// compared by identity (``ResourceIdentity``: database hosts resolved, paths made real, URLs
/// normalised), not by spelling. A ``PipelineConfigError`` names each problem with its line,
/// column and key path.
public struct PipelineConfig: Sendable {
    /// An AWS account.
    public struct Account: Sendable, Decodable, Equatable {
        /// The 12-digit account id; writes check the credentials belong to it.
        public var id: String
        /// The region.
        public var region: String
        /// A role to assume in the account (from the pipeline's own credentials) for releases
        /// and deploys, if any.
        public var role: String?
        /// A role for reading only (secrets), for example PROD's read role in the nightly build;
        /// defaults to `role`.
        public var readRole: String?
    }

    /// Where PROD snapshots are kept.
    public struct Snapshots: Sendable, Decodable, Equatable {
        /// The account that owns the bucket.
        public var account: String
        /// The bucket.
        public var bucket: String
        /// The key prefix.
        public var prefix: String?
        /// Complete snapshots to keep.
        public var keep: Int?
        /// The role for the snapshot bucket (the provider writes, the refresher reads); defaults
        /// to the account's `role`.
        public var role: String?
    }

    /// A stack of an environment.
    public struct Stack: Sendable, Decodable, Equatable {
        /// A parameter value: text, or another stack's output (`{ output: stack.Key }`).
        public enum Value: Sendable, Decodable, Equatable {
            /// This text.
            case text(String)
            /// The output `key` of `stack`.
            case output(stack: String, key: String)

            public init(from decoder: any Decoder) throws {
                if let text = try? decoder.singleValueContainer().decode(String.self) {
                    self = .text(text)
                    return
                }
                let object = try decoder.container(keyedBy: OutputKey.self)
                let reference = try object.decode(String.self, forKey: .output)
                guard let dot = reference.firstIndex(of: "."), dot != reference.startIndex,
                    reference.index(after: dot) != reference.endIndex
                else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .output, in: object, debugDescription: "write the output as stack-name.OutputKey")
                }
                self = .output(stack: String(reference[..<dot]), key: String(reference[reference.index(after: dot)...]))
            }

            enum OutputKey: String, CodingKey { case output }
        }

        /// The stack's name.
        public var name: String
        /// The template file, relative to the config file's folder (the repository).
        public var template: String
        /// Parameters (the deployers add `CodeVersion`).
        public var parameters: [String: Value]?
        /// Stacks deployed first, besides those whose outputs are used.
        public var dependsOn: [String]?
        /// Capabilities to acknowledge.
        public var capabilities: [String]?
        /// Tags.
        public var tags: [String: String]?
    }

    /// How an application is reached and where its data is.
    public struct Application: Sendable, Decodable, Equatable {
        /// REST credentials, by reference.
        public struct Credentials: Sendable, Decodable, Equatable {
            /// A personal access token (Bearer).
            public var token: SecretReference?
            /// A user for Basic auth, with `password`.
            public var user: String?
            /// The user's password or API token.
            public var password: SecretReference?
        }

        /// A PostgreSQL database.
        public struct Database: Sendable, Decodable, Equatable {
            /// `postgres://user@host:port/name`, without a password.
            public var url: String
            /// The password, by reference.
            public var password: SecretReference?
        }

        /// The base URL (through the load balancer).
        public var url: String
        /// Administrator credentials.
        public var credentials: Credentials?
        /// The database (needed where data is provided or refreshed).
        public var database: Database?
        /// The shared home (relative paths are resolved against the config file's folder).
        public var sharedHome: String?
        /// The EFS file system (`fs-…`) that holds the shared home, if it is on EFS: another
        /// environment naming the same file system shares PROD's shared home.
        public var sharedHomeEFS: String?
        /// The product version smoke tests expect.
        public var version: String?
    }

    /// How Data-Refresher stops and starts an environment's applications: shell commands, or
    /// each product's Auto Scaling group scaled to zero and back (`{product}` is replaced).
    public struct Control: Sendable, Decodable, Equatable {
        /// A command that stops a product and returns when it is down.
        public var stop: String?
        /// A command that starts a product.
        public var start: String?
        /// The product's Auto Scaling group, for example `dev-{product}-nodes`.
        public var autoScalingGroup: String?
        /// How many nodes the group runs when started.
        public var capacity: Int?
    }

    /// How an environment must look.
    public struct Settings: Sendable, Decodable, Equatable {
        /// Jira's settings.
        public var jira: EnvironmentSettings.Jira?
        /// Confluence's settings.
        public var confluence: EnvironmentSettings.Confluence?
    }

    /// Which tests run in an environment.
    public struct Tests: Sendable, Decodable, Equatable {
        /// A load test.
        public struct Perf: Sendable, Decodable, Equatable {
            /// `jira` or `confluence` (DCAPT's mix).
            public var mix: String
            /// Virtual users.
            public var users: Int
            /// Ramp-up seconds.
            public var rampUp: Double?
            /// Hold seconds.
            public var hold: Double
            /// The default 90th-percentile limit per action, in milliseconds.
            public var p90: Double?
        }

        /// Known content the smoke tests read.
        public struct Smoke: Sendable, Decodable, Equatable {
            /// What to read in one product.
            public struct Known: Sendable, Decodable, Equatable {
                /// A Jira issue key.
                public var issue: String?
                /// A Confluence page id.
                public var page: String?
            }

            /// Jira's.
            public var jira: Known?
            /// Confluence's.
            public var confluence: Known?
        }

        /// Products whose default functional suite runs.
        public var functional: [String]?
        /// The load test.
        public var perf: Perf?
        /// The smoke tests (go-live).
        public var smoke: Smoke?
    }

    /// One environment.
    public struct Environment: Sendable, Decodable, Equatable {
        /// Its name (`dev`, `uat`, `prod`), from the key.
        public internal(set) var name = ""
        /// The account it lives in (a key of `accounts`).
        public var account: String
        /// The deploy bucket.
        public var deployBucket: String
        /// Its stacks.
        public var stacks: [Stack]?
        /// Its applications by product (`jira`, `confluence`).
        public var applications: [String: Application]?
        /// How to stop and start its applications (none: they are managed elsewhere).
        public var control: Control?
        /// How it must look.
        public var settings: Settings?
        /// Its tests.
        public var tests: Tests?

        enum CodingKeys: String, CodingKey {
            case account, deployBucket, stacks, applications, control, settings, tests
        }
    }

    /// Bitbucket Server, for build statuses on commits.
    public struct Bitbucket: Sendable, Decodable, Equatable {
        /// The server's base URL.
        public var url: String
        /// A personal access token (HTTP access token), by reference.
        public var token: SecretReference
    }

    /// The pipeline's name.
    public var name: String
    /// The name of the environment that is PROD.
    public var production: String
    /// The main branch.
    public var baseBranch: String
    /// Accounts by name.
    public var accounts: [String: Account]
    /// Where snapshots are kept.
    public var snapshots: Snapshots?
    /// Environments by name.
    public var environments: [String: Environment]
    /// Bitbucket Server, if build statuses are posted.
    public var bitbucket: Bitbucket?
    /// The config file's folder: the repository, and the base of relative paths.
    public var directory: String

    struct File: Decodable {
        var name: String
        var production: String
        var baseBranch: String?
        var accounts: [String: Account]
        var snapshots: Snapshots?
        var environments: [String: Environment]
        var bitbucket: Bitbucket?
    }

    /// The environment called `name`.
    ///
    /// - Throws: ``PipelineConfigError`` for an unknown name.
    public func environment(_ name: String) throws -> Environment {
        guard let environment = environments[name] else {
            throw PipelineConfigError(
                problems: [
                    "no environment '\(name)' (the config has \(environments.keys.sorted().joined(separator: ", ")))"
                ])
        }
        return environment
    }

    /// The PROD environment (a loaded config always has it).
    public var productionEnvironment: Environment { environments[production]! }

    /// Whether `environment` is PROD: the config's PROD environment, or one that names any of
    /// PROD's resources (a loaded config has none such; one changed in code may).
    public func isProduction(_ environment: Environment) -> Bool {
        environment.name == production || !productionResources(namedBy: environment).isEmpty
    }

    /// The resources `environment` would write, by identity: its deploy bucket (with its
    /// account), and each application's URL, database and shared home.
    public func resources(of environment: Environment) -> [ResourceIdentity] {
        namedResources(of: environment).map(\.identity)
    }

    /// PROD's resources: its own, and the snapshot bucket.
    public var productionResources: [ResourceIdentity] {
        var prod = environments[production].map { resources(of: $0) } ?? []
        if let snapshots {
            prod.append(.bucket(snapshots.bucket, account: accounts[snapshots.account]?.id))
        }
        return prod
    }

    /// The resources of `environment` that are PROD's, each with PROD's name for it; none for
    /// PROD itself.
    public func productionResources(namedBy environment: Environment) -> [ResourceIdentity.Conflict] {
        guard environment.name != production else { return [] }
        return ResourceIdentity.conflicts(of: resources(of: environment), with: productionResources)
    }

    /// The PROD guard for this config's phases: PROD by name, and every other environment with
    /// its resources, so one that names PROD's is refused too.
    public func productionGuard(confirmed: Bool) -> ProductionGuard {
        ProductionGuard(
            production: production, confirmed: confirmed, productionResources: productionResources,
            environmentResources: environments.filter { $0.key != production }.mapValues { resources(of: $0) })
    }

    /// `environment`'s resources, each with its key path in the config.
    func namedResources(of environment: Environment) -> [(path: [String], identity: ResourceIdentity)] {
        let here = ["environments", environment.name]
        var resources: [(path: [String], identity: ResourceIdentity)] = [
            (here + ["deployBucket"], .bucket(environment.deployBucket, account: accounts[environment.account]?.id))
        ]
        for (product, application) in (environment.applications ?? [:]).sorted(by: { $0.key < $1.key }) {
            let at = here + ["applications", product]
            resources.append((at + ["url"], .url(application.url)))
            if let database = application.database, let location = try? DatabaseLocation(url: database.url) {
                resources.append((at + ["database", "url"], .database(location)))
            }
            if let home = application.sharedHome {
                resources.append((at + ["sharedHome"], .sharedHome(path(home), efs: application.sharedHomeEFS)))
            }
        }
        return resources
    }

    /// The account of `environment`.
    public func account(of environment: Environment) -> Account { accounts[environment.account]! }

    /// A path from the config, resolved against its folder.
    public func path(_ relative: String) -> String {
        relative.hasPrefix("/")
            ? relative : URL(fileURLWithPath: directory).appendingPathComponent(relative).standardized.path
    }

    /// PROD's application URLs, which no other environment may take over.
    public var productionURLs: [String] {
        (environments[production]?.applications ?? [:]).values.map(\.url).sorted()
    }

    /// The desired settings of `environment`, as AtlassianAdmin plans and applies them.
    public func settings(of environment: Environment) -> EnvironmentSettings {
        EnvironmentSettings(
            environment: environment.name, isProduction: isProduction(environment),
            productionBaseURLs: isProduction(environment) ? [] : productionURLs,
            jira: environment.settings?.jira, confluence: environment.settings?.confluence)
    }

    /// The stacks of `environment` as StackDeploy specs, templates resolved against the
    /// repository. A stack whose template declares a `CodeVersion` parameter gets it (the
    /// deployers set it to the commit).
    public func stackSpecs(of environment: Environment) -> [StackSpec] {
        (environment.stacks ?? []).map { stack in
            var parameters: [String: StackSpec.Parameter] = (stack.parameters ?? [:]).mapValues {
                switch $0 {
                case .text(let text): .value(text)
                case .output(let other, let key): .output(stack: other, key: key)
                }
            }
            if parameters["CodeVersion"] == nil, Self.declaresParameter("CodeVersion", template: path(stack.template)) {
                parameters["CodeVersion"] = .previous
            }
            return StackSpec(
                name: stack.name, template: .file(path(stack.template)), parameters: parameters,
                tags: (stack.tags ?? [:]).merging(["atlas-relay:environment": environment.name]) { old, _ in old },
                capabilities: stack.capabilities ?? [], dependsOn: stack.dependsOn ?? [])
        }
    }

    /// Whether the CloudFormation template at `path` (YAML or JSON) declares parameter `name`.
    static func declaresParameter(_ name: String, template path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path),
            let node = try? Yams.compose(yaml: String(decoding: data, as: UTF8.self)),
            case .mapping(let parameters)? = node.mapping?["Parameters"]
        else { return false }
        return parameters[name] != nil
    }

    // MARK: - Loading

    /// Reads and checks the config at `path`.
    ///
    /// - Throws: ``PipelineConfigError`` naming every problem with its place in the file.
    public static func load(_ path: String) throws -> PipelineConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineConfigError(problems: ["cannot read the pipeline config \(path)"])
        }
        let directory = URL(fileURLWithPath: path).standardized.deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), file: path, directory: directory)
    }

    /// Parses and checks config text; `file` names it in messages.
    public static func parse(_ text: String, file: String, directory: String) throws -> PipelineConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PipelineConfigError(problems: ["\(file) is empty"])
            }
            root = node
        } catch let error as PipelineConfigError {
            throw error
        } catch {
            throw PipelineConfigError(problems: ["\(file) is not valid YAML: \(error)"])
        }
        let locate = Locator(file: file, root: root)
        let unknown = locate.unknownKeys()
        guard unknown.isEmpty else { throw PipelineConfigError(problems: unknown) }
        let raw: File
        do {
            raw = try YAMLDecoder().decode(File.self, from: root)
        } catch let error as DecodingError {
            throw PipelineConfigError(problems: [locate.describe(error)])
        }
        var config = PipelineConfig(
            name: raw.name, production: raw.production, baseBranch: raw.baseBranch ?? "master", accounts: raw.accounts,
            snapshots: raw.snapshots, environments: raw.environments, bitbucket: raw.bitbucket, directory: directory)
        for name in config.environments.keys { config.environments[name]?.name = name }
        let problems = config.problems(locate)
        guard problems.isEmpty else { throw PipelineConfigError(issues: problems) }
        return config
    }

    /// Everything wrong with a decoded config, each with its place.
    func problems(_ locate: Locator) -> [PipelineConfigError.Problem] {
        var problems: [PipelineConfigError.Problem] = []
        func add(_ path: [String], _ message: String, kind: PipelineConfigError.Problem.Kind = .invalid) {
            problems.append(.init(kind: kind, keyPath: path, description: locate.at(path, message)))
        }

        if environments[production] == nil {
            add(
                ["production"],
                "'\(production)' is not one of the environments (\(environments.keys.sorted().joined(separator: ", ")))"
            )
        }
        for (name, account) in accounts.sorted(by: { $0.key < $1.key }) {
            if account.id.count != 12 || !account.id.allSatisfy(\.isNumber) {
                add(["accounts", name, "id"], "'\(account.id)' is not a 12-digit AWS account id (quote it in YAML)")
            }
        }
        if let snapshots, accounts[snapshots.account] == nil {
            add(["snapshots", "account"], "unknown account '\(snapshots.account)'")
        }
        // What PROD names, by identity (hosts resolved and paths made real once).
        let prodResources = productionResources
        var stackNames: [String: String] = [:]
        for (name, environment) in environments.sorted(by: { $0.key < $1.key }) {
            let here = ["environments", name]
            if accounts[environment.account] == nil {
                add(
                    here + ["account"],
                    "unknown account '\(environment.account)' (accounts: \(accounts.keys.sorted().joined(separator: ", ")))"
                )
            }
            let stacks = environment.stacks ?? []
            let local = Set(stacks.map(\.name))
            for (index, stack) in stacks.enumerated() {
                let at = here + ["stacks", "\(index)"]
                if let other = stackNames[stack.name] {
                    add(at + ["name"], "stack '\(stack.name)' is also in \(other); stack names must be unique")
                }
                stackNames[stack.name] = name
                if !FileManager.default.fileExists(atPath: path(stack.template)) {
                    add(at + ["template"], "no template at \(path(stack.template))")
                }
                for dependency in stack.dependsOn ?? [] where !local.contains(dependency) {
                    add(at + ["dependsOn"], "'\(dependency)' is not a stack of \(name)")
                }
                for (key, value) in (stack.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
                    if case .output(let other, _) = value, !local.contains(other) {
                        add(at + ["parameters", key], "'\(other)' is not a stack of \(name)")
                    }
                }
            }
            for (product, application) in (environment.applications ?? [:]).sorted(by: { $0.key < $1.key }) {
                let at = here + ["applications", product]
                if !["jira", "confluence"].contains(product) {
                    add(at, "unknown application '\(product)' (jira or confluence)")
                }
                if URL(string: application.url)?.host == nil {
                    add(at + ["url"], "'\(application.url)' is not a URL")
                }
                if application.sharedHomeEFS != nil && application.sharedHome == nil {
                    add(at + ["sharedHomeEFS"], "give the sharedHome path on the file system too")
                }
                if let credentials = application.credentials {
                    switch (credentials.token, credentials.user, credentials.password) {
                    case (_?, nil, nil), (nil, _?, _?): break
                    default: add(at + ["credentials"], "give either token, or user with password")
                    }
                }
                if let database = application.database {
                    if let url = URL(string: database.url), url.password != nil {
                        add(
                            at + ["database", "url"],
                            "the URL holds a password; give it as password: env:NAME (or ssm:, secretsmanager:)")
                    } else if (try? DatabaseLocation(url: database.url)) == nil {
                        add(at + ["database", "url"], "'\(database.url)' is not postgres://user@host:port/database")
                    }
                }
            }
            if let control = environment.control {
                switch (control.stop, control.start, control.autoScalingGroup, control.capacity) {
                case (_?, _?, nil, nil): break
                case (nil, nil, _?, let capacity?) where capacity > 0: break
                default:
                    add(
                        here + ["control"],
                        "give stop and start commands, or autoScalingGroup with a capacity of at least 1")
                }
            }
            if let tests = environment.tests {
                for (index, product) in (tests.functional ?? []).enumerated()
                where environment.applications?[product] == nil {
                    add(here + ["tests", "functional", "\(index)"], "\(name) has no application '\(product)' to test")
                }
                if let perf = tests.perf {
                    if !["jira", "confluence"].contains(perf.mix) {
                        add(here + ["tests", "perf", "mix"], "mix is jira or confluence")
                    }
                    if environment.applications?[perf.mix] == nil {
                        add(here + ["tests", "perf", "mix"], "\(name) has no \(perf.mix)")
                    }
                }
            }
            do { try settings(of: environment).validate() } catch { add(here + ["settings"], "\(error)") }
            if name != production {
                for (path, resource) in namedResources(of: environment) {
                    for prod in prodResources where resource.isSame(as: prod) {
                        let what = resource.kind == .sharedHome ? "is, holds or lies in" : "is"
                        let spelt = prod.spelling == resource.spelling ? "" : " (\(prod))"
                        add(
                            path,
                            "\(resource) \(what) PROD's \(resource.kind)\(spelt); \(name) must have a \(resource.kind) "
                                + "of its own, or a refresh or release would write to PROD",
                            kind: .productionResource(resource.kind))
                    }
                }
            }
        }
        return problems
    }
}
