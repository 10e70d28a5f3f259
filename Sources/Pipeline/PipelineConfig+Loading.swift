import Foundation
import Yams

extension PipelineConfig {
    /// The file as decoded, before the derived fields (names, directory) are filled in.
    struct File: Decodable {
        var name: String
        var production: String
        var baseBranch: String?
        var accounts: [String: Account]
        var snapshots: Snapshots?
        var environments: [String: Environment]
        var bitbucket: Bitbucket?
    }

    /// Reads and checks the config at `path`.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - checkingFiles: whether the files it names in the repository (stack templates) must
    ///     be beside it; false for a config that only says where the code is (a phase run with
    ///     `--from-bitbucket` or `--from-release` checks the commit's own config instead).
    /// - Throws: ``PipelineConfigError`` naming every problem with its place in the file.
    public static func load(_ path: String, checkingFiles: Bool = true) throws -> PipelineConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineConfigError(problems: ["cannot read the pipeline config \(path)"])
        }
        let directory = URL(fileURLWithPath: path).standardized.deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), file: path, directory: directory, checkingFiles: checkingFiles)
    }

    /// Parses and checks config text; `file` names it in messages. With `checkingFiles`, the
    /// stack templates must exist under `directory`.
    public static func parse(
        _ text: String, file: String, directory: String, checkingFiles: Bool = true
    ) throws -> PipelineConfig {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PipelineConfigError(problems: ["\(file) is empty"])
            }
            root = node
        } catch let error as PipelineConfigError {
            throw error
        } catch {
            throw PipelineConfigError(problems: ["\(file) is not valid YAML: \(error)"])
        }
        let locate = Locator(file: file, root: root)
        let unknown = locate.unknownKeys()
        guard unknown.isEmpty else { throw PipelineConfigError(problems: unknown) }
        let raw: File
        do {
            raw = try YAMLDecoder().decode(File.self, from: root)
        } catch let error as DecodingError {
            throw PipelineConfigError(problems: [locate.describe(error)])
        }
        var config = PipelineConfig(
            name: raw.name, production: raw.production, baseBranch: raw.baseBranch ?? "master", accounts: raw.accounts,
            snapshots: raw.snapshots, environments: raw.environments, bitbucket: raw.bitbucket, directory: directory)
        for name in config.environments.keys { config.environments[name]?.name = name }
        let problems = config.problems(locate, checkingFiles: checkingFiles)
        guard problems.isEmpty else { throw PipelineConfigError(issues: problems) }
        return config
    }
}
