import AtlassianAdmin
import AppTesting
import Foundation

extension PipelineConfig {
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
            /// Seconds each virtual user pauses between its actions (default 0).
            public var thinkTime: Double?
            /// Hold seconds.
            public var hold: Double
            /// The default 90th-percentile limit per action, in milliseconds.
            public var p90: Double?
            /// The commit whose stored run is the baseline; nil: the commit PROD runs now.
            public var baseline: String?
            /// The baseline test's significance level (default 0.05).
            public var alpha: Double?
            /// The slowdown allowed against the baseline's median, in percent (default 10).
            public var tolerance: Double?
            /// The slowdown allowed per action name, in percent.
            public var tolerances: [String: Double]?
            /// Fewer samples than this of an action, in the run or the baseline, leave it
            /// unjudged (inconclusive; default 20).
            public var minimumSamples: Int?
            /// DCAPT's minimums for a run that counts; nil: DCAPT's own (45 minutes, 200 users).
            public var compliance: Compliance?
            /// A secret reference (`env:`, `ssm:`, `secretsmanager:`) to the accounts the virtual
            /// users log in as, one `name:password` a line, at least ``users`` of them; nil: every
            /// virtual user acts as the application's own credentials. Those stay the set-up's.
            public var userPool: SecretReference?

            /// The minimums a run must meet (DCAPT's by default) for its results to count.
            public struct Compliance: Sendable, Decodable, Equatable {
                /// The shortest run, in minutes (DCAPT: 45).
                public var minimumMinutes: Double?
                /// The fewest concurrent users (DCAPT: 200).
                public var minimumUsers: Int?
                /// Whether a run below them fails the gate (default true); false only reports it.
                public var required: Bool?

                /// The checks these settings describe.
                public var checks: DCAPTCompliance {
                    DCAPTCompliance(
                        minimumSeconds: (minimumMinutes ?? 45) * 60, minimumUsers: minimumUsers ?? 200)
                }
            }

            /// The judge these settings describe.
            public var judge: BaselineJudge {
                BaselineJudge(
                    alpha: alpha ?? 0.05, defaultTolerance: (tolerance ?? 10) / 100,
                    tolerances: (tolerances ?? [:]).mapValues { $0 / 100 }, minimumSamples: minimumSamples ?? 20)
            }
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
        /// The Jira project the suites and the load test work in (default `DEMO`).
        public var project: String?
        /// The Confluence space the suites and the load test work in (default `DEMO`).
        public var space: String?
        /// The Jira issue type the suites create (default `Task`), as the project's scheme names it.
        public var issueType: String?
        /// The scenarios of the suites to run, by name (`jira: issue lifecycle`, …); nil: all.
        public var scenarios: [String]?
        /// The longest a search waits for content just written to be indexed, in seconds
        /// (default 30; a cluster replicates its index between nodes asynchronously).
        public var searchWait: Double?
        /// The load test.
        public var perf: Perf?
        /// The smoke tests (go-live).
        public var smoke: Smoke?
        /// Gates this environment passes without their evidence, each with the reason, which the
        /// report and the pass record carry: `functional` (no App-Tester suite), `perf` (no load
        /// test in UAT), `invite` (no Jira issue to comment on), `version` (a PROD application
        /// without the `version` its smoke test expects), `commit` (an application without
        /// `nodes` whose release marker shows each node runs the commit). Without a waiver, each
        /// fails.
        public var waivers: [String: String]?

        /// The gates ``waivers`` may name.
        public static let gates = ["functional", "perf", "invite", "version", "commit"]
    }
}

extension PipelineConfig.Tests {
    /// ``functional`` as products (a loaded config names only known products).
    public var functionalProducts: [Product] { (functional ?? []).compactMap(Product.init(rawValue:)) }
}

extension PipelineConfig.Tests.Perf {
    /// ``mix`` as a product; nil for a name that is not one (a loaded config has none).
    public var product: Product? { Product(rawValue: mix) }
}
