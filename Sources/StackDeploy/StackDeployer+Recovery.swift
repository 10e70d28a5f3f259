import Foundation

// Stacks a failed operation left behind: continuing a failed rollback, recreating a failed create.

extension StackDeployer {
    /// Recovers `name` from `UPDATE_ROLLBACK_FAILED` or `ROLLBACK_COMPLETE` when
    /// ``Options/recovery`` allows it and no stateful resource is at stake; otherwise leaves the
    /// stack as it is (``prepare(_:outputs:)`` then refuses it with advice), or throws when a
    /// stateful resource is what stands in the way.
    func recover(_ name: String) async throws {
        guard let stack = try await cloudFormation.describeStack(name) else { return }
        let stateful = options.risk.statefulTypes
        switch stack.status.rawValue {
        case "UPDATE_ROLLBACK_FAILED":
            let events = try await cloudFormation.events(of: name, newest: 500)
            let start = events.lastIndex { $0.logicalId == name && $0.status == "UPDATE_ROLLBACK_IN_PROGRESS" } ?? 0
            var failed: [(id: String, type: String)] = []
            for event in events[start...] where event.isFailure && event.logicalId != name && !failed.contains(where: { $0.id == event.logicalId }) {
                failed.append((event.logicalId, event.resourceType))
            }
            let kept = failed.filter { stateful.contains($0.type) }
            let skip = failed.filter { !stateful.contains($0.type) }.map(\.id)
            let command = StackStatus(rawValue: "UPDATE_ROLLBACK_FAILED").advice(stack: name, failedResources: skip)
            guard options.recovery.continueRollback || !kept.isEmpty else {
                throw DeployError(
                    .stackNotUpdatable, stack: name, message: "the stack cannot be updated in its current state",
                    status: stack.status,
                    advice: command + " (or let the deployer do it: continueRollback, which never skips a stateful resource)")
            }
            guard kept.isEmpty else {
                throw DeployError(
                    .stackNotUpdatable, stack: name,
                    message: "the rollback failed on stateful \(kept.map { "\($0.id) (\($0.type))" }.joined(separator: ", ")), which is never skipped",
                    status: stack.status,
                    advice: "repair \(kept.map(\.id).joined(separator: ", ")) by hand so it can roll back, then: " + command)
            }
            let skipping = skip.isEmpty ? "" : ", skipping \(skip.joined(separator: ", "))"
            logger.notice(
                "\(name): UPDATE_ROLLBACK_FAILED; continuing the rollback\(skipping)",
                metadata: ["stack": "\(name)", "recovery": "continue-update-rollback"])
            try await cloudFormation.continueUpdateRollback(name, skipping: skip)
            let (after, more) = try await waitForStack(name, after: events.last?.id)
            guard after.status.rawValue == "UPDATE_ROLLBACK_COMPLETE" else {
                throw await failure(name, status: after.status, events: more)
            }
        case "ROLLBACK_COMPLETE" where options.recovery.recreateFailedCreate:
            let kept = try await cloudFormation.resources(of: name)
                .filter { stateful.contains($0.type) && $0.status != "DELETE_COMPLETE" }
            guard kept.isEmpty else {
                throw DeployError(
                    .stackNotUpdatable, stack: name,
                    message: "the failed create left stateful \(kept.map { "\($0.logicalId) (\($0.type))" }.joined(separator: ", "))",
                    status: stack.status,
                    advice: "check what they hold; then \(stack.status.advice(stack: name))")
            }
            logger.notice(
                "\(name): ROLLBACK_COMPLETE (its create failed); deleting it to create it again",
                metadata: ["stack": "\(name)", "recovery": "recreate"])
            let before = try await cloudFormation.events(of: name, newest: 1).last?.id
            try await cloudFormation.deleteStack(name)
            try await waitForDeletion(name, after: before)
        default:
            return
        }
    }

    /// Polls until the stack is gone; throws when its deletion fails or outlasts the deadline.
    func waitForDeletion(_ name: String, after: String?) async throws {
        let (stack, events) = try await follow(name, after: after, deleting: true)
        guard let stack, stack.status.category != .deleted else { return }
        throw await failure(name, status: stack.status, events: events)
    }
}
