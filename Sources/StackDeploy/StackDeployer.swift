import AWSCore
import Foundation
import Logging
import NIOCore
import RelayFoundation
import S3Sync

/// Deploys one stack the way `aws cloudformation deploy` does, and reports better: a change
/// set is created and described, "no changes" (in either of CloudFormation's wordings) is a
/// success, the change set is executed, stack events stream to the logger while the deployer
/// waits with a deadline, and a failure names its root cause, the final status and the next step.
///
/// Nothing is changed before the checks pass: the template must load, every parameter must
/// resolve, and the stack must be in a state that accepts an update.
public struct StackDeployer: Sendable {
    /// Where templates over the inline limit are uploaded.
    public struct TemplateBucket: Sendable {
        /// The S3 client for the deploy bucket.
        public let s3: S3Client
        /// The deploy bucket.
        public let bucket: String
        /// A key prefix, for example `templates/`.
        public let prefix: String

        /// Creates a template bucket.
        public init(s3: S3Client, bucket: String, prefix: String = "templates/") {
            self.s3 = s3
            self.bucket = bucket
            self.prefix = prefix
        }
    }

    /// How the deployer polls and how long it waits.
    public struct Options: Sendable {
        /// Time between polls of the change set, the stack and its events.
        public var pollInterval: Duration
        /// How long a stack operation may run before the deployer gives up waiting (the
        /// operation itself goes on).
        public var timeout: Duration
        /// Where templates over CloudFormation's 51,200-byte inline limit go.
        public var templateBucket: TemplateBucket?
        /// The risk gate: which resource types are stateful.
        public var risk: ChangeRisk
        /// What the deployer may do on its own about a stack a failed operation left behind.
        public var recovery: Recovery

        /// Creates options.
        public init(
            pollInterval: Duration = .seconds(5), timeout: Duration = .seconds(3600),
            templateBucket: TemplateBucket? = nil, risk: ChangeRisk = ChangeRisk(), recovery: Recovery = Recovery()
        ) {
            self.pollInterval = pollInterval
            self.timeout = timeout
            self.templateBucket = templateBucket
            self.risk = risk
            self.recovery = recovery
        }
    }

    /// Recovering stacks left by a failed operation, before deploying them. Both are off by
    /// default: the deploy then stops with the exact command to run.
    public struct Recovery: Sendable, Equatable {
        /// `UPDATE_ROLLBACK_FAILED`: continue the rollback (`ContinueUpdateRollback`), skipping
        /// the resources whose rollback failed, but only when none of them is stateful.
        public var continueRollback: Bool
        /// `ROLLBACK_COMPLETE` (a create that failed and never reached a good state): delete the
        /// stack and create it again, but only when it holds no stateful resource.
        public var recreateFailedCreate: Bool

        /// Creates the settings.
        public init(continueRollback: Bool = false, recreateFailedCreate: Bool = false) {
            self.continueRollback = continueRollback
            self.recreateFailedCreate = recreateFailedCreate
        }
    }

    /// The largest template CloudFormation takes inline (`TemplateBody`).
    public static let inlineTemplateLimit = 51_200

    /// The CloudFormation client.
    public let cloudFormation: CloudFormationClient
    /// Polling and waiting.
    public let options: Options
    /// Where stack events and progress go.
    public let logger: Logger

    /// Creates a deployer.
    public init(
        cloudFormation: CloudFormationClient, options: Options = Options(),
        logger: Logger = Logger(label: "atlas-relay.stack-deploy")
    ) {
        self.cloudFormation = cloudFormation
        self.options = options
        self.logger = logger
    }

    /// Deploys `spec`.
    ///
    /// Before the change set is executed, the risk gate (``Options/risk``) judges each change: one
    /// that replaces or deletes a stateful resource not in ``StackSpec/allowReplaceOrDelete``
    /// stops the deploy, the change set is deleted and nothing changes. Every stack deployed
    /// gets the gate's stack policy (``ChangeRisk/stackPolicy(allowing:)``): before an update is
    /// executed, after a create, and on a stack that had no changes.
    ///
    /// - Parameters:
    ///   - spec: the stack as it should be.
    ///   - outputs: outputs of other stacks, by stack and key, for
    ///     ``StackSpec/Parameter/output(stack:key:)``; stacks not listed are read from CloudFormation.
    /// - Throws: ``DeployError`` with the root cause and advice; of kind
    ///   ``DeployError/Kind/riskyChange`` when the gate refuses a change.
    public func deploy(_ spec: StackSpec, outputs: [String: [String: String]] = [:]) async throws -> StackResult {
        try await recover(spec.name)
        let prepared = try await prepare(spec, outputs: outputs)
        guard let changeSet = try await makeChangeSet(prepared, purpose: "deploy") else {
            logger.info("\(spec.name): no changes", metadata: ["stack": "\(spec.name)", "outcome": "unchanged"])
            try await protect(spec, current: prepared.existing)
            try await cloudFormation.setStackPolicy(spec.name, body: options.risk.stackPolicy(allowing: spec.allowReplaceOrDelete))
            return StackResult(
                stack: spec.name, outcome: .unchanged, changes: [], outputs: prepared.existing?.outputs ?? [:])
        }
        logger.info(
            "\(spec.name): executing \(changeSet.changes.count) change(s)",
            metadata: ["stack": "\(spec.name)", "changes": "\(changeSet.changes.count)"])
        let plan = plan(spec, isNew: prepared.isCreate, changes: changeSet.changes)
        for change in plan.iamChanges {
            logger.notice(
                "\(spec.name): IAM change \(change.action) \(change.logicalId) (\(change.resourceType))",
                metadata: ["stack": "\(spec.name)", "resource": "\(change.logicalId)", "iam": "\(change.action)"])
        }
        guard plan.isAllowed else {
            try? await cloudFormation.deleteChangeSet(changeSet.id)
            let refused = zip(plan.changes, plan.verdicts).filter { $0.1 == .refused }.map(\.0)
            let names = refused.map { "\($0.logicalId) (\($0.resourceType), \($0.action == "Remove" ? "deleted" : "replaced"))" }
            throw DeployError(
                .riskyChange, stack: spec.name,
                message: "the change set would lose stateful data: \(names.joined(separator: ", ")); it was deleted, nothing changed",
                advice: "if that is intended (after a backup), allow "
                    + refused.map(\.logicalId).joined(separator: ", ")
                    + " in the stack's allowReplaceOrDelete for this deploy; otherwise change the template so the resource is kept")
        }
        let policy = options.risk.stackPolicy(allowing: spec.allowReplaceOrDelete)
        if !prepared.isCreate { try await cloudFormation.setStackPolicy(spec.name, body: policy) }
        let before = try await cloudFormation.events(of: spec.name, newest: 1).last?.id
        try await cloudFormation.executeChangeSet(changeSet.id)
        let (stack, events) = try await waitForStack(spec.name, after: before)
        guard stack.status.category == .complete else {
            throw await failure(spec.name, status: stack.status, events: events)
        }
        if prepared.isCreate { try await cloudFormation.setStackPolicy(spec.name, body: policy) }
        try await protect(spec, current: stack)
        return StackResult(
            stack: spec.name, outcome: prepared.isCreate ? .created : .updated, changes: changeSet.changes,
            outputs: stack.outputs)
    }

    /// What deploying `spec` would change, from a change set that is deleted again afterwards.
    public func plan(_ spec: StackSpec, outputs: [String: [String: String]] = [:]) async throws -> StackPlan {
        let prepared = try await prepare(spec, outputs: outputs)
        let changeSet = try await makeChangeSet(prepared, purpose: "plan")
        if let changeSet {
            try? await cloudFormation.deleteChangeSet(changeSet.id)
            if prepared.existing == nil {  // the change set made an empty REVIEW_IN_PROGRESS stack
                try? await cloudFormation.deleteStack(spec.name)
            }
        }
        return plan(spec, isNew: prepared.isCreate, changes: changeSet?.changes ?? [])
    }

    /// The changes with the risk gate's verdicts.
    func plan(_ spec: StackSpec, isNew: Bool, changes: [ResourceChange]) -> StackPlan {
        StackPlan(
            stack: spec.name, isNew: isNew, changes: changes,
            verdicts: changes.map { options.risk.verdict(of: $0, allowed: spec.allowReplaceOrDelete) })
    }

    // MARK: - Steps

    struct Prepared {
        let spec: StackSpec
        let existing: Stack?
        let templateBody: String?
        let templateURL: String?
        let parameters: [String: CloudFormationClient.ParameterValue]
        var isCreate: Bool { existing == nil || existing?.status.category == .reviewInProgress }
    }

    /// The checks before anything changes: template, stack state, parameters.
    func prepare(_ spec: StackSpec, outputs: [String: [String: String]]) async throws -> Prepared {
        var body: String?
        var url: String?
        switch spec.template {
        case .url(let value): url = value
        case .body(let text): body = text
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
            else {
                throw DeployError(
                    .invalidSpec, stack: spec.name,
                    message: "template file \(path) does not exist or is not UTF-8 text",
                    advice: "check the template path in the stack's configuration")
            }
            body = text
        }
        let existing = try await cloudFormation.describeStack(spec.name)
        if let existing, !existing.status.acceptsChanges {
            throw DeployError(
                .stackNotUpdatable, stack: spec.name, message: "the stack cannot be updated in its current state",
                status: existing.status,
                advice: existing.status.advice(stack: spec.name))
        }
        var parameters: [String: CloudFormationClient.ParameterValue] = [:]
        var looked: [String: [String: String]] = outputs
        for (key, parameter) in spec.parameters {
            switch parameter {
            case .value(let value): parameters[key] = .value(value)
            case .previous:
                guard let existing, existing.status.category != .reviewInProgress else {
                    throw DeployError(
                        .invalidSpec, stack: spec.name,
                        message: "parameter \(key) asks for its previous value, but the stack is new",
                        advice: "give \(key) a value in the stack's configuration")
                }
                parameters[key] = .previous
            case .output(let stack, let outputKey):
                if looked[stack] == nil { looked[stack] = try await cloudFormation.describeStack(stack)?.outputs }
                guard let stackOutputs = looked[stack] else {
                    throw DeployError(
                        .invalidSpec, stack: spec.name,
                        message: "parameter \(key) needs output \(outputKey) of stack \(stack), which does not exist",
                        advice: "deploy \(stack) first or list it in the same deployment")
                }
                guard let value = stackOutputs[outputKey] else {
                    let known = stackOutputs.keys.sorted().joined(separator: ", ")
                    throw DeployError(
                        .invalidSpec, stack: spec.name,
                        message:
                            "parameter \(key) needs output \(outputKey) of stack \(stack), which has only [\(known)]",
                        advice: "check the output's name in \(stack)'s template")
                }
                parameters[key] = .value(value)
            }
        }
        if let text = body, text.utf8.count > Self.inlineTemplateLimit {
            guard let bucket = options.templateBucket else {
                throw DeployError(
                    .invalidSpec, stack: spec.name,
                    message:
                        "the template is \(text.utf8.count) bytes, over CloudFormation's \(Self.inlineTemplateLimit)-byte inline limit",
                    advice: "configure a deploy bucket for templates")
            }
            let digest = Hex.sha256(Data(text.utf8))
            let key = "\(bucket.prefix)\(spec.name)/\(digest).template"
            try await bucket.s3.putObject(bucket: bucket.bucket, key: key, data: ByteBuffer(string: text))
            url = try bucket.s3.objectURL(bucket: bucket.bucket, key: key)
            body = nil
        }
        return Prepared(spec: spec, existing: existing, templateBody: body, templateURL: url, parameters: parameters)
    }

    /// Creates a change set and waits for it; nil when there is nothing to change.
    func makeChangeSet(_ prepared: Prepared, purpose: String) async throws -> ChangeSet? {
        let spec = prepared.spec
        let request = CloudFormationClient.ChangeSetRequest(
            stackName: spec.name, changeSetName: Self.changeSetName(), isCreate: prepared.isCreate,
            templateBody: prepared.templateBody, templateURL: prepared.templateURL, parameters: prepared.parameters,
            tags: spec.tags, capabilities: spec.capabilities, description: "Atlas Relay \(purpose)")
        let id: String
        do {
            id = try await cloudFormation.createChangeSet(request).changeSetId
        } catch let error as AWSServiceError where CloudFormationClient.isNoChangesMessage(error.message) {
            return nil
        } catch let error as AWSServiceError
            where error.code == "ValidationError" || error.code == "InsufficientCapabilitiesException"
        {
            throw DeployError(
                .changeSetRejected, stack: spec.name,
                message: "CloudFormation refused the change set: \(error.message)",
                advice: "fix the template or parameters; nothing was changed", underlying: error)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.timeout)
        while true {
            let changeSet = try await cloudFormation.describeChangeSet(id)
            switch changeSet.status {
            case "CREATE_PENDING", "CREATE_IN_PROGRESS":
                guard clock.now < deadline else {
                    throw DeployError(
                        .timedOut, stack: spec.name,
                        message: "the change set was still \(changeSet.status) at the deadline",
                        advice: "look at change set \(id) in the console")
                }
                try await Task.sleep(for: options.pollInterval)
            case "CREATE_COMPLETE":
                return changeSet
            default:
                try? await cloudFormation.deleteChangeSet(id)
                if changeSet.isEmpty { return nil }
                throw DeployError(
                    .changeSetRejected, stack: spec.name,
                    message: "the change set failed: \(changeSet.statusReason ?? changeSet.status)",
                    advice: "fix the template or parameters; nothing was changed")
            }
        }
    }

    /// Polls the stack until its operation ends, logging each new event; returns the stack and
    /// the operation's events.
    func waitForStack(_ name: String, after: String?) async throws -> (Stack, [StackEvent]) {
        let (stack, events) = try await follow(name, after: after, deleting: false)
        guard let stack else {
            throw DeployError(
                .deploymentFailed, stack: name, message: "the stack disappeared while it was being deployed",
                rootCause: Self.rootCause(events), advice: "look at the stack's deleted events in the console")
        }
        return (stack, events)
    }

    /// Polls the stack, logging each new event, until its operation ends (the stack, and the
    /// operation's events) or it is gone (nil). `deleting`: the stack is expected to go, so its
    /// events may no longer be readable, and the deadline's message says so.
    func follow(_ name: String, after: String?, deleting: Bool) async throws -> (Stack?, [StackEvent]) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.timeout)
        var seen = after
        var events: [StackEvent] = []
        while true {
            try await Task.sleep(for: options.pollInterval)
            let fresh =
                deleting
                ? (try? await cloudFormation.events(of: name, after: seen)) ?? []
                : try await cloudFormation.events(of: name, after: seen)
            for event in fresh {
                logger.info(
                    "\(name)  \(event.line)",
                    metadata: [
                        "stack": "\(name)", "resource": "\(event.logicalId)", "status": "\(event.status)",
                    ])
            }
            events += fresh
            seen = fresh.last?.id ?? seen
            guard let stack = try await cloudFormation.describeStack(name) else { return (nil, events) }
            if !stack.status.isInProgress { return (stack, events) }
            guard clock.now < deadline else {
                throw DeployError(
                    .timedOut, stack: name,
                    message: "still \(deleting ? "deleting" : "running") when the deployer's deadline passed",
                    status: stack.status,
                    rootCause: Self.rootCause(events), advice: stack.status.advice(stack: name))
            }
        }
    }

    func protect(_ spec: StackSpec, current: Stack?) async throws {
        guard spec.terminationProtection != (current?.terminationProtection ?? false) else { return }
        try await cloudFormation.setTerminationProtection(spec.name, enabled: spec.terminationProtection)
    }

    // MARK: - Reporting

    func failure(_ stack: String, status: StackStatus, events: [StackEvent]) async -> DeployError {
        DeployError(
            .deploymentFailed, stack: stack, message: "the deployment failed", status: status,
            rootCause: await deepestRootCause(events),
            advice: status.advice(stack: stack, failedResources: Self.failedRollbacks(events, stack: stack)))
    }

    /// The root cause, followed into nested stacks: when the first failed resource is a nested
    /// stack, the first failed resource of that stack's own events, down to the deepest (at most
    /// five levels). A nested stack whose events cannot be read leaves the cause where it is.
    func deepestRootCause(_ events: [StackEvent]) async -> StackEvent? {
        var cause = Self.rootCause(events)
        for _ in 0..<5 {
            guard let nested = cause, nested.isNestedStack, let id = nested.physicalId,
                let inner = try? await cloudFormation.events(of: id, newest: 500)
            else { break }
            // The nested stack's operation that failed: its events up to the parent's failure
            // event, from the nested stack's last start before it.
            let upTo = inner.filter { $0.timestamp <= nested.timestamp.addingTimeInterval(60) }
            let start = upTo.lastIndex {
                $0.logicalId == $0.stackName && ["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"].contains($0.status)
            } ?? 0
            guard let deeper = Self.rootCause(Array(upTo[start...])) else { break }
            cause = deeper
        }
        return cause
    }

    /// The first failed resource event; cancellations ("Resource update cancelled") are
    /// consequences, so they count only when nothing else failed.
    static func rootCause(_ events: [StackEvent]) -> StackEvent? {
        let failures = events.filter(\.isFailure)
        return failures.first { !($0.reason ?? "").lowercased().contains("cancelled") } ?? failures.first
    }

    /// The resources that failed after the rollback began: `--resources-to-skip` candidates.
    static func failedRollbacks(_ events: [StackEvent], stack: String) -> [String] {
        guard
            let start = events.firstIndex(where: { $0.logicalId == stack && $0.status.contains("ROLLBACK_IN_PROGRESS") }
            )
        else { return [] }
        var names: [String] = []
        for event in events[start...]
        where event.isFailure && event.logicalId != stack && !names.contains(event.logicalId) {
            names.append(event.logicalId)
        }
        return names
    }

    static func changeSetName() -> String {
        let stamp = Int(Date().timeIntervalSince1970)
        return "atlas-relay-\(stamp)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }
}
