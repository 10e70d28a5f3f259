/// Tests deployed Jira and Confluence: functional suites, performance runs and smoke tests.
///
/// The front door of the module. Planned (issue #7): `Scenario`/`Step`, `AppTester`,
/// `SmokeTester`, `PerfTester` and JUnit, JSON and HTML reports.
public enum AppTesting {}
