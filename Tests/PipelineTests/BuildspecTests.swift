import AtlasRelayTestSupport
import Foundation
import NIOCore
import RelayFoundation
import S3Sync
import Testing
import Yams

/// The CodeBuild projects' inline buildspecs, read out of `pipeline-codebuild.yaml` and run:
/// the phases have no CodeBuild source and no Swift toolchain, and their install step downloads
/// the tools project's tarball, checks it against SHA256SUMS and unpacks it, here against the
/// sandbox's S3 with the real AWS CLI.
struct BuildspecTests {
    static let template = Sandbox.repositoryRoot.appendingPathComponent("Examples/codebuild/pipeline-codebuild.yaml").path
    static let phases = ["NightlyProject", "UatProject", "GoLiveProject"]

    /// The project's buildspec as CodeBuild would see it, `!Sub` resolved with `values`.
    static func buildspec(_ project: String, _ values: [String: String]) throws -> [String: Any] {
        let text = try String(contentsOfFile: template, encoding: .utf8)
        let root = try #require(try Yams.compose(yaml: text)?.mapping)
        let source = try #require(root["Resources"]?.mapping?[project]?.mapping?["Properties"]?.mapping?["Source"]?.mapping)
        #expect(source["Type"]?.string == "NO_SOURCE", "\(project) fetches its own code")
        var spec = try #require(source["BuildSpec"]?.string)
        // Fn::Sub's variables: ${Name}; ${!Name} is a literal ${Name} for the shell.
        let variables = Set(spec.matches(of: /\$\{([A-Za-z][A-Za-z0-9:]*)\}/).map { String($0.output.1) })
        #expect(variables.isSubset(of: ["ArtifactsBucket", "ToolsVersion", "ConfigKey"]), "\(project) uses \(variables)")
        for (name, value) in values { spec = spec.replacingOccurrences(of: "${\(name)}", with: value) }
        spec = spec.replacingOccurrences(of: "${!", with: "${")
        return try #require(try Yams.load(yaml: spec) as? [String: Any])
    }

    static func commands(_ spec: [String: Any], _ phase: String) -> [String] {
        ((spec["phases"] as? [String: Any])?[phase] as? [String: Any])?["commands"] as? [String] ?? []
    }

    @Test func phasesBuildNothingAndNeedNoSwift() throws {
        let text = try String(contentsOfFile: Self.template, encoding: .utf8)
        let root = try #require(try Yams.compose(yaml: text)?.mapping)
        let image = root["Parameters"]?.mapping?["PhaseImage"]?.mapping?["Default"]?.string ?? ""
        #expect(!image.isEmpty && !image.contains("swift"), "the phases' image is \(image)")
        for project in Self.phases {
            let spec = try Self.buildspec(project, [:])
            let all = ["install", "pre_build", "build"].flatMap { Self.commands(spec, $0) }.joined(separator: "\n")
            #expect(!all.contains("swift "), "\(project) compiles: \(all)")
            #expect(all.contains("sha256sum --check"), "\(project) does not verify the tools")
        }
        // uat and go-live run on the release that passed, nightly on the fetched commit.
        #expect(Self.commands(try Self.buildspec("NightlyProject", [:]), "build").joined().contains("--from-bitbucket"))
        for project in ["UatProject", "GoLiveProject"] {
            let build = Self.commands(try Self.buildspec(project, [:]), "build").joined()
            #expect(build.contains("--from-release"), "\(project): \(build)")
        }
    }

    /// A tools tarball with one program, and its SHA256SUMS line.
    static func tarball(in folder: String, says word: String) async throws -> (name: String, data: Data, sums: String) {
        let name = "atlas-relay-0.0.1-linux-x86_64.tar.gz"
        let tree = folder + "/tree/atlas-relay-0.0.1/bin"
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try "#!/bin/sh\necho \(word)\n".write(toFile: tree + "/uat", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tree + "/uat")
        let tar = try await ProcessRunner.run(
            "/bin/tar", ["-czf", folder + "/" + name, "-C", folder + "/tree", "atlas-relay-0.0.1"], timeout: .seconds(30))
        #expect(tar.status == 0, "\(tar.errorText)")
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        let sums = try await ProcessRunner.run("/usr/bin/sha256sum", [name], directory: folder, timeout: .seconds(30))
        return (name, data, String(decoding: sums.stdout, as: UTF8.self))
    }

    @Test func theInstallStepDownloadsVerifiesAndUnpacksTheTools() async throws {
        let s3 = S3Client(try Sandbox.s3AWSClient())
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("buildspec-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/src", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/local", withIntermediateDirectories: true)
        try await withSandboxBucket(s3.aws, prefix: "artifacts") { bucket in
            let good = try await Self.tarball(in: folder + "/good", says: "tools-ok")
            let prefix = "atlas-relay/tools/v9.9.9/"
            try await s3.putObject(bucket: bucket, key: prefix + good.name, data: ByteBuffer(data: good.data))
            try await s3.putObject(bucket: bucket, key: prefix + "SHA256SUMS", data: ByteBuffer(string: good.sums))
            try await s3.putObject(bucket: bucket, key: "atlas-relay/pipeline.yml", data: ByteBuffer(string: "name: t\n"))

            let spec = try Self.buildspec(
                "UatProject", ["ArtifactsBucket": bucket, "ToolsVersion": "v9.9.9", "ConfigKey": "atlas-relay/pipeline.yml"])
            // Where CodeBuild's container has /opt and /usr/local, the test has folders of its own.
            let install = try #require(Self.commands(spec, "install").first)
                .replacingOccurrences(of: "/opt/atlas-relay", with: folder + "/opt")
                .replacingOccurrences(of: "/usr/local", with: folder + "/local")
            func run() async throws -> ProcessRunner.Output {
                try await ProcessRunner.run(
                    "/bin/bash", ["-eo", "pipefail", "-c", install], directory: folder + "/src",
                    environment: Sandbox.environment, timeout: .seconds(120))
            }
            let installed = try await run()
            #expect(installed.status == 0, "\(installed.errorText)")
            let tool = try await ProcessRunner.run(folder + "/local/bin/uat", [], timeout: .seconds(10))
            #expect(String(decoding: tool.stdout, as: UTF8.self) == "tools-ok\n")
            #expect(FileManager.default.contents(atPath: folder + "/src/pipeline.yml") == Data("name: t\n".utf8))

            // A tarball that is not the one SHA256SUMS names is refused and nothing is unpacked.
            try FileManager.default.removeItem(atPath: folder + "/local/bin")
            try FileManager.default.removeItem(atPath: folder + "/opt")
            let other = try await Self.tarball(in: folder + "/other", says: "tampered")
            try await s3.putObject(bucket: bucket, key: prefix + other.name, data: ByteBuffer(data: other.data))
            let refused = try await run()
            #expect(refused.status != 0)
            #expect(!FileManager.default.fileExists(atPath: folder + "/local/bin/uat"))
        }
    }
}

/// A CodeBuild project's inline buildspec run as CodeBuild runs it, on this machine: its phases
/// in order (install, pre_build, build; a failing command fails the build), each command in bash
/// from the source directory, with CodeBuild's variables, the project's own environment
/// variables and the tools from a tarball in an artifacts bucket. `/opt/atlas-relay` and
/// `/usr/local` are folders of the run's own, and the tools' `bin` is on `PATH`.
enum CodeBuildRun {
    struct Result {
        /// 0 when every command succeeded, else the failing command's status.
        let status: Int32
        /// What the commands printed, both streams, in order.
        let output: String
        /// `CODEBUILD_SRC_DIR`: where the reports are.
        let sourceDirectory: String
    }

    /// Runs `project`'s buildspec with `tools` (built products) packed as the tools project
    /// would pack them, and `config` as the config the phases start from.
    static func run(
        _ project: String, tools: [String], config: String, variables: [String: String], s3: S3Client, in folder: String
    ) async throws -> Result {
        try await withSandboxBucket(s3.aws, prefix: "artifacts") { bucket in
            let version = "v0.0.1-test"
            // The tools tarball and SHA256SUMS, laid out as scripts/dist.sh lays them out.
            let name = "atlas-relay-0.0.1"
            let tree = folder + "/dist/" + name + "/bin"
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
            for tool in tools {
                try FileManager.default.copyItem(atPath: BuiltProducts.path(tool), toPath: tree + "/" + tool)
            }
            let tarball = "\(name)-linux-x86_64.tar.gz"
            for (program, arguments) in [
                ("/bin/tar", ["-czf", tarball, name]), ("/bin/sh", ["-c", "sha256sum \(tarball) > SHA256SUMS"]),
            ] {
                let output = try await ProcessRunner.run(program, arguments, directory: folder + "/dist", timeout: .seconds(300))
                #expect(output.status == 0, "\(program): \(output.errorText)")
            }
            for file in [tarball, "SHA256SUMS"] {
                try await s3.putObject(
                    bucket: bucket, key: "atlas-relay/tools/\(version)/\(file)",
                    data: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: folder + "/dist/" + file))))
            }
            try await s3.putObject(bucket: bucket, key: "atlas-relay/pipeline.yml", data: ByteBuffer(string: config))

            let spec = try BuildspecTests.buildspec(
                project, ["ArtifactsBucket": bucket, "ToolsVersion": version, "ConfigKey": "atlas-relay/pipeline.yml"])
            let source = folder + "/src"
            for path in [source, folder + "/local"] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            var environment = Sandbox.environment.merging(variables) { $1 }
            environment["CODEBUILD_SRC_DIR"] = source
            environment["CODEBUILD_BUILD_ID"] = "\(project):0b5e2d4c-test"
            environment["CODEBUILD_BUILD_ARN"] = "arn:aws:codebuild:us-east-1:123456789012:build/\(project):0b5e2d4c-test"
            environment["PATH"] = folder + "/local/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            var output = ""
            for phase in ["install", "pre_build", "build"] {
                for command in BuildspecTests.commands(spec, phase) where !command.hasPrefix("apt-get ") {
                    let local = command.replacingOccurrences(of: "/opt/atlas-relay", with: folder + "/opt")
                        .replacingOccurrences(of: "/usr/local", with: folder + "/local")
                    let result = try await ProcessRunner.run(
                        "/bin/bash", ["-eo", "pipefail", "-c", local], directory: source, environment: environment,
                        timeout: .seconds(600))
                    output += String(decoding: result.stdout, as: UTF8.self) + result.errorText + "\n"
                    if result.status != 0 { return Result(status: result.status, output: output, sourceDirectory: source) }
                }
            }
            return Result(status: 0, output: output, sourceDirectory: source)
        }
    }
}

