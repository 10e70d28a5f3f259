/// Parallel, verified sync between local directories and S3 prefixes.
///
/// Available now: ``S3Client`` (listing, head, streamed get, put with CRC32C and Content-MD5,
/// server-side copy, batched delete, multipart upload and upload-copy), ``CRC32C``, and the pure
/// ``SyncPlanner`` (two listings in, a ``SyncPlan`` out: AWS CLI compare modes, include/exclude
/// ordering, safe `--delete`, byte-exact keys, stable ``Shard``s). Still to come (issue #3): the
/// transfer layer and `SyncEngine` that run a plan, the `s3sync` tool and the benchmark.
public enum S3Sync {}
