/// Administers Jira and Confluence Data Center over REST: ``JiraClient``, ``ConfluenceClient``
/// and what they share (``AtlassianProduct``: status, application links, health checks).
///
/// The same settings in the product databases, for when the application is down:
/// ``JiraSettingsStore`` and ``ConfluenceSettingsStore``.
///
/// Still to come (issue #5): `EnvironmentSettings` with `plan()` and `apply()`, the simulator and
/// the `atlassian-admin` tool.
public enum AtlassianAdmin {}
