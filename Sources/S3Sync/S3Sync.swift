/// Parallel, verified sync between local directories and S3 prefixes.
///
/// ``SyncEngine`` lists both sides, plans with the pure ``SyncPlanner`` and runs the plan with
/// bounded requests and memory; ``S3Client`` is the S3 layer under it. The `s3sync` tool in
/// `Examples/` is a thin command line over the engine.
public enum S3Sync {}
