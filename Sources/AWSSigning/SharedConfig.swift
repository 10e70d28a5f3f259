import Foundation

/// The AWS shared `config` and `credentials` files, parsed.
///
/// Locations follow the AWS CLI: `AWS_CONFIG_FILE` (default `~/.aws/config`) and
/// `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`). A missing file is empty; a
/// malformed one is an error naming the file and line. Keys from the credentials file win over
/// the same keys in the config file.
public struct SharedConfig: Sendable, Equatable {
    /// Profile name → key → value. Keys are lower-cased.
    public let profiles: [String: [String: String]]

    /// Parses already-read file contents (for tests and embedding).
    ///
    /// - Parameters:
    ///   - config: contents of the config file (`[profile name]` sections).
    ///   - credentials: contents of the credentials file (`[name]` sections).
    ///   - configPath: the name used in error messages for `config`.
    ///   - credentialsPath: the name used in error messages for `credentials`.
    public init(
        config: String?, credentials: String?, configPath: String = "config",
        credentialsPath: String = "credentials"
    ) throws {
        var profiles: [String: [String: String]] = [:]
        if let config {
            for (section, values) in try Self.parse(config, path: configPath) {
                let name: String
                if section == "default" {
                    name = "default"
                } else if section.hasPrefix("profile ") {
                    name = section.dropFirst("profile ".count).trimmingCharacters(in: .whitespaces)
                } else {
                    continue  // sso-session, services and other non-profile sections
                }
                profiles[name, default: [:]].merge(values) { _, new in new }
            }
        }
        if let credentials {
            for (section, values) in try Self.parse(credentials, path: credentialsPath) {
                profiles[section, default: [:]].merge(values) { _, new in new }
            }
        }
        self.profiles = profiles
    }

    /// Reads the files named by the environment, or the defaults under `~/.aws`.
    ///
    /// - Parameter environment: the process environment by default.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SharedConfig
    {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
        let credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
        return try SharedConfig(
            config: try read(configPath), credentials: try read(credentialsPath),
            configPath: configPath, credentialsPath: credentialsPath)
    }

    /// The profile selected by `AWS_PROFILE` (or `AWS_DEFAULT_PROFILE`), else `default`.
    public static func selectedProfile(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
    }

    /// The region set for `profile`, if any.
    public func region(profile: String) -> String? { profiles[profile]?["region"] }

    static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }

    static func read(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CredentialError(
                .malformedConfig,
                "cannot read \(path): \(error.localizedDescription); check its permissions and encoding")
        }
    }

    /// INI as the AWS CLI reads it: `[section]`, `key = value`, `#`/`;` comment lines, and
    /// indented continuation lines (nested settings such as `s3 =`, which are kept as given).
    static func parse(_ text: String, path: String) throws -> [(String, [String: String])] {
        var sections: [(String, [String: String])] = []
        var lastKey: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw CredentialError(
                        .malformedConfig,
                        "\(path):\(lineNumber): section header '\(trimmed)' is not closed; write it as [name] or [profile name]"
                    )
                }
                sections.append((trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces), [:]))
                lastKey = nil
                continue
            }
            if line.first == " " || line.first == "\t", let key = lastKey, !sections.isEmpty {
                // A nested setting under `key =`: kept verbatim, not interpreted.
                sections[sections.count - 1].1[key, default: ""] +=
                    (sections[sections.count - 1].1[key]!.isEmpty ? "" : "\n") + trimmed
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw CredentialError(
                    .malformedConfig,
                    "\(path):\(lineNumber): expected 'key = value', a [section] or a comment, found something else; fix or remove that line"
                )
            }
            guard !sections.isEmpty else {
                throw CredentialError(
                    .malformedConfig,
                    "\(path):\(lineNumber): setting outside any section; put it under [default] or [profile name]")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw CredentialError(.malformedConfig, "\(path):\(lineNumber): a setting has no name before '='")
            }
            sections[sections.count - 1].1[key] = value
            lastKey = key
        }
        return sections
    }
}

/// How a profile gets its credentials, resolved from ``SharedConfig`` with the AWS CLI's rules.
public indirect enum ProfileCredentialSource: Sendable, Equatable {
    /// Keys written in the profile.
    case staticKeys(Credentials)
    /// `credential_process`: a command that prints credentials as JSON.
    case process(command: String)
    /// `role_arn` with `source_profile` or `credential_source`.
    case assumeRole(AssumeRoleSettings, source: ProfileCredentialSource)
    /// `role_arn` with `web_identity_token_file`.
    case webIdentity(roleArn: String, tokenFile: String, sessionName: String?)
    /// `credential_source = Environment`.
    case environment
    /// `credential_source = Ec2InstanceMetadata`.
    case instanceMetadata
    /// `credential_source = EcsContainer`.
    case container
}

/// The parameters of an STS AssumeRole call.
public struct AssumeRoleSettings: Sendable, Equatable {
    /// The role to assume.
    public var roleArn: String
    /// The session name; the SDKs generate one when it is not set.
    public var sessionName: String?
    /// The external id the role's trust policy requires, if any.
    public var externalId: String?
    /// The session duration in seconds (900 to 43200).
    public var durationSeconds: Int?

    /// Creates settings.
    public init(roleArn: String, sessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil) {
        self.roleArn = roleArn
        self.sessionName = sessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
    }
}

extension SharedConfig {
    /// Resolves how `profile` obtains credentials, following `source_profile` chains.
    ///
    /// - Throws: ``CredentialError`` for an unknown profile, a cycle, conflicting or missing keys,
    ///   or an unsupported method (SSO, MFA), each with the fix.
    public func credentialSource(profile: String) throws -> ProfileCredentialSource {
        try resolve(profile, visited: [])
    }

    private func resolve(_ name: String, visited: [String]) throws -> ProfileCredentialSource {
        guard let values = profiles[name] else {
            let known = profiles.keys.sorted()
            throw CredentialError(
                .unknownProfile,
                "profile '\(name)' is not in the AWS config or credentials file"
                    + (visited.isEmpty ? "" : " (named as source_profile by '\(visited.last!)')")
                    + "; known profiles: \(known.isEmpty ? "none" : known.joined(separator: ", ")). "
                    + "Check AWS_PROFILE, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.")
        }
        if visited.contains(name) {
            // A profile may name itself as source when it also holds static keys.
            if visited.last == name, let keys = try staticKeys(name, values) { return .staticKeys(keys) }
            throw CredentialError(
                .invalidProfile,
                "source_profile chain loops: \((visited + [name]).joined(separator: " → ")); break the cycle")
        }
        if let roleArn = values["role_arn"] {
            let settings = AssumeRoleSettings(
                roleArn: roleArn, sessionName: values["role_session_name"], externalId: values["external_id"],
                durationSeconds: try values["duration_seconds"].map { text in
                    guard let seconds = Int(text), (900...43_200).contains(seconds) else {
                        throw CredentialError(
                            .invalidProfile,
                            "profile '\(name)': duration_seconds '\(text)' must be a whole number from 900 to 43200")
                    }
                    return seconds
                })
            if values["mfa_serial"] != nil {
                throw CredentialError(
                    .invalidProfile,
                    "profile '\(name)' needs an MFA code (mfa_serial), which unattended pipelines cannot enter; "
                        + "use a role without MFA for automation")
            }
            let sourceProfile = values["source_profile"]
            let credentialSource = values["credential_source"]
            let tokenFile = values["web_identity_token_file"]
            let count = [sourceProfile, credentialSource, tokenFile].compactMap { $0 }.count
            if count > 1 {
                throw CredentialError(
                    .invalidProfile,
                    "profile '\(name)' sets more than one of source_profile, credential_source and web_identity_token_file; keep one"
                )
            }
            if let tokenFile {
                return .webIdentity(roleArn: roleArn, tokenFile: tokenFile, sessionName: settings.sessionName)
            }
            if let sourceProfile {
                return .assumeRole(settings, source: try resolve(sourceProfile, visited: visited + [name]))
            }
            if let credentialSource {
                let source: ProfileCredentialSource
                switch credentialSource {
                case "Environment": source = .environment
                case "Ec2InstanceMetadata": source = .instanceMetadata
                case "EcsContainer": source = .container
                default:
                    throw CredentialError(
                        .invalidProfile,
                        "profile '\(name)': credential_source '\(credentialSource)' is not one of Environment, Ec2InstanceMetadata, EcsContainer"
                    )
                }
                return .assumeRole(settings, source: source)
            }
            throw CredentialError(
                .invalidProfile,
                "profile '\(name)' has role_arn but no source_profile, credential_source or web_identity_token_file; add one"
            )
        }
        if let keys = try staticKeys(name, values) { return .staticKeys(keys) }
        if let command = values["credential_process"] { return .process(command: command) }
        if values["sso_session"] != nil || values["sso_start_url"] != nil {
            throw CredentialError(
                .invalidProfile,
                "profile '\(name)' uses IAM Identity Center (SSO), which this tool does not log in to; "
                    + "run `aws sso login` and use `credential_process = aws configure export-credentials --profile \(name)`"
            )
        }
        throw CredentialError(
            .invalidProfile,
            "profile '\(name)' has no credentials: add aws_access_key_id/aws_secret_access_key, role_arn, or credential_process"
        )
    }

    private func staticKeys(_ name: String, _ values: [String: String]) throws -> Credentials? {
        let key = values["aws_access_key_id"]
        let secret = values["aws_secret_access_key"]
        switch (key, secret) {
        case (nil, nil): return nil
        case (let key?, let secret?):
            return Credentials(accessKeyId: key, secretAccessKey: secret, sessionToken: values["aws_session_token"])
        case (nil, _):
            throw CredentialError(
                .invalidProfile, "profile '\(name)' has aws_secret_access_key but no aws_access_key_id")
        case (_, nil):
            throw CredentialError(
                .invalidProfile, "profile '\(name)' has aws_access_key_id but no aws_secret_access_key")
        }
    }
}
