import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import NIOCore
import RelayFoundation
import S3Sync
import Testing

@testable import StackDeploy

/// Code-Releaser on a real git repository made by the test: releases into SeaweedFS, and
/// promotions between two moto accounts through an assumed role.
struct CodeReleaserTests {
    /// A repository with a master commit, then a feature branch with a second commit.
    struct Fixture {
        let root: String
        let repository: GitRepository
        let files: [String: String]

        static let longPath = "cloudformation/" + String(repeating: "nested-folder/", count: 8) + "jira-stack.yaml"

        static func make() async throws -> Fixture {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("relay-git-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let repository = GitRepository(path: root)
            try await repository.run(["init", "-q", "-b", "master"])
            try await repository.run(["config", "user.name", "Dev One"])
            try await repository.run(["config", "user.email", "dev@example.com"])
            var files = [
                "README.md": "# app config\n", "scripts/boot.sh": "#!/bin/sh\necho boot\n",
                longPath: "Resources: {}\n",
            ]
            try write(files, in: root)
            try FileManager.default.createSymbolicLink(
                atPath: root + "/current.sh", withDestinationPath: "scripts/boot.sh")
            try await repository.run(["add", "-A"])
            try await repository.run(["commit", "-q", "-m", "Initial templates"])
            try await repository.run(["checkout", "-q", "-b", "feature/jira-1234-login-page"])
            files["scripts/boot.sh"] = "#!/bin/sh\necho boot v2\n"
            try write(files, in: root)
            try await repository.run(["commit", "-q", "-am", "JIRA-1240: faster boot, see also OPS-7"])
            return Fixture(root: root, repository: repository, files: files)
        }

        static func write(_ files: [String: String], in root: String) throws {
            for (path, text) in files {
                let url = URL(fileURLWithPath: root + "/" + path)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
            }
        }
    }

    static func sha256(_ text: String) -> String { Hex.sha256(Data(text.utf8)) }

    static func seaweed(reader: Bool = false) throws -> S3Client { S3Client(try Sandbox.s3AWSClient(reader: reader)) }

    /// Runs `body` with a bucket of its own (`base-…`), deleted with its objects afterwards.
    static func withBucket<T>(_ s3: S3Client, _ base: String, _ body: (String) async throws -> T) async throws -> T {
        try await withSandboxBucket(s3.aws, prefix: base, body: body)
    }

    @Test func releaseIsReproducibleAndDescribesEveryFile() async throws {
        let fixture = try await Fixture.make()
        let s3 = try Self.seaweed()
        try await Self.withBucket(s3, "dev-deploy") { bucket in
            let target = DeployBucket(s3: s3, bucket: bucket)
            let releaser = CodeReleaser(repository: fixture.repository)
            let first = try await releaser.release(.commit("feature/jira-1234-login-page"), to: target)
            let second = try await releaser.release(.commit(first.commit), to: target)
            #expect(first.archive == second.archive)  // same commit, same bytes
            #expect(first.commit == (try await fixture.repository.resolve("HEAD")))
            #expect(first.branch == "feature/jira-1234-login-page")
            #expect(first.jiraKeys == ["JIRA-1234", "JIRA-1240", "OPS-7"])
            #expect(first.author == "Dev One <dev@example.com>")
            var expected = fixture.files.mapValues(Self.sha256)
            expected["current.sh"] = Self.sha256("scripts/boot.sh")  // the link's target
            #expect(Dictionary(uniqueKeysWithValues: first.files.map { ($0.path, $0.sha256) }) == expected)
            #expect(first.files.first { $0.path == "current.sh" }?.symlink == true)

            let stored = try #require(try await s3.getObjectData(bucket: target.bucket, key: first.archive.key))
            #expect(Hex.sha256(stored) == first.archive.sha256)
            let pointer = try #require(try await CodeReleaser.current(in: target))
            #expect(pointer.commit == first.commit)
            #expect(pointer.archiveSHA256 == first.archive.sha256)
            let manifest = try #require(try await s3.getObjectData(bucket: target.bucket, key: pointer.manifest))
            #expect(try CodeReleaser.decoder.decode(ReleaseManifest.self, from: manifest) == second)
        }
    }

    @Test func workingTreeReleaseRefusesUncommittedChangesUnlessAllowed() async throws {
        let fixture = try await Fixture.make()
        let s3 = try Self.seaweed()
        try await Self.withBucket(s3, "dev-laptop") { bucket in
            let target = DeployBucket(s3: s3, bucket: bucket)
            let releaser = CodeReleaser(repository: fixture.repository)
            try Fixture.write(["README.md": "# work in progress\n"], in: fixture.root)
            let refused = try await #require(throws: ReleaseError.self) {
                try await releaser.release(.workingTree(allowUncommitted: false), to: target)
            }
            #expect(refused.kind == .refused)
            #expect(refused.description.contains("uncommitted changes (README.md)"))  // names what to commit
            #expect(try await CodeReleaser.current(in: target) == nil)

            try Fixture.write(["notes.txt": "untracked\n"], in: fixture.root)
            let manifest = try await releaser.release(.workingTree(allowUncommitted: true), to: target)
            let head = try await fixture.repository.resolve("HEAD")
            #expect(manifest.baseCommit == head && manifest.commit != head)
            #expect(manifest.files.first { $0.path == "README.md" }?.sha256 == Self.sha256("# work in progress\n"))
            #expect(!manifest.files.contains { $0.path == "notes.txt" })
            #expect(manifest.jiraKeys.first == "JIRA-1234")
        }
    }

    @Test func unknownCommitsAndProductionBucketsAreRefusedBeforeWriting() async throws {
        let fixture = try await Fixture.make()
        let s3 = try Self.seaweed()
        try await Self.withBucket(s3, "guarded") { bucket in
            let releaser = CodeReleaser(repository: fixture.repository)
            let unknown = try await #require(throws: ReleaseError.self) {
                try await releaser.release(
                    .commit("0123456789abcdef0123456789abcdef01234567"), to: .init(s3: s3, bucket: bucket))
            }
            #expect(unknown.kind == .notFound)
            let prod = try await #require(throws: ReleaseError.self) {
                try await releaser.release(.commit("HEAD"), to: .init(s3: s3, bucket: bucket, isProduction: true))
            }
            #expect(prod.kind == .refused)
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)
            try await releaser.release(
                .commit("HEAD"), to: .init(s3: s3, bucket: bucket, isProduction: true), allowProduction: true)
            #expect(try await CodeReleaser.current(in: .init(s3: s3, bucket: bucket)) != nil)
        }
    }

    @Test func promotionNeedsEvidenceAndAnUndamagedArchive() async throws {
        let fixture = try await Fixture.make()
        let admin = try Self.seaweed()
        try await Self.withBucket(admin, "dev-deploy") { dev in
            try await Self.withBucket(admin, "uat-deploy") { uat in
                try await Self.promoteWithEvidence(fixture, admin: admin, dev: dev, uat: uat)
            }
        }
    }

    /// The body of ``promotionNeedsEvidenceAndAnUndamagedArchive()``, with its two buckets.
    static func promoteWithEvidence(_ fixture: Fixture, admin: S3Client, dev: String, uat uatBucket: String)
        async throws
    {
        let uat = DeployBucket(s3: admin, bucket: uatBucket)
        // The source is read with a read-only identity, as through a role in the DEV account.
        let source = DeployBucket(s3: try Self.seaweed(reader: true), bucket: dev)
        let released = try await CodeReleaser(repository: fixture.repository)
            .release(.commit("HEAD"), to: .init(s3: admin, bucket: dev))

        let unknown = try await #require(throws: ReleaseError.self) {
            try await CodeReleaser.promote(commit: "feedface", from: source, passed: "integration", to: uat)
        }
        #expect(unknown.kind == .notFound)
        #expect(unknown.description.contains("feedface"))  // names the commit
        let unpassed = try await #require(throws: ReleaseError.self) {
            try await CodeReleaser.promote(commit: released.commit, from: source, passed: "integration", to: uat)
        }
        #expect(unpassed.kind == .refused)
        #expect(unpassed.description.contains("integration"))  // names the phase it needs
        #expect(try await CodeReleaser.current(in: uat) == nil)

        try await CodeReleaser.recordPass(
            commit: released.commit, phase: "integration", in: .init(s3: admin, bucket: dev),
            details: ["build": "nightly-42"])
        let promoted = try await CodeReleaser.promote(
            commit: released.commit, from: source, passed: "integration", to: uat)
        #expect(promoted == released)
        let copied = try #require(try await admin.getObjectData(bucket: uat.bucket, key: released.archive.key))
        #expect(Hex.sha256(copied) == released.archive.sha256)
        #expect(try await CodeReleaser.current(in: uat)?.commit == released.commit)

        // Damage the source archive: the next promotion refuses and UAT keeps what it had.
        var damaged = ByteBuffer(
            bytes: try #require(try await admin.getObjectData(bucket: dev, key: released.archive.key)))
        damaged.setInteger(UInt8(0x41), at: 600)
        try await admin.putObject(bucket: dev, key: released.archive.key, data: damaged)
        let refused = try await #require(throws: ReleaseError.self) {
            try await CodeReleaser.promote(commit: released.commit, from: source, passed: "integration", to: uat)
        }
        #expect(refused.kind == .damaged)
    }

    /// A verified release written out is the commit's tree (symlinks left out), and a path that
    /// would leave the folder is refused with nothing written outside it.
    @Test func aReleaseWrittenOutIsTheTreeAndStaysInItsFolder() async throws {
        let fixture = try await Fixture.make()
        let admin = try Self.seaweed()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("release-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await Self.withBucket(admin, "dev-deploy") { dev in
            let bucket = DeployBucket(s3: admin, bucket: dev)
            let released = try await CodeReleaser(repository: fixture.repository).release(.commit("HEAD"), to: bucket)
            let release = try await CodeReleaser.verifiedRelease(of: released.commit, in: bucket)
            try release.write(to: folder + "/tree")
            for (path, text) in fixture.files {
                #expect(try String(contentsOfFile: folder + "/tree/" + path, encoding: .utf8) == text, "\(path)")
            }
            #expect(!FileManager.default.fileExists(atPath: folder + "/tree/current.sh"))  // the symlink

            for hostile in ["../escaped.txt", "/tmp/absolute-\(UUID()).txt", "a/../../escaped.txt"] {
                let crafted = VerifiedRelease(
                    manifest: released, location: bucket.location, files: [hostile: Data("x".utf8)], archive: Data())
                let error = try #require(throws: ReleaseError.self) { try crafted.write(to: folder + "/tree") }
                #expect(error.kind == .damaged)
            }
            #expect(!FileManager.default.fileExists(atPath: folder + "/escaped.txt"))
        }
    }

    @Test func promotionAcrossAccountsThroughAnAssumedRole() async throws {
        // The UAT pipeline runs in its own account (moto's 123456789012) and reads the DEV
        // account's deploy bucket (222222222222) through a role there.
        let fixture = try await Fixture.make()
        let endpoints = EndpointResolver(explicitEndpoint: try Sandbox.motoEndpoint())
        let uatCredentials = Sandbox.motoCredentials
        let devRole = AssumeRoleCredentialProvider(
            AssumeRoleSettings(roleArn: "arn:aws:iam::222222222222:role/relay-release-reader", sessionName: "promote"),
            source: uatCredentials, region: "us-east-1", endpoints: endpoints)
        let devS3 = S3Client(try Sandbox.motoAWSClient(credentials: devRole))
        let uatS3 = S3Client(try Sandbox.motoAWSClient())
        try await Self.withBucket(devS3, "dev-deploy") { devBucket in
            try await Self.withBucket(uatS3, "uat-deploy") { uatBucket in
                try await Self.promoteAcrossAccounts(
                    fixture, devS3: devS3, devBucket: devBucket, uatS3: uatS3, uatBucket: uatBucket)
            }
        }
    }

    /// The body of ``promotionAcrossAccountsThroughAnAssumedRole()``, with a bucket in each account.
    static func promoteAcrossAccounts(
        _ fixture: Fixture, devS3: S3Client, devBucket: String, uatS3: S3Client, uatBucket: String
    ) async throws {
        let dev = DeployBucket(s3: devS3, bucket: devBucket, expectedAccount: "222222222222")

        // The nightly phase in DEV released the commit and recorded that it passed.
        let released = try await CodeReleaser(repository: fixture.repository).release(.commit("HEAD"), to: dev)
        try await CodeReleaser.recordPass(commit: released.commit, phase: "integration", in: dev)

        let wrongAccount = try await #require(throws: ReleaseError.self) {
            try await CodeReleaser.promote(
                commit: released.commit, from: dev, passed: "integration",
                to: .init(s3: uatS3, bucket: uatBucket, expectedAccount: "333333333333"))
        }
        #expect(wrongAccount.kind == .refused)
        #expect(wrongAccount.description.contains("belong to account 123456789012, not 333333333333"))  // both accounts
        #expect(try await uatS3.listAllObjects(bucket: uatBucket).isEmpty)

        let uat = DeployBucket(s3: uatS3, bucket: uatBucket, expectedAccount: "123456789012")
        try await CodeReleaser.promote(commit: released.commit, from: dev, passed: "integration", to: uat)
        #expect(try await CodeReleaser.current(in: uat)?.archiveSHA256 == released.archive.sha256)
        let copied = try #require(try await uatS3.getObjectData(bucket: uatBucket, key: released.archive.key))
        #expect(Hex.sha256(copied) == released.archive.sha256)
    }
}
