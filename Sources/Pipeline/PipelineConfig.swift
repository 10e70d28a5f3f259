import AtlassianAdmin
import Foundation

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
/// compared by identity (`ResourceIdentity`: database hosts resolved, paths made real, URLs
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
        /// How the databases are dumped: `custom` (one `pg_dump -Fc` stream, no local disk; the
        /// default) or `directory` (`pg_dump -Fd` by ``dumpJobs`` jobs, each table uploaded as it
        /// is written; restored with the refresh's `jobs`).
        public var dumpFormat: String?
        /// `pg_dump --jobs` for a `directory` dump (default 4): each job is one more connection to,
        /// and one more table scan on, PROD's database at a time.
        public var dumpJobs: Int?
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
        /// Logical ids of stateful resources (databases, file systems, volumes, tables, buckets)
        /// a deploy may replace or delete; the risk gate refuses any other such change.
        public var allowReplaceOrDelete: [String]?
    }

    /// Where one application's nodes are and how they are updated: for the hot deployer and the
    /// smoke test's checks of each node.
    public struct Nodes: Sendable, Decodable, Equatable {
        /// The stack whose instances run it (default `<environment>-<application>`).
        public var stack: String?
        /// The target groups (ARNs) the nodes are registered with; none: no load balancer is
        /// drained or checked.
        public var targetGroups: [String]?
        /// `http` (default) or `https`, for the node's own endpoints.
        public var scheme: String?
        /// The node's port (default 8080 for Jira, 8090 for Confluence).
        public var port: Int?
        /// The status path (default `/status`).
        public var statusPath: String?
        /// A path on the node that answers the commit it runs (the install's release marker);
        /// the smoke test checks it on every node.
        public var releasePath: String?
        /// A script inside the release that installs it on a node, given the commit (for
        /// example `scripts/jira/install.sh`); without one, the release is unpacked into
        /// ``directory`` and ``service`` restarted.
        public var script: String?
        /// Where releases are unpacked (default `/opt/atlassian/<application>/release`).
        public var directory: String?
        /// The systemd service restarted (default the application's name).
        public var service: String?
        /// Variables exported to the install commands.
        public var environment: [String: String]?
        /// The SSM parameter that holds the code version replacements boot with, set after a hot
        /// deploy when the stack's template declares no `CodeVersion`.
        public var codeVersionParameter: String?
    }

    /// How an environment's deploys may treat its stacks.
    public struct Deploy: Sendable, Decodable, Equatable {
        /// The hot deployer's pace.
        public struct Hot: Sendable, Decodable, Equatable {
            /// Nodes updated together (default 1).
            public var batchSize: Int?
            /// Nodes of a batch that install at once (default the batch size).
            public var concurrency: Int?
            /// Seconds a drain may take (default 600).
            public var drainSeconds: Int?
            /// Seconds one node's install may take (default 900).
            public var commandSeconds: Int?
            /// Seconds a node may take to be RUNNING and healthy again (default 900).
            public var healthSeconds: Int?
            /// The key prefix in the deploy bucket for the commands' full output (default
            /// `hot-deploy-output/`).
            public var outputPrefix: String?
        }

        /// Resource types the risk gate treats as stateful besides the standard ones
        /// (`ChangeRisk.standardStatefulTypes`).
        public var statefulTypes: [String]?
        /// Continue a stack's failed rollback (`UPDATE_ROLLBACK_FAILED`) before deploying it,
        /// skipping the resources that could not roll back, never a stateful one (default off:
        /// the deploy stops with the command).
        public var continueRollback: Bool?
        /// Delete and recreate a stack whose create failed (`ROLLBACK_COMPLETE`) when it holds no
        /// stateful resource (default off).
        public var recreateFailedCreate: Bool?
        /// The hot deployer's node layout and pace.
        public var hot: Hot?
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
            /// The application's own database role, which owns a restored database and its
            /// objects (the refresh connects as the URL's user, an admin role); default: the
            /// URL's user.
            public var owner: String?
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

    /// How Data-Refresher refreshes a non-PROD environment from PROD's snapshots.
    ///
    /// An environment with a `refresh` section can be refreshed: nightly refreshes those with
    /// `nightly` on (the default), and `uat --refresh` refreshes UAT before its deploy. A
    /// config where no environment has one refreshes `dev` nightly with the defaults.
    public struct Refresh: Sendable, Decodable, Equatable {
        /// Whether the nightly phase refreshes this environment (default true).
        public var nightly: Bool?
        /// `pg_restore --jobs` (default: the machine's cores).
        public var jobs: Int?
        /// The most the shared-home restore may delete from a home: `N`, `P%` or `P% or N`
        /// (default `20% or 1000`), or `none`.
        public var maxDelete: String?
        /// After the applications are RUNNING: rebuild Jira's index `background` (the default),
        /// `foreground`, or `none`.
        public var reindex: String?
        /// Sanitisation steps turned off for this environment, by name (`--dry-run` lists
        /// them). Each one turned off lets this environment keep a piece of PROD's behaviour:
        /// its mail, its webhooks, its links; say why in a comment beside it.
        public var keepFromProduction: [String]?
        /// Webhook URL prefixes that stay enabled (every other webhook is disabled).
        public var webhookAllowList: [String]?
        /// Hostnames besides PROD's base URLs that the PROD-reference scan looks for (mail
        /// servers, proxies, partner systems only PROD may call).
        public var productionHosts: [String]?
        /// The licence to install, by product (`jira`, `confluence`), by reference.
        public var licences: [String: SecretReference]?

        /// The reindex modes `reindex` takes.
        public static let reindexModes = ["background", "foreground", "none"]
    }

    /// How an environment must look.
    public struct Settings: Sendable, Decodable, Equatable {
        /// Jira's settings.
        public var jira: EnvironmentSettings.Jira?
        /// Confluence's settings.
        public var confluence: EnvironmentSettings.Confluence?
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
        /// How it is refreshed from PROD's data, if it is.
        public var refresh: Refresh?
        /// How its deploys treat its stacks.
        public var deploy: Deploy?
        /// Where its applications' nodes are, by application.
        public var nodes: [String: Nodes]?

        enum CodingKeys: String, CodingKey {
            case account, deployBucket, stacks, applications, control, settings, tests, refresh, deploy, nodes
        }
    }

    /// Bitbucket Server / Data Center: where the repository is fetched from (`--from-bitbucket`)
    /// and where build statuses go.
    public struct Bitbucket: Sendable, Decodable, Equatable {
        /// The server's base URL.
        public var url: String
        /// An HTTP access token (repository read; write for build statuses), by reference.
        public var token: SecretReference
        /// The project key of the repository this file lives in; with ``repository``, needed to
        /// fetch it (``BitbucketSource``).
        public var project: String?
        /// The repository's slug.
        public var repository: String?
        /// A PEM file of the CA behind the server's certificate, when it is a private one.
        public var caFile: String?
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

    /// The environments the nightly phase refreshes, in name order: those with a `refresh`
    /// section whose `nightly` is not off; `dev` (with the defaults) when no environment has a
    /// `refresh` section.
    public var nightlyRefreshes: [Environment] {
        let declared = environments.values.filter { $0.refresh != nil && !isProduction($0) }
        guard !declared.isEmpty else { return environments["dev"].map { [$0] } ?? [] }
        return declared.filter { $0.refresh?.nightly ?? true }.sorted { $0.name < $1.name }
    }

    /// The desired settings of `environment`, as AtlassianAdmin plans and applies them.
    public func settings(of environment: Environment) -> EnvironmentSettings {
        let refresh = environment.refresh
        return EnvironmentSettings(
            environment: environment.name, isProduction: isProduction(environment),
            productionBaseURLs: isProduction(environment) ? [] : productionURLs,
            jira: environment.settings?.jira, confluence: environment.settings?.confluence,
            sanitisation: SanitisationPolicy(
                off: refresh?.keepFromProduction ?? [], webhookAllowList: refresh?.webhookAllowList ?? [],
                productionHosts: refresh?.productionHosts ?? [],
                licences: (refresh?.licences ?? [:]).mapValues(\.description)))
    }
}

extension PipelineConfig.Environment {
    /// The application of `product`, if the environment has one (the config's key is the
    /// product's raw value, `jira` or `confluence`).
    public func application(_ product: Product) -> PipelineConfig.Application? {
        applications?[product.rawValue]
    }
}
