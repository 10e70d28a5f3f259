import Foundation

/// Several stacks and their dependencies, deployed in order: independent stacks in parallel
/// (up to a cap), each stack once everything it depends on has succeeded, and the outputs of
/// finished stacks fed into the parameters of the next.
///
/// The first failure stops new starts; stacks already running finish (stopping a stack
/// operation half-way helps nobody), and the report says what ran, what was skipped and why.
public struct StackGraph: Sendable {
    /// The stacks, in a dependency order (each after the stacks it depends on).
    public let order: [StackSpec]

    /// Checks the stacks and orders them.
    ///
    /// - Throws: ``DeployError`` for a duplicate name, a `dependsOn` naming a stack that is not
    ///   in the graph, or a cycle. Output parameters may name stacks outside the graph; those
    ///   are read from CloudFormation.
    public init(_ specs: [StackSpec]) throws {
        var byName: [String: StackSpec] = [:]
        for spec in specs {
            guard byName.updateValue(spec, forKey: spec.name) == nil else {
                throw DeployError(
                    .invalidSpec, stack: spec.name, message: "the stack is listed twice", advice: "keep one entry")
            }
        }
        for spec in specs {
            for dependency in spec.dependsOn where byName[dependency] == nil {
                throw DeployError(
                    .invalidSpec, stack: spec.name,
                    message: "it depends on \(dependency), which is not in this deployment",
                    advice: "add \(dependency) or remove it from dependsOn")
            }
        }
        var ordered: [StackSpec] = []
        var state: [String: Bool] = [:]  // false: visiting, true: done
        func visit(_ spec: StackSpec, path: [String]) throws {
            if state[spec.name] == true { return }
            if state[spec.name] == false {
                throw DeployError(
                    .invalidSpec, stack: spec.name,
                    message: "the dependencies form a cycle: " + (path + [spec.name]).joined(separator: " → "),
                    advice: "break the cycle")
            }
            state[spec.name] = false
            for name in spec.dependencies.sorted() {
                if let next = byName[name] { try visit(next, path: path + [spec.name]) }
            }
            state[spec.name] = true
            ordered.append(spec)
        }
        for spec in specs { try visit(spec, path: []) }
        order = ordered
    }

    /// What happened to one stack.
    public enum Outcome: Sendable, Equatable {
        /// Deployed (created, updated or found unchanged).
        case deployed(StackResult)
        /// Failed; the text is the ``DeployError``'s description.
        case failed(String)
        /// Not started, and why.
        case skipped(String)
    }

    /// The report of a multi-stack deployment, in dependency order.
    public struct Report: Sendable {
        /// Each stack and what happened to it.
        public let entries: [(stack: String, outcome: Outcome)]

        /// Whether every stack deployed.
        public var succeeded: Bool {
            entries.allSatisfy { if case .deployed = $0.outcome { true } else { false } }
        }

        /// One line per stack: created, updated (with the number of changes), unchanged, FAILED
        /// with the cause, or skipped with the reason.
        public var summary: String {
            entries.map { entry in
                switch entry.outcome {
                case .deployed(let result):
                    let detail = result.outcome == .unchanged ? "" : " (\(result.changes.count) change(s))"
                    return "\(entry.stack): \(result.outcome.rawValue)\(detail)"
                case .failed(let reason): return "\(entry.stack): FAILED: \(reason)"
                case .skipped(let reason): return "\(entry.stack): skipped: \(reason)"
                }
            }.joined(separator: "\n")
        }
    }

    /// Deploys the stacks with `deployer`, at most `concurrency` at once.
    public func deploy(with deployer: StackDeployer, concurrency: Int = 4) async -> Report {
        var outcomes: [String: Outcome] = [:]
        var outputs: [String: [String: String]] = [:]
        var running: Set<String> = []
        var failedFirst: String?
        let names = Set(order.map(\.name))
        await withTaskGroup(of: (String, Result<StackResult, any Error>).self) { group in
            func startReady() {
                guard failedFirst == nil else { return }
                for spec in order where outcomes[spec.name] == nil && !running.contains(spec.name) {
                    guard running.count < max(concurrency, 1) else { return }
                    let waiting = spec.dependencies.filter { names.contains($0) }
                    guard waiting.allSatisfy({ if case .deployed = outcomes[$0] { true } else { false } }) else {
                        continue
                    }
                    running.insert(spec.name)
                    let inputs = outputs
                    group.addTask {
                        do {
                            return (spec.name, .success(try await deployer.deploy(spec, outputs: inputs)))
                        } catch {
                            return (spec.name, .failure(error))
                        }
                    }
                }
            }
            startReady()
            while let (name, result) = await group.next() {
                running.remove(name)
                switch result {
                case .success(let stackResult):
                    outcomes[name] = .deployed(stackResult)
                    outputs[name] = stackResult.outputs
                case .failure(let error):
                    outcomes[name] = .failed(String(describing: error))
                    if failedFirst == nil { failedFirst = name }
                }
                startReady()
            }
        }
        // In dependency order, so a stack behind a skipped one names that one, not the first failure.
        for spec in order where outcomes[spec.name] == nil {
            let blocked = spec.dependencies.sorted().first { name in
                switch outcomes[name] {
                case .failed, .skipped: true
                default: false
                }
            }
            outcomes[spec.name] = .skipped(
                blocked.map { "needs \($0), which did not deploy" }
                    ?? "not started after \(failedFirst ?? "another stack") failed")
        }
        return Report(entries: order.map { ($0.name, outcomes[$0.name]!) })
    }

    /// The plan of every stack, in dependency order. A stack whose inputs come from a stack
    /// that does not exist yet cannot be planned until that one is deployed; its entry says so.
    public func plan(with deployer: StackDeployer) async -> [(stack: String, plan: Result<StackPlan, DeployError>)] {
        var plans: [(stack: String, plan: Result<StackPlan, DeployError>)] = []
        for spec in order {
            do {
                plans.append((spec.name, .success(try await deployer.plan(spec))))
            } catch let error as DeployError {
                plans.append((spec.name, .failure(error)))
            } catch {
                plans.append(
                    (spec.name, .failure(DeployError(stack: spec.name, message: "\(error)", underlying: error))))
            }
        }
        return plans
    }
}
