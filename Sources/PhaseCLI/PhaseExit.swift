import Pipeline

/// How the phase executables pick their exit status from what a run threw, by the error's
/// kind (never its message): 2 for bad input or a refusal before any step ran, 1 for anything
/// that failed on the way. A run that finished exits 0 when every step passed and 1 otherwise
/// (``PhaseOptions/run(_:component:commit:deployer:confirmProduction:allowUncommitted:refresh:source:rollback:)``).
public enum PhaseExit {
    /// Whether `error` refused the run before anything was changed (exit 2): any
    /// `PipelineConfigError`, and the `PipelineError` kinds the pipeline checks before its
    /// first step (the PROD guard, an unknown step or commit, a config that lacks what a step
    /// needs, a branch or commit that may not be released).
    @Sendable public static func isRefusal(_ error: any Error) -> Bool {
        switch error {
        case is PipelineConfigError: return true
        case let error as PipelineError: return isRefusal(kind: error.kind)
        default: return false
        }
    }

    /// Whether a `PipelineError` of `kind` is a refusal (exit 2) rather than a failure (exit 1).
    public static func isRefusal(kind: PipelineError.Kind) -> Bool {
        switch kind {
        case .productionWriteOutsideGoLive, .productionWriteUnconfirmed, .productionResourceShared, .unknownStep,
            .unknownCommit, .incompleteConfig, .notTicketBranch, .notPassed:
            true
        case .secretUnavailable, .buildStatusRejected, .sourceUnavailable, .damagedBaseline, .other:
            false
        }
    }
}
