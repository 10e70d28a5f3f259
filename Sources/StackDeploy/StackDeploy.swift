/// Releases code to deploy buckets and deploys CloudFormation stacks, cold or hot.
///
/// The front door of the module. Planned (issue #4): `CodeReleaser`, `StackSpec`,
/// `StackDeployer` (change sets, events, root causes), a parallel dependency graph,
/// `ColdDeployer` and `HotDeployer` (SSM Run Command).
public enum StackDeploy {}
