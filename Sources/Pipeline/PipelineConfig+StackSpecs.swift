import Foundation
import StackDeploy
import Yams

extension PipelineConfig {
    /// The stacks of `environment` as StackDeploy specs, templates resolved against the
    /// repository. A stack whose template declares a `CodeVersion` parameter gets it (the
    /// deployers set it to the commit).
    public func stackSpecs(of environment: Environment) -> [StackSpec] {
        (environment.stacks ?? []).map { stack in
            var parameters: [String: StackSpec.Parameter] = (stack.parameters ?? [:]).mapValues {
                switch $0 {
                case .text(let text): .value(text)
                case .output(let other, let key): .output(stack: other, key: key)
                }
            }
            if parameters["CodeVersion"] == nil, Self.declaresParameter("CodeVersion", template: path(stack.template)) {
                parameters["CodeVersion"] = .previous
            }
            return StackSpec(
                name: stack.name, template: .file(path(stack.template)), parameters: parameters,
                tags: (stack.tags ?? [:]).merging(["atlas-relay:environment": environment.name]) { old, _ in old },
                capabilities: stack.capabilities ?? [], dependsOn: stack.dependsOn ?? [])
        }
    }

    /// Whether the CloudFormation template at `path` (YAML or JSON) declares parameter `name`.
    static func declaresParameter(_ name: String, template path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path),
            let node = try? Yams.compose(yaml: String(decoding: data, as: UTF8.self)),
            case .mapping(let parameters)? = node.mapping?["Parameters"]
        else { return false }
        return parameters[name] != nil
    }
}
