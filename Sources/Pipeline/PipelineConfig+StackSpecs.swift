import Foundation
import StackDeploy
import Yams

extension PipelineConfig {
    /// The stacks of `environment` as StackDeploy specs, their templates read from `release`
    /// (already checked against its manifest): what the deployers deploy, so an environment gets
    /// the templates that were released and passed, never those of today's checkout. Template
    /// paths are relative to the repository's root, where the config lives. A stack whose
    /// template declares a `CodeVersion` parameter gets it (the deployers set it to the commit).
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/incompleteConfig`` for a template
    ///   path outside the repository; `ReleaseError` of kind `notFound` when the release lacks a
    ///   template.
    public func stackSpecs(of environment: Environment, release: VerifiedRelease) throws -> [StackSpec] {
        try specs(of: environment) { stack in
            let relative = URL(fileURLWithPath: "/" + stack.template).standardized.path.dropFirst()
            guard !stack.template.hasPrefix("/"), !stack.template.split(separator: "/").contains("..") else {
                throw PipelineError(
                    "environments.\(environment.name).stacks \(stack.name): template \(stack.template) is not a path "
                        + "inside the repository; a release can only deploy templates it carries",
                    kind: .incompleteConfig)
            }
            let text = try release.text(of: String(relative))
            return (.body(text), text)
        }
    }

    /// The stacks of `environment` with their templates read from the working tree: for a plan
    /// before the commit is released, and for checking a config. Deploys use
    /// ``stackSpecs(of:release:)``.
    public func stackSpecs(of environment: Environment) -> [StackSpec] {
        specs(of: environment) { stack in
            let file = path(stack.template)
            return (.file(file), FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// The specs, with each stack's template (and its text, when known) from `template`.
    private func specs(
        of environment: Environment, template: (Stack) throws -> (StackSpec.Template, String?)
    ) rethrows -> [StackSpec] {
        try (environment.stacks ?? []).map { stack in
            let (source, text) = try template(stack)
            var parameters: [String: StackSpec.Parameter] = (stack.parameters ?? [:]).mapValues {
                switch $0 {
                case .text(let text): .value(text)
                case .output(let other, let key): .output(stack: other, key: key)
                }
            }
            if parameters["CodeVersion"] == nil, let text, Self.declaresParameter("CodeVersion", template: text) {
                parameters["CodeVersion"] = .previous
            }
            return StackSpec(
                name: stack.name, template: source, parameters: parameters,
                tags: (stack.tags ?? [:]).merging(["atlas-relay:environment": environment.name]) { old, _ in old },
                capabilities: stack.capabilities ?? [], dependsOn: stack.dependsOn ?? [],
                allowReplaceOrDelete: Set(stack.allowReplaceOrDelete ?? []))
        }
    }

    /// Whether the CloudFormation template `text` (YAML or JSON) declares parameter `name`.
    static func declaresParameter(_ name: String, template text: String) -> Bool {
        guard let node = try? Yams.compose(yaml: text), case .mapping(let parameters)? = node.mapping?["Parameters"]
        else { return false }
        return parameters[name] != nil
    }
}
