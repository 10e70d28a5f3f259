/// Releases code into deploy buckets (``CodeReleaser``), deploys CloudFormation stacks through
/// change sets (``StackDeployer``, ``StackGraph``, ``ColdDeployer``) and pushes code to running
/// nodes (``HotDeployer``).
public enum StackDeploy {}
