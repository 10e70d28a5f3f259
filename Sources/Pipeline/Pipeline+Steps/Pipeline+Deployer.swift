import AtlassianAdmin
import Logging
import StackDeploy

// The cold or hot deployer step every phase after dev-release has.

extension Pipeline {
    func deployer(_ phase: Phase, commit: String, options: Options) throws -> PhaseStep {
        let target = try environment(of: phase)
        let clients = clients(of: target)
        let bucket = target.deployBucket
        let releases = deployBucket(target)
        let earlier = try source(of: phase).map { deployBucket($0) }
        /// The stacks with the templates of the released archive: the target bucket's (where
        /// code-releaser has put it), verified against its manifest.
        @Sendable func released() async throws -> [StackSpec] {
            try config.stackSpecs(of: target, release: try await CodeReleaser.verifiedRelease(of: commit, in: releases))
        }
        /// For a plan, before code-releaser ran: the release it will promote, else (nightly, whose
        /// release does not exist yet) the working tree's templates.
        @Sendable func planned() async throws -> (stacks: [StackSpec], from: String) {
            for bucket in [releases] + (earlier.map { [$0] } ?? [])
            where try await CodeReleaser.manifest(of: commit, in: bucket) != nil {
                let release = try await CodeReleaser.verifiedRelease(of: commit, in: bucket)
                return (try config.stackSpecs(of: target, release: release), "the release in \(bucket.location)")
            }
            return (config.stackSpecs(of: target), "the working tree (the deploy uses the released archive)")
        }
        let stackDeployer = StackDeployer(
            cloudFormation: clients.cloudFormation,
            options: .init(
                pollInterval: options.pollInterval,
                templateBucket: .init(s3: clients.s3, bucket: bucket),
                risk: ChangeRisk(addingStatefulTypes: target.deploy?.statefulTypes ?? []),
                recovery: .init(
                    continueRollback: target.deploy?.continueRollback ?? false,
                    recreateFailedCreate: target.deploy?.recreateFailedCreate ?? false)),
            logger: Logger(label: "atlas-relay.stack-deploy"))
        let name = phase == .nightly ? "cold-deployer" : "deployer"
        /// What runs where: the record of this deploy, once it succeeded.
        @Sendable func recordDeploy() async throws {
            try await DeployRecord(
                commit: commit, phase: phase.rawValue, environment: target.name, deployer: options.deployer.rawValue,
                run: Self.runIdentity(environment), link: BuildStatus.buildLink(environment: environment)
            ).write(to: releases)
        }
        switch options.deployer {
        case .cold:
            let cold = ColdDeployer(deployer: stackDeployer)
            return PhaseStep(
                name, writesTo: target.name,
                plan: {
                    let (stacks, from) = try await planned()
                    return "templates from \(from)\n"
                        + (try await cold.plan(stacks, version: commit).map { stack, plan in
                            switch plan {
                            case .success(let plan): plan.text
                            case .failure(let error): "\(stack): \(error)"
                            }
                        }.joined(separator: "\n"))
                },
                run: {
                    let report = try await cold.deploy(try await released(), version: commit)
                    var counts: [String: Int] = [:]
                    for entry in report.entries {
                        switch entry.outcome {
                        case .deployed(let result): counts["\(result.outcome)", default: 0] += 1
                        case .failed: counts["failed", default: 0] += 1
                        case .skipped: counts["skipped", default: 0] += 1
                        }
                    }
                    let figures = counts.mapValues(String.init).merging(["stacks": "\(report.entries.count)"]) { $1 }
                    guard report.succeeded else { throw StepFailed(report.summary, figures: figures) }
                    try await recordDeploy()
                    return figures
                })
        case .hot:
            let hot = try hotDeployer(target, commit: commit, options: options)
            return PhaseStep(
                name, writesTo: target.name,
                plan: {
                    hot.applications.map {
                        "would drain, update and re-register the instances of stack \($0.stack)"
                            + ($0.targetGroups.isEmpty ? " (no target groups: nothing to drain)" : " in \($0.targetGroups.count) target group(s)")
                            + ", \(hot.deployer.options.batchSize) at a time, rolling back on a failure"
                    }
                    .joined(separator: "\n")
                },
                run: {
                    let figures = try await hot.run(specs: try await released())
                    try await recordDeploy()
                    return figures
                })
        }
    }
}
