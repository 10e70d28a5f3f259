import Crypto
import Foundation
import NIOCore
import RelayFoundation
import S3Sync

/// One dump object written to S3 as its bytes are produced, of any size up to
/// ``DumpPartSizing/capacity``: bytes are appended, parts grow as ``DumpPartSizing`` says, and
/// the size and SHA-256 of everything appended are kept.
///
/// An object that ends within the first part is written with one `PutObject`; a larger one as a
/// multipart upload, started when the first part is full. One part is in memory at a time.
/// ``abort()`` discards an unfinished upload.
struct DumpUpload {
    let s3: S3Client
    let bucket: String
    let key: String
    let options: S3Client.WriteOptions
    /// What the object holds, for the error when it outgrows 10,000 parts.
    let what: String
    private var uploadId: String?
    private var hash = SHA256()
    private var parts: [S3Client.CompletedPart] = []
    private var part = Data()
    /// The bytes appended so far.
    private(set) var bytes: Int64 = 0

    init(_ s3: S3Client, bucket: String, key: String, options: S3Client.WriteOptions, what: String) {
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.options = options
        self.what = what
    }

    /// Adds `data` to the object, uploading a part when one is full.
    mutating func append(_ data: Data) async throws {
        hash.update(data: data)
        bytes += Int64(data.count)
        part.append(data)
        if Int64(part.count) >= DumpPartSizing.partSize(partNumber: parts.count + 1) { try await uploadPart() }
    }

    /// Writes what is left and completes the object.
    ///
    /// - Returns: its size and SHA-256 (hex).
    mutating func finish() async throws -> (bytes: Int64, sha256: String) {
        if uploadId == nil {
            _ = try await s3.putObject(bucket: bucket, key: key, data: ByteBuffer(bytes: part), options: options)
        } else {
            if !part.isEmpty { try await uploadPart() }
            _ = try await s3.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId!, parts: parts)
        }
        part = Data()
        return (bytes, Hex.string(hash.finalize()))
    }

    /// Discards an unfinished multipart upload (its parts would otherwise be stored, and billed).
    func abort() async {
        guard let uploadId else { return }
        try? await s3.abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
    }

    private mutating func uploadPart() async throws {
        guard parts.count < S3Client.maximumParts else {
            throw DataRefreshError("\(what) is larger than \(DumpPartSizing.capacity) bytes, the most 10,000 parts hold")
        }
        if uploadId == nil {
            uploadId = try await s3.createMultipartUpload(bucket: bucket, key: key, options: options)
        }
        parts.append(
            try await s3.uploadPart(
                bucket: bucket, key: key, uploadId: uploadId!, partNumber: parts.count + 1, data: ByteBuffer(bytes: part)))
        part = Data()
    }
}
