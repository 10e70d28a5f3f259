/// Administers Jira and Confluence Data Center over REST: ``JiraClient``, ``ConfluenceClient``
/// and what they share (``AtlassianProduct``: status, application links, health checks).
///
/// Still to come (issue #5): `SettingsStore` (the settings in the product databases, for when
/// the application is down), `EnvironmentSettings` with `plan()` and `apply()`, the simulator
/// and the `atlassian-admin` tool.
public enum AtlassianAdmin {}
