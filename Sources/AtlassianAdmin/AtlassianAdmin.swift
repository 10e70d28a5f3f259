/// Administers Jira and Confluence Data Center over REST: ``JiraClient``, ``ConfluenceClient``
/// and what they share (``AtlassianProduct``: status, application links, health checks).
///
/// The same settings in the product databases, for when the application is down:
/// ``JiraSettingsStore`` and ``ConfluenceSettingsStore``.
///
/// ``EnvironmentSettings`` is an environment's desired state, planned and applied over them.
///
/// Still to come (issue #5): the simulator and the `atlassian-admin` tool.
public enum AtlassianAdmin {}
