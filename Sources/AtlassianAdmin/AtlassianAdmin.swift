/// Administers Jira and Confluence Data Center over REST and, while they are down, in their databases.
///
/// The front door of the module. Planned (issue #5): `JiraClient`, `ConfluenceClient`,
/// `SettingsStore` and `EnvironmentSettings` with `plan()` and `apply()`.
public enum AtlassianAdmin {}
