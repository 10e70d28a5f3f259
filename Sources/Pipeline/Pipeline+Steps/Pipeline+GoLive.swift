import AWSCore
import AppTesting
import AtlassianAdmin

// The step only go-live has: read-only smoke checks against PROD.

extension Pipeline {
    func smokeTester(commit: String) throws -> PhaseStep {
        let prod = config.productionEnvironment
        return PhaseStep(
            "smoke-tester",
            plan: {
                "would run read-only smoke checks against \(prod.name)'s \((prod.applications ?? [:]).keys.sorted().joined(separator: " and "))"
            },
            run: {
                let targets = try await smokeTargets(prod, commit: commit)
                let run = await SmokeTester(targets: targets).run()
                var figures = [
                    "passed": "\(run.results.filter { $0.outcome == .passed }.count)",
                    "failed": "\(run.results.filter { $0.outcome == .failed }.count)",
                ]
                // Without the version the deploy should have brought, "PROD runs the release" is
                // unproven: that needs an explicit waiver.
                let unversioned = targets.filter { $0.expectedVersion == nil }.map { "\($0.client.product)" }
                let waiver = prod.tests?.waivers?["version"]
                if !unversioned.isEmpty, let waiver { figures["waived"] = waiver }
                if let commitWaiver = prod.tests?.waivers?["commit"], targets.contains(where: { $0.expectedCommit == nil }) {
                    figures["waived"] = [figures["waived"], commitWaiver].compactMap { $0 }.joined(separator: "; ")
                }
                guard run.passed else { throw StepFailed(run.summary, figures: figures) }
                guard unversioned.isEmpty || waiver != nil else {
                    throw StepFailed(
                        "no expected version for \(unversioned.joined(separator: " and ")) in \(prod.name), so the smoke "
                            + "test cannot show that the deploy brought it: set "
                            + unversioned.map { "environments.\(prod.name).applications.\($0).version" }
                            .joined(separator: " and ")
                            + ", or waive the gate with tests.waivers.version: <why>",
                        figures: figures)
                }
                return figures
            })
    }

    /// What the smoke test checks per application of `environment`: through the load balancer,
    /// and, where `nodes.<app>` says where they are, every node (its instances in EC2) with the
    /// version, the commit its release marker answers, and every target group seeing all of
    /// them healthy. An application without `nodes` cannot show each node runs `commit`: its
    /// check fails unless `tests.waivers.commit` waives it.
    func smokeTargets(_ environment: PipelineConfig.Environment, commit: String) async throws -> [SmokeTester.Target] {
        let context = try await self.context(environment)
        let smoke = environment.tests?.smoke
        let commitWaived = environment.tests?.waivers?["commit"] != nil
        let clients = readers[environment.account]!
        var targets: [SmokeTester.Target] = []
        for (product, client, known) in [
            (Product.jira, context.jira as (any AtlassianProduct)?, smoke?.jira?.issue),
            (.confluence, context.confluence, smoke?.confluence?.page),
        ] {
            guard let client else { continue }
            var target = SmokeTester.Target(
                client: client, expectedVersion: environment.application(product)?.version, knownContent: known)
            if let nodes = environment.nodes?[product.rawValue] {
                let stack = nodes.stack ?? "\(environment.name)-\(product.rawValue)"
                let instances = try await clients.ec2.instances(tagged: ["aws:cloudformation:stack-name": stack])
                let port = nodes.port ?? (product == .confluence ? 8090 : 8080)
                target.nodes = instances.compactMap { instance in
                    instance.privateIP.map {
                        SmokeTester.Node(
                            name: instance.id, baseURL: "\(nodes.scheme ?? "http")://\($0):\(port)",
                            statusPath: nodes.statusPath ?? "/status", releasePath: nodes.releasePath)
                    }
                }
                target.expectedCommit = commit
                let groups = nodes.targetGroups ?? []
                let ids = Set(instances.map(\.id))
                let elb = ELBv2Client(clients.aws)
                if !groups.isEmpty {
                    target.loadBalancer = {
                        for group in groups {
                            let health = try await elb.health(of: group)
                            let healthy = Set(health.filter { $0.state == "healthy" }.map(\.id))
                            let missing = ids.subtracting(healthy).sorted()
                            try check(
                                missing.isEmpty,
                                "\(group) does not see \(missing.joined(separator: ", ")) healthy ("
                                    + health.map { "\($0.id) \($0.state)" }.joined(separator: ", ") + ")")
                        }
                    }
                }
            } else if !commitWaived {
                target.expectedCommit = commit  // no nodes: the check fails and says why
            }
            targets.append(target)
        }
        return targets
    }
}
