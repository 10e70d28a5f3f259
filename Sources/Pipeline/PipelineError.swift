import AtlassianAdmin

/// Why a pipeline run, or one of its steps, could not go on: a ``Kind`` to switch on, a message
/// that says what failed and what to do, and the error underneath, if there was one.
///
/// ``Pipeline/run(_:commit:selection:dryRun:options:)`` throws it only for what it refuses before
/// any step runs (the PROD guard, an unknown step or commit, a config that lacks what a step
/// needs); a step that throws it fails in the ``RunReport`` instead. A problem in the config file
/// itself is a ``PipelineConfigError``, which lists every problem with its place in the file.
///
/// ```swift
/// do { try guard_.check(phase: .goLive, writingTo: "prod", step: "deployer") } catch let error as PipelineError {
///     if error.kind == .productionWriteUnconfirmed { print("add --confirm-prod") }
/// }
/// ```
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is, to switch on.
    public enum Kind: Sendable, Hashable {
        /// A phase other than go-live would write to PROD.
        case productionWriteOutsideGoLive
        /// go-live would write to PROD without `--confirm-prod`.
        case productionWriteUnconfirmed
        /// A step would write to an environment that names PROD's resources (see ``conflicts``).
        case productionResourceShared
        /// `--only` or `--skip` names a step the phase does not have.
        case unknownStep
        /// The commit (SHA, branch or tag) cannot be resolved in the repository.
        case unknownCommit
        /// The config lacks something a step needs (the snapshots section, an application's
        /// database or shared home).
        case incompleteConfig
        /// dev-release runs on a branch that is not named `feature/<jira-key>-<short-name>`.
        case notTicketBranch
        /// The commit has no record of passing the phase its promotion needs.
        case notPassed
        /// A secret reference cannot be read (unset, missing, no such field).
        case secretUnavailable
        /// Bitbucket refused the build status.
        case buildStatusRejected
        /// The repository could not be fetched from Bitbucket (unreachable, the token refused,
        /// git missing, the checkout folder not empty).
        case sourceUnavailable
        /// A load run kept as a baseline cannot be read.
        case damagedBaseline
        /// Anything else: the message says what.
        case other
    }

    /// What kind of failure it is.
    public let kind: Kind
    /// What went wrong and what to do; never holds a secret's value.
    public let description: String
    /// For ``Kind/productionResourceShared``: the environment's resources that are PROD's.
    public let conflicts: [ResourceIdentity.Conflict]
    /// The error underneath (a git failure, an AWS error), if any.
    public let underlying: (any Error)?

    /// What went wrong and what to do (the same as ``description``).
    public var message: String { description }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - description: what went wrong and what to do.
    ///   - kind: the kind, ``Kind/other`` by default.
    ///   - conflicts: the PROD resources involved, if any.
    ///   - underlying: the error underneath, if any.
    public init(
        _ description: String, kind: Kind = .other, conflicts: [ResourceIdentity.Conflict] = [],
        underlying: (any Error)? = nil
    ) {
        self.description = description
        self.kind = kind
        self.conflicts = conflicts
        self.underlying = underlying
    }
}
