import AtlassianAdmin
import DataRefresh
import Foundation
import S3Sync

extension PipelineConfig {
    /// The products an application or a mix may name, as a message says them: `jira or confluence`.
    static var productNames: String { Product.allCases.map(\.rawValue).joined(separator: " or ") }

    /// Everything wrong with a decoded config, each with its place; with `checkingFiles`, a
    /// stack template missing from the repository too.
    func problems(_ locate: Locator, checkingFiles: Bool = true) -> [PipelineConfigError.Problem] {
        var problems: [PipelineConfigError.Problem] = []
        func add(_ path: [String], _ message: String, kind: PipelineConfigError.Problem.Kind = .invalid) {
            problems.append(.init(kind: kind, keyPath: path, description: locate.at(path, message)))
        }

        if environments[production] == nil {
            add(
                ["production"],
                "'\(production)' is not one of the environments (\(environments.keys.sorted().joined(separator: ", ")))"
            )
        }
        for (name, account) in accounts.sorted(by: { $0.key < $1.key }) {
            if account.id.count != 12 || !account.id.allSatisfy(\.isNumber) {
                add(["accounts", name, "id"], "'\(account.id)' is not a 12-digit AWS account id (quote it in YAML)")
            }
        }
        if let bitbucket, (bitbucket.project == nil) != (bitbucket.repository == nil) {
            add(
                ["bitbucket", bitbucket.project == nil ? "project" : "repository"],
                "bitbucket.project and bitbucket.repository go together (the repository is <url>/scm/<project>/<repository>.git)"
            )
        }
        if let snapshots, accounts[snapshots.account] == nil {
            add(["snapshots", "account"], "unknown account '\(snapshots.account)'")
        }
        if let format = snapshots?.dumpFormat, DumpFormat(rawValue: format) == nil {
            add(["snapshots", "dumpFormat"], "dumpFormat is custom (one pg_dump stream) or directory (pg_dump --jobs), not '\(format)'")
        }
        if let jobs = snapshots?.dumpJobs, jobs < 1 { add(["snapshots", "dumpJobs"], "dumpJobs is at least 1") }
        // What PROD names, by identity (hosts resolved and paths made real once).
        let prodResources = productionResources
        var stackNames: [String: String] = [:]
        for (name, environment) in environments.sorted(by: { $0.key < $1.key }) {
            let here = ["environments", name]
            if accounts[environment.account] == nil {
                add(
                    here + ["account"],
                    "unknown account '\(environment.account)' (accounts: \(accounts.keys.sorted().joined(separator: ", ")))"
                )
            }
            let stacks = environment.stacks ?? []
            let local = Set(stacks.map(\.name))
            for (index, stack) in stacks.enumerated() {
                let at = here + ["stacks", "\(index)"]
                if let other = stackNames[stack.name] {
                    add(at + ["name"], "stack '\(stack.name)' is also in \(other); stack names must be unique")
                }
                stackNames[stack.name] = name
                if checkingFiles && !FileManager.default.fileExists(atPath: path(stack.template)) {
                    add(at + ["template"], "no template at \(path(stack.template))")
                }
                for dependency in stack.dependsOn ?? [] where !local.contains(dependency) {
                    add(at + ["dependsOn"], "'\(dependency)' is not a stack of \(name)")
                }
                for (key, value) in (stack.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
                    if case .output(let other, _) = value, !local.contains(other) {
                        add(at + ["parameters", key], "'\(other)' is not a stack of \(name)")
                    }
                }
            }
            for (product, nodes) in (environment.nodes ?? [:]).sorted(by: { $0.key < $1.key }) {
                let at = here + ["nodes", product]
                if environment.applications?[product] == nil {
                    add(at, "'\(product)' is not an application of \(name) (applications: \((environment.applications ?? [:]).keys.sorted().joined(separator: ", ")))")
                }
                if let scheme = nodes.scheme, scheme != "http" && scheme != "https" {
                    add(at + ["scheme"], "'\(scheme)' is neither http nor https")
                }
                if let port = nodes.port, !(1...65535).contains(port) { add(at + ["port"], "\(port) is not a port") }
                for (key, path) in [("statusPath", nodes.statusPath), ("releasePath", nodes.releasePath)] {
                    if let path, !path.hasPrefix("/") { add(at + [key], "'\(path)' must start with /") }
                }
                for (index, group) in (nodes.targetGroups ?? []).enumerated() where !group.hasPrefix("arn:") {
                    add(at + ["targetGroups", "\(index)"], "'\(group)' is not a target group ARN")
                }
            }
            for (index, type) in (environment.deploy?.statefulTypes ?? []).enumerated()
            where type.split(separator: ":", omittingEmptySubsequences: false).count != 5 {
                add(
                    here + ["deploy", "statefulTypes", "\(index)"],
                    "'\(type)' is not a resource type; write it as CloudFormation does, for example AWS::ElastiCache::ServerlessCache")
            }
            for (product, application) in (environment.applications ?? [:]).sorted(by: { $0.key < $1.key }) {
                let at = here + ["applications", product]
                if Product(rawValue: product) == nil {
                    add(at, "unknown application '\(product)' (\(Self.productNames))")
                }
                if URL(string: application.url)?.host == nil {
                    add(at + ["url"], "'\(application.url)' is not a URL")
                }
                if application.sharedHomeEFS != nil && application.sharedHome == nil {
                    add(at + ["sharedHomeEFS"], "give the sharedHome path on the file system too")
                }
                if let credentials = application.credentials {
                    switch (credentials.token, credentials.user, credentials.password) {
                    case (_?, nil, nil), (nil, _?, _?): break
                    default: add(at + ["credentials"], "give either token, or user with password")
                    }
                }
                if let database = application.database {
                    if let url = URL(string: database.url), url.password != nil {
                        add(
                            at + ["database", "url"],
                            "the URL holds a password; give it as password: env:NAME (or ssm:, secretsmanager:)")
                    } else if (try? DatabaseLocation(url: database.url)) == nil {
                        add(at + ["database", "url"], "'\(database.url)' is not postgres://user@host:port/database")
                    }
                }
            }
            if let control = environment.control {
                switch (control.stop, control.start, control.autoScalingGroup, control.capacity) {
                case (_?, _?, nil, nil): break
                case (nil, nil, _?, let capacity?) where capacity > 0: break
                default:
                    add(
                        here + ["control"],
                        "give stop and start commands, or autoScalingGroup with a capacity of at least 1")
                }
            }
            if let tests = environment.tests {
                for (gate, reason) in (tests.waivers ?? [:]).sorted(by: { $0.key < $1.key })
                where reason.trimmingCharacters(in: .whitespaces).isEmpty {
                    add(here + ["tests", "waivers", gate], "a waiver needs its reason (it goes into the report and the pass record)")
                }
                for (index, product) in (tests.functional ?? []).enumerated()
                where environment.applications?[product] == nil {
                    add(here + ["tests", "functional", "\(index)"], "\(name) has no application '\(product)' to test")
                }
                for (index, scenario) in (tests.scenarios ?? []).enumerated() where !Pipeline.scenarioNames.contains(scenario) {
                    add(
                        here + ["tests", "scenarios", "\(index)"],
                        "no suite has a scenario '\(scenario)'; the scenarios are \(Pipeline.scenarioNames.sorted().joined(separator: ", "))")
                }
                if let wait = tests.searchWait, !(0...600).contains(wait) {
                    add(here + ["tests", "searchWait"], "searchWait is 0 to 600 seconds, not \(wait)")
                }
                if let perf = tests.perf {
                    if perf.product == nil {
                        add(here + ["tests", "perf", "mix"], "mix is \(Self.productNames)")
                    }
                    if environment.applications?[perf.mix] == nil {
                        add(here + ["tests", "perf", "mix"], "\(name) has no \(perf.mix)")
                    }
                    if let samples = perf.minimumSamples, samples < 2 {
                        add(here + ["tests", "perf", "minimumSamples"], "minimumSamples is at least 2, not \(samples)")
                    }
                    if let think = perf.thinkTime, !(0...3600).contains(think) {
                        add(here + ["tests", "perf", "thinkTime"], "thinkTime is 0 to 3600 seconds, not \(think)")
                    }
                    if let alpha = perf.alpha, !(alpha > 0 && alpha <= 0.5) {
                        add(here + ["tests", "perf", "alpha"], "alpha is a significance level above 0 and at most 0.5, not \(alpha)")
                    }
                    for (key, value) in [("tolerance", perf.tolerance)] + (perf.tolerances ?? [:]).sorted(by: { $0.key < $1.key })
                        .map({ ("tolerances/" + $0.key, Optional($0.value)) })
                    where value.map({ !(0...1000).contains($0) }) ?? false {
                        add(
                            here + ["tests", "perf"] + key.split(separator: "/").map(String.init),
                            "a tolerance is a percentage from 0 to 1000, not \(value!)")
                    }
                    if let minutes = perf.compliance?.minimumMinutes, !(minutes >= 0) {
                        add(here + ["tests", "perf", "compliance", "minimumMinutes"], "minimumMinutes is 0 or more, not \(minutes)")
                    }
                    if let users = perf.compliance?.minimumUsers, users < 1 {
                        add(here + ["tests", "perf", "compliance", "minimumUsers"], "minimumUsers is at least 1, not \(users)")
                    }
                    if let baseline = perf.baseline, !BitbucketSource.isFullHash(baseline) {
                        add(here + ["tests", "perf", "baseline"], "baseline is a full 40-character commit id, not '\(baseline)'")
                    }
                }
            }
            if let refresh = environment.refresh {
                if name == production {
                    add(here + ["refresh"], "\(name) is PROD; a refresh never writes to PROD, so PROD has no refresh section")
                }
                if let jobs = refresh.jobs, jobs < 1 { add(here + ["refresh", "jobs"], "jobs is at least 1") }
                if let limit = refresh.maxDelete, limit != "none", (try? DeleteLimit(parsing: limit)) == nil {
                    add(
                        here + ["refresh", "maxDelete"],
                        "maxDelete is a number of files (1000), a share (20%), both ('20% or 1000') or none, not '\(limit)'")
                }
                if let mode = refresh.reindex, !Refresh.reindexModes.contains(mode) {
                    add(here + ["refresh", "reindex"], "reindex is \(Refresh.reindexModes.joined(separator: ", ")), not '\(mode)'")
                }
                for product in (refresh.licences ?? [:]).keys.sorted() where environment.applications?[product] == nil {
                    add(here + ["refresh", "licences", product], "\(name) has no application '\(product)'")
                }
                for (product, application) in (environment.applications ?? [:]).sorted(by: { $0.key < $1.key })
                where application.database == nil || application.sharedHome == nil {
                    add(
                        here + ["applications", product],
                        "\(name) is refreshed, so \(product) needs its database and sharedHome")
                }
            }
            do { try settings(of: environment).validate() } catch { add(here + ["settings"], "\(error)") }
            if name != production {
                for (path, resource) in namedResources(of: environment) {
                    for prod in prodResources where resource.isSame(as: prod) {
                        let what = resource.kind == .sharedHome ? "is, holds or lies in" : "is"
                        let spelt = prod.spelling == resource.spelling ? "" : " (\(prod))"
                        add(
                            path,
                            "\(resource) \(what) PROD's \(resource.kind)\(spelt); \(name) must have a \(resource.kind) "
                                + "of its own, or a refresh or release would write to PROD",
                            kind: .productionResource(resource.kind))
                    }
                }
            }
        }
        return problems
    }
}
