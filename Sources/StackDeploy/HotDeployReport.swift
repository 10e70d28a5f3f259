// What a hot deploy did, node by node.

extension HotDeployer {
    /// What happened to one node.
    public struct NodeOutcome: Sendable, Equatable {
        /// What it runs now, as far as the rollout knows.
        public enum State: Sendable, Equatable {
            /// Updated to the new release and healthy.
            case updated
            /// The new release failed here (then it was rolled back, see ``rolledBack``).
            case failed(String)
            /// Never touched: the rollout stopped before it.
            case untouched
        }

        /// The instance id.
        public let instance: String
        /// What the rollout did.
        public var state: State
        /// After a failed rollout: nil when the node was not rolled back, else whether the
        /// previous release is back and healthy (`.success`) or why not.
        public var rolledBack: Result<Void, RollbackFailure>?

        public static func == (lhs: NodeOutcome, rhs: NodeOutcome) -> Bool {
            lhs.instance == rhs.instance && lhs.state == rhs.state && lhs.rollbackText == rhs.rollbackText
        }

        /// "rolled back", or why not; nil when the node was not rolled back.
        public var rollbackText: String? {
            rolledBack.map {
                switch $0 {
                case .success: "rolled back"
                case .failure(let failure): "rollback FAILED: \(failure.reason)"
                }
            }
        }
    }

    /// Why a node could not be rolled back.
    public struct RollbackFailure: Error, Sendable, Equatable {
        /// What went wrong.
        public let reason: String
    }

    /// The node a rollout stopped at, and why.
    public struct Failure: Sendable, Equatable {
        /// The instance id.
        public let instance: String
        /// What went wrong.
        public let reason: String
    }

    /// What a rollout did.
    public struct Report: Sendable, Equatable {
        /// The application.
        public let application: String
        /// The release rolled out.
        public let release: Release
        /// The release rolled back to after a failure, nil when there was none to go back to.
        public let previous: Release?
        /// Every node, in rollout order.
        public let nodes: [NodeOutcome]
        /// The first failure, if any.
        public let failure: Failure?

        /// Whether every node runs the new release.
        public var succeeded: Bool { failure == nil }
        /// Nodes updated and healthy, in order.
        public var updated: [String] { nodes.filter { $0.state == .updated }.map(\.instance) }
        /// Nodes never touched.
        public var untouched: [String] { nodes.filter { $0.state == .untouched }.map(\.instance) }

        /// A readable summary: one line per node.
        public var summary: String {
            var lines = [
                "\(application): \(release.version.prefix(12)) "
                    + (failure == nil ? "on all \(nodes.count) node(s)" : "reached \(updated.count) of \(nodes.count) node(s) before the failure")
            ]
            if let failure { lines.append("\(application): FAILED on \(failure.instance): \(failure.reason)") }
            for node in nodes {
                let state =
                    switch node.state {
                    case .updated: "updated"
                    case .failed(let reason): "failed: \(reason)"
                    case .untouched: "untouched"
                    }
                lines.append("  \(node.instance): \(state)" + (node.rollbackText.map { "; \($0)" } ?? ""))
            }
            if failure != nil && previous == nil {
                lines.append("\(application): no previous release is recorded, so nothing was rolled back")
            }
            return lines.joined(separator: "\n")
        }
    }
}
