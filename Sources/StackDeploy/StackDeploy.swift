/// Deploys CloudFormation stacks through change sets: ``StackDeployer`` for one stack,
/// ``StackGraph`` for several in dependency order, ``ColdDeployer`` for a new code version.
///
/// Still to come (issue #4): `CodeReleaser` (a commit's archive and manifest into a deploy
/// bucket, promotion between accounts) and `HotDeployer` (SSM Run Command).
public enum StackDeploy {}
