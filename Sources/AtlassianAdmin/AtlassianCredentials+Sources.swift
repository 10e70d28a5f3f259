import Foundation

extension AtlassianCredentials {
    /// The environment variables ``resolve(user:token:password:tokenFile:passwordFile:environment:)``
    /// reads, for tools to name in their `--help`.
    public static let environmentHelp =
        "ATLASSIAN_TOKEN or ATLASSIAN_TOKEN_FILE (a personal access token, or with ATLASSIAN_USER a password or "
        + "API token), ATLASSIAN_USER with ATLASSIAN_PASSWORD or ATLASSIAN_PASSWORD_FILE (Basic auth)"

    /// Credentials from where secrets belong: the environment or a file, not the command line
    /// (which every user of the machine can read in `/proc/*/cmdline`).
    ///
    /// The first of these wins for each part: a value given here, a file given here, the
    /// variable (`ATLASSIAN_TOKEN`, `ATLASSIAN_PASSWORD`, `ATLASSIAN_USER`), the file the
    /// `_FILE` variable names. A file's trailing newline is dropped. With a user, the password
    /// (or else the token) signs in with Basic auth; without one, a token is sent as Bearer.
    ///
    /// - Returns: `nil` when neither a token nor a user is given.
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` for an
    ///   unreadable file, or a user without a password or token.
    public static func resolve(
        user: String? = nil, token: String? = nil, password: String? = nil, tokenFile: String? = nil,
        passwordFile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AtlassianCredentials? {
        func secret(_ value: String?, file: String?, variable: String) throws -> String? {
            if let value { return value }
            if let path = file ?? environment["\(variable)_FILE"] {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw AtlassianError(
                        status: 0, request: "credentials",
                        messages: [
                            "cannot read the secret file \(path) (given for \(variable)); check the path and its permissions"
                        ],
                        kind: .invalidInput)
                }
                var text = String(decoding: data, as: UTF8.self)
                while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
                return text
            }
            return environment[variable]
        }
        let token = try secret(token, file: tokenFile, variable: "ATLASSIAN_TOKEN")
        guard let user = user ?? environment["ATLASSIAN_USER"] else { return token.map { .token($0) } }
        guard let password = try secret(password, file: passwordFile, variable: "ATLASSIAN_PASSWORD") ?? token else {
            throw AtlassianError(
                status: 0, request: "credentials",
                messages: [
                    "user \(user) needs a password or token: ATLASSIAN_PASSWORD(_FILE) or ATLASSIAN_TOKEN(_FILE)"
                ],
                kind: .invalidInput)
        }
        return .basic(user: user, password: password)
    }
}
