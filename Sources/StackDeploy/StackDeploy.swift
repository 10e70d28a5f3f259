/// Deploys CloudFormation stacks through change sets: ``StackDeployer`` for one stack,
/// ``StackGraph`` for several in dependency order.
///
/// Still to come (issue #4): `CodeReleaser` (a commit's archive and manifest into a deploy
/// bucket, promotion between accounts), `ColdDeployer` and `HotDeployer` (SSM Run Command).
public enum StackDeploy {}
