/// Removes the secrets URLs carry before a URL, or a message that quotes one, is shown.
///
/// One place for every module (AWSCore, the Atlassian clients, the tools): a password in the
/// user-info part (`http://admin:secret@host`) and the values of query parameters that hold
/// secrets (presigned URLs' `X-Amz-Signature` and `X-Amz-Security-Token`, `token`, `password`,
/// `access_token`, …) become `***`. The user name, host, path and other parameters stay, so the
/// message still says which endpoint failed.
///
/// ```swift
/// URLRedaction.redact("postgres://relay:hunter2@db:5432/jira")  // "postgres://relay:***@db:5432/jira"
/// ```
public enum URLRedaction {
    /// What a redacted secret reads as.
    public static let mask = "***"

    /// `text` (a URL, or a message with URLs in it) with every URL's secrets replaced by ``mask``.
    public static func redact(_ text: String) -> String {
        var text = text
        text.replace(userInfo) { match in "\(match.output.1)\(match.output.2):\(mask)@" }
        text.replace(secretParameter) { match in "\(match.output.1)\(mask)" }
        return text
    }

    /// `scheme://user:password@`: the password is anything up to the last `@` before the path.
    nonisolated(unsafe) static let userInfo = /([A-Za-z][A-Za-z0-9+.\-]*:\/\/)([^\/\s:@]*):[^\/\s]*@/

    /// `?name=value` or `&name=value` for the names that carry secrets, in any case.
    nonisolated(unsafe) static let secretParameter =
        /(?i)([?&](?:x-amz-signature|x-amz-security-token|x-amz-credential|token|access_token|password|passwd|secret|sig|signature|api_key|apikey)=)[^&\s#"']*/
}
