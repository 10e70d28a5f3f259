import S3Sync

/// An account's deploy bucket, and the rules for writing to it.
public struct DeployBucket: Sendable {
    /// The client, with the credentials of the bucket's account (an assumed role for another account).
    public let s3: S3Client
    /// The bucket.
    public let bucket: String
    /// A PROD bucket is written only when the caller says so explicitly.
    public let isProduction: Bool
    /// The account the credentials and the bucket must belong to, when set: checked with STS
    /// before anything is written, and by S3 on every request.
    public let expectedAccount: String?

    /// Describes a deploy bucket. With `expectedAccount`, every request also asks S3 to refuse
    /// the bucket unless that account owns it (`x-amz-expected-bucket-owner`).
    public init(s3: S3Client, bucket: String, isProduction: Bool = false, expectedAccount: String? = nil) {
        self.s3 = expectedAccount.map { S3Client(s3.aws, expectedBucketOwner: $0) } ?? s3
        self.bucket = bucket
        self.isProduction = isProduction
        self.expectedAccount = expectedAccount
    }

    /// The bucket as an S3 URL, for messages.
    public var location: String { "s3://\(bucket)" }
}
