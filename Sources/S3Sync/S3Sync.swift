/// Parallel, verified sync between local directories and S3 prefixes.
///
/// The front door of the module. Planned (issue #3): `S3Client` (list, head, get, put, copy,
/// delete, multipart), a transfer layer with bounded memory and checksum verification,
/// `SyncPlanner` (two listings in, a plan out) and `SyncEngine` (runs a plan with bounded
/// concurrency and progress). It builds on ``AWSCore`` for signing, retries and endpoints.
public enum S3Sync {}
