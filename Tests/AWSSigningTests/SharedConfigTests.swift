import Foundation
import Testing

@testable import AWSSigning

struct SharedConfigTests {
    static let config = """
        # comment
        [default]
        region = eu-west-1

        [profile base]
        aws_access_key_id = AKIDBASE
        aws_secret_access_key = base-secret
        s3 =
          max_concurrent_requests = 20

        [profile deploy]
        role_arn = arn:aws:iam::222222222222:role/deploy
        source_profile = base
        external_id = ext-1
        role_session_name = nightly
        duration_seconds = 1800

        [profile chained]
        role_arn = arn:aws:iam::333333333333:role/second
        source_profile = deploy

        [profile self-source]
        role_arn = arn:aws:iam::444444444444:role/x
        source_profile = self-source
        aws_access_key_id = AKIDSELF
        aws_secret_access_key = self-secret

        [profile loop-a]
        role_arn = arn:aws:iam::1:role/a
        source_profile = loop-b

        [profile loop-b]
        role_arn = arn:aws:iam::1:role/b
        source_profile = loop-a

        [profile ci]
        role_arn = arn:aws:iam::555555555555:role/ci
        credential_source = EcsContainer

        [profile oidc]
        role_arn = arn:aws:iam::666666666666:role/oidc
        web_identity_token_file = /var/run/token

        [profile proc]
        credential_process = /usr/local/bin/get-creds --account dev

        [profile sso]
        sso_session = corp
        sso_account_id = 111111111111

        [profile mfa]
        role_arn = arn:aws:iam::1:role/m
        source_profile = base
        mfa_serial = arn:aws:iam::1:mfa/me

        [profile half]
        aws_access_key_id = AKIDHALF

        [sso-session corp]
        sso_region = us-east-1
        """

    static let credentials = """
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = default-secret
        aws_session_token = default-token

        [base]
        aws_access_key_id = AKIDBASE2
        """

    static func parsed() throws -> SharedConfig {
        try SharedConfig(config: config, credentials: credentials)
    }

    @Test func credentialsFileWinsOverConfig() throws {
        let shared = try Self.parsed()
        #expect(shared.region(profile: "default") == "eu-west-1")
        #expect(
            try shared.credentialSource(profile: "default")
                == .staticKeys(
                    Credentials(
                        accessKeyId: "AKIDDEFAULT", secretAccessKey: "default-secret", sessionToken: "default-token")))
        #expect(
            try shared.credentialSource(profile: "base")
                == .staticKeys(Credentials(accessKeyId: "AKIDBASE2", secretAccessKey: "base-secret")))
        #expect(shared.profiles["base"]?["s3"] == "max_concurrent_requests = 20")
        #expect(shared.profiles["corp"] == nil)
    }

    @Test func roleChains() throws {
        let shared = try Self.parsed()
        let base = ProfileCredentialSource.staticKeys(
            Credentials(accessKeyId: "AKIDBASE2", secretAccessKey: "base-secret"))
        let deploy = ProfileCredentialSource.assumeRole(
            AssumeRoleSettings(
                roleArn: "arn:aws:iam::222222222222:role/deploy", sessionName: "nightly", externalId: "ext-1",
                durationSeconds: 1800), source: base)
        #expect(try shared.credentialSource(profile: "deploy") == deploy)
        #expect(
            try shared.credentialSource(profile: "chained")
                == .assumeRole(AssumeRoleSettings(roleArn: "arn:aws:iam::333333333333:role/second"), source: deploy))
        #expect(
            try shared.credentialSource(profile: "self-source")
                == .assumeRole(
                    AssumeRoleSettings(roleArn: "arn:aws:iam::444444444444:role/x"),
                    source: .staticKeys(Credentials(accessKeyId: "AKIDSELF", secretAccessKey: "self-secret"))))
        #expect(
            try shared.credentialSource(profile: "ci")
                == .assumeRole(AssumeRoleSettings(roleArn: "arn:aws:iam::555555555555:role/ci"), source: .container))
        #expect(
            try shared.credentialSource(profile: "oidc")
                == .webIdentity(
                    roleArn: "arn:aws:iam::666666666666:role/oidc", tokenFile: "/var/run/token", sessionName: nil))
        #expect(
            try shared.credentialSource(profile: "proc") == .process(command: "/usr/local/bin/get-creds --account dev"))
    }

    @Test func profileErrorsNameTheProblemAndTheFix() throws {
        let shared = try Self.parsed()
        func message(_ profile: String) -> String {
            do {
                _ = try shared.credentialSource(profile: profile)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message("loop-a").contains("loops: loop-a → loop-b → loop-a"))
        #expect(message("nope").contains("profile 'nope' is not in the AWS config"))
        #expect(message("nope").contains("known profiles: base, chained, ci"))
        #expect(message("sso").contains("IAM Identity Center"))
        #expect(message("mfa").contains("MFA"))
        #expect(message("half").contains("has aws_access_key_id but no aws_secret_access_key"))
        #expect(message("deploy") == "no error")
    }

    @Test func malformedFilesReportFileAndLine() {
        #expect(throws: CredentialError.self) { try SharedConfig(config: "[default\nregion=x", credentials: nil) }
        do {
            _ = try SharedConfig(
                config: "[default]\nregion = x\nthis is not a setting\n", credentials: nil, configPath: "/tmp/cfg")
            Issue.record("expected a parse error")
        } catch let error as CredentialError {
            #expect(error.kind == .malformedConfig)
            #expect(error.message.hasPrefix("/tmp/cfg:3:"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        do {
            _ = try SharedConfig(config: nil, credentials: "aws_access_key_id = A\n", credentialsPath: "creds")
            Issue.record("expected a parse error")
        } catch let error as CredentialError {
            #expect(error.message.contains("creds:1: setting outside any section"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func loadsFilesNamedByTheEnvironment() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "[profile x]\nregion = ap-south-1\n".write(
            to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let environment = [
            "AWS_CONFIG_FILE": directory.appendingPathComponent("config").path,
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("missing").path,
            "AWS_PROFILE": "x",
        ]
        let shared = try SharedConfig.load(environment: environment)
        #expect(shared.region(profile: SharedConfig.selectedProfile(environment: environment)) == "ap-south-1")
        #expect(SharedConfig.selectedProfile(environment: [:]) == "default")
    }
}
