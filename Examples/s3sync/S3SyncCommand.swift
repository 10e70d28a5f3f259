import AWSCore
import ArgumentParser
import Foundation
import Logging
import S3Sync
import ToolSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `s3sync SRC DST`: the AWS CLI's `s3 sync`, parallel and verified.
@main
struct S3SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3sync",
        abstract:
            "Sync a local folder and an S3 prefix, or two S3 prefixes, as `aws s3 sync` does — faster and verified.",
        discussion: """
            Each side is a local path or s3://bucket/prefix. --include and --exclude apply in the order given; the last
            matching rule wins.

            Safety: a source folder that does not exist is an error, never an empty source. With --delete, a source
            that lists nothing beside a destination that has files is refused unless --allow-empty-source is given,
            and --max-delete N or P% withholds every deletion of a run that would delete more than that.
            Object keys that would land outside the destination ('..', '.', '//', a leading '/') are refused and
            reported. Source and destination may not overlap. One sync at a time writes into a local folder.

            Interrupting: on SIGINT (Ctrl-C) or SIGTERM no new transfer starts, the ones in flight stop, their
            multipart uploads are aborted (so no parts are left to pay for), deletions are withheld, and s3sync says
            what was done and exits 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once. Uploads a run could
            not abort (it was killed) are aborted by the next run of the same sync: those of keys it writes, started
            more than --stale-upload-age seconds before it.

            Large syncs: both sides are listed as sorted streams and merged, so memory does not grow with the
            number of keys; transfers start while listing. With --checkpoint FILE an interrupted sync (a failure, a
            signal, a lost endpoint) resumes after the keys already done instead of listing everything again.

            Exit status: 0 everything planned was done; 1 something failed (see the failures; deletions are
            withheld); 2 bad input or refused before anything was changed; 130 or 143 interrupted.
            """)

    /// Parses, runs, and exits 0 done, 1 failed, 2 bad input or refused.
    static func main() async {
        await runAsTool("s3sync") { ($0 as? SyncError)?.isRefusal == true }
    }

    @Argument(help: "Source: a local folder or s3://bucket/prefix.") var source: String
    @Argument(help: "Destination: a local folder or s3://bucket/prefix.") var destination: String

    @Flag(help: "Delete destination files that the source does not have (never excluded ones).") var delete = false
    @Flag(help: "With --delete, allow a source that lists nothing to empty the destination.") var allowEmptySource =
        false
    @Option(help: "Withhold all deletions of a run that would delete more than N entries, or P% of the destination (e.g. 1000 or 20%).")
    var maxDelete: String?
    @Option(help: "Keep a checkpoint in this local file, so an interrupted sync resumes where it stopped.")
    var checkpoint: String?
    @Flag(name: .customLong("dryrun"), help: "Print what would be done; change nothing.") var dryRun = false
    @Option(help: "Exclude keys matching this glob (repeatable).") var exclude: [String] = []
    @Option(help: "Include keys matching this glob again (repeatable).") var include: [String] = []
    @Flag(help: "Compare sizes only.") var sizeOnly = false
    @Flag(help: "Transfer when timestamps differ at all, not only when the source is newer.") var exactTimestamps =
        false
    @Flag(help: "Compare content hashes (reads local files of equal size).") var checksum = false
    @Flag(help: "Report symbolic links instead of following them.") var noFollowSymlinks = false

    @Option(help: "Endpoint URL for S3 (overrides AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).") var endpointURL: String?
    @Option(help: "Region (default: AWS_REGION, the profile's region, us-east-1).") var region: String?
    @Option(help: "Profile from the shared AWS config files.") var profile: String?
    @Option(help: "Profile for the source side of an S3→S3 sync in another account (default: --profile).")
    var sourceProfile: String?
    @Option(help: "Endpoint URL for the source side of an S3→S3 sync.") var sourceEndpointURL: String?

    @Option(help: "Requests in flight.") var concurrency = 64
    @Option(help: "Bytes held in transfer buffers at once, e.g. 64MiB (at least one part).") var memoryLimit = "64MiB"
    @Option(help: "Upload and copy part size, e.g. 8MB or 16MiB (also the multipart threshold).") var partSize =
        "16MiB"
    @Option(help: "Download range size: larger objects download in parallel ranges of this size.") var rangeSize =
        "64MiB"
    @Option(help: "Only this shard of the key space, i/n (e.g. 0/4), for splitting a sync over machines.") var shard:
        String?
    @Option(help: "Server-side encryption: AES256 or aws:kms.") var sse: String?
    @Option(help: "KMS key id for --sse aws:kms.") var sseKmsKeyId: String?
    @Option(help: "Storage class for written objects.") var storageClass: String?
    @Option(help: "Canned ACL, e.g. bucket-owner-full-control for cross-account writes.") var acl: String?
    @Option(help: "Give up after the endpoint has been unreachable this many seconds.") var giveUpAfter = 120
    @Option(
        help:
            "Abort open multipart uploads (left by an interrupted run) of keys this sync writes, started this many seconds before it or more."
    )
    var staleUploadAge = 3600
    @Flag(help: "Print one JSON summary line instead of text.") var json = false
    @Flag(
        help:
            "Flush each downloaded file to disk before renaming it into place (slower; survives a power cut)."
    )
    var fsync = false

    func run() async throws {
        #if canImport(Glibc)
            // A fixed mmap threshold returns freed part buffers to the system at once; glibc's
            // adaptive threshold would otherwise keep them in the heap and double the peak RSS.
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
                typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
                let M_MMAP_THRESHOLD: Int32 = -3  // <malloc.h>
                _ = unsafeBitCast(symbol, to: MallOpt.self)(M_MMAP_THRESHOLD, 1 << 20)
            }
        #endif
        let environment = ProcessInfo.processInfo.environment
        let sourceLocation = try SyncLocation(parsing: source)
        let destinationLocation = try SyncLocation(parsing: destination)
        let options = SyncOptions(
            compare: checksum ? .checksum : sizeOnly ? .sizeOnly : exactTimestamps ? .exactTimestamps : .sizeAndTime,
            delete: delete, filter: SyncFilter(Self.orderedRules(CommandLine.arguments)),
            shard: try shard.map { try Shard(parsing: $0) }, allowEmptySource: allowEmptySource,
            maxDelete: try maxDelete.map { try DeleteLimit(parsing: $0) })
        let part = try Self.bytes(
            partSize, for: "part-size", within: S3Client.minimumPartSize...S3Client.maximumPartSize,
            because: "S3 takes parts of 5 MiB to 5 GiB")
        let configuration = SyncEngine.Configuration(
            options: options, concurrency: concurrency, memoryLimit: try Self.bytes(memoryLimit, for: "memory-limit"),
            multipartThreshold: part, partSize: part, rangeSize: try Self.bytes(rangeSize, for: "range-size"),
            writeOptions: try writeOptions(),
            symlinks: noFollowSymlinks ? .skip : .follow,
            giveUpAfter: .seconds(giveUpAfter), durableDownloads: fsync, staleUploadAge: .seconds(staleUploadAge),
            checkpoint: checkpoint)

        let destinationClient = try client(profile: profile, endpoint: endpointURL, environment: environment)
        let separateSource = sourceProfile != nil || sourceEndpointURL != nil
        let sourceClient =
            separateSource
            ? try client(
                profile: sourceProfile ?? profile, endpoint: sourceEndpointURL ?? endpointURL, environment: environment)
            : destinationClient
        let engine = try SyncEngine(
            source: sourceLocation, destination: destinationLocation, sourceClient: sourceClient,
            destinationClient: destinationClient, configuration: configuration)

        let reporter = ProgressReporter(json: json)
        let dryRun = self.dryRun
        let (source, destination, verb) = (self.source, self.destination, self.verb)
        let printing: (@Sendable (SyncDecision) -> String?)? =
            json ? nil : { @Sendable in Self.line(for: $0, source: source, destination: destination, verb: verb) }
        let work = Task { () async throws -> (DryRun?, SyncSummary?) in
            if dryRun {
                var tally = DryRun()
                let counts = try await engine.forEachDecision { batch in
                    for decision in batch { tally.add(decision, printing: printing) }
                }
                tally.destinationEntries = counts.destinationEntries
                return (tally, nil)
            }
            return (nil, try await engine.sync { reporter.show($0) })
        }
        let signals = SignalWatch { work.cancel() }
        defer { signals.stop() }
        let outcome: (dryRun: DryRun?, summary: SyncSummary?)
        do {
            outcome = try await work.value
        } catch let error where signals.received != nil {
            let number = signals.received!
            Self.warn("s3sync: stopped by \(SignalWatch.name(number)) while listing (\(error)); nothing was changed")
            throw ExitCode(128 + number)
        }
        reporter.finish()
        if let tally = outcome.dryRun { report(tally, limit: options.maxDelete) }
        if let summary = outcome.summary { report(summary) }
        if let number = signals.received {
            Self.warn("s3sync: stopped by \(SignalWatch.name(number))")
            throw ExitCode(128 + number)
        }
        if outcome.summary?.succeeded == false { throw ExitCode(1) }
    }

    /// What a dry run would do, tallied as the decisions stream past (each printed as it comes).
    struct DryRun {
        var transfers = 0
        var bytes: Int64 = 0
        var deletes = 0
        var unchanged = 0
        var skipped = 0
        var refused = 0
        var destinationEntries = 0

        mutating func add(_ decision: SyncDecision, printing describe: ((SyncDecision) -> String?)?) {
            switch decision {
            case .transfer(let transfer):
                transfers += 1
                bytes += transfer.entry.size
            case .unchanged: unchanged += 1
            case .delete: deletes += 1
            case .skipped: skipped += 1
            case .refused: refused += 1
            }
            if let line = describe?(decision) { print(line) }
        }
    }

    /// The line a dry run prints for `decision`, if any.
    static func line(for decision: SyncDecision, source: String, destination: String, verb: String) -> String? {
        func describe(_ side: String, _ key: SyncKey) -> String { Self.describe(side, key) }
        switch decision {
        case .transfer(let transfer):
            return
                "(dryrun) \(verb): \(describe(source, transfer.entry.key)) to \(describe(destination, transfer.entry.key))  [\(transfer.reason.rawValue)]"
        case .delete(let entry): return "(dryrun) delete: \(describe(destination, entry.key))"
        case .refused(_, let reason): return "(dryrun) \(reason)"
        case .skipped(let entry, let reason):
            return "warning: skipping \(describe(source, entry.key)): \(reason.rawValue)"
        case .unchanged: return nil
        }
    }

    static func warn(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// Refuses flags that contradict each other or values outside what works.
    func validate() throws {
        let modes = [("--size-only", sizeOnly), ("--checksum", checksum), ("--exact-timestamps", exactTimestamps)]
            .filter(\.1).map(\.0)
        guard modes.count <= 1 else {
            throw ValidationError("\(modes.joined(separator: " and ")) exclude each other; choose one way to compare")
        }
        if sseKmsKeyId != nil && sse != "aws:kms" {
            throw ValidationError("--sse-kms-key-id needs --sse aws:kms (the key is used only for KMS encryption)")
        }
        if allowEmptySource && !delete {
            throw ValidationError("--allow-empty-source only means something with --delete")
        }
        guard (1...1024).contains(concurrency) else {
            throw ValidationError("--concurrency \(concurrency) is outside 1 to 1024 requests in flight")
        }
        guard (1...86_400).contains(giveUpAfter) else {
            throw ValidationError("--give-up-after \(giveUpAfter) is outside 1 to 86400 seconds")
        }
        guard (0...(90 * 86_400)).contains(staleUploadAge) else {
            throw ValidationError("--stale-upload-age \(staleUploadAge) is outside 0 to 7776000 seconds (90 days)")
        }
        guard staleUploadAge >= 0 else {
            throw ValidationError("--stale-upload-age \(staleUploadAge) is negative; give 0 seconds or more")
        }
    }

    func client(profile: String?, endpoint: String?, environment: [String: String]) throws -> S3Client {
        var logger = Logger(label: "s3sync")
        logger.logLevel = .warning
        return S3Client.configured(
            region: region, profile: profile, endpoint: endpoint, environment: environment, logger: logger)
    }

    func writeOptions() throws -> S3Client.WriteOptions {
        var options = S3Client.WriteOptions(storageClass: storageClass, acl: acl)
        switch sse {
        case nil: break
        case "AES256"?: options.encryption = .aes256
        case "aws:kms"?: options.encryption = .kms(keyId: sseKmsKeyId)
        case let other?: throw ValidationError("--sse '\(other)' is not AES256 or aws:kms")
        }
        return options
    }

    /// `--include`/`--exclude` in the order given: the order decides, so it is read from the arguments.
    static func orderedRules(_ arguments: [String]) -> [SyncFilter.Rule] {
        var rules: [SyncFilter.Rule] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            for (flag, make) in [("--exclude", SyncFilter.Rule.exclude), ("--include", SyncFilter.Rule.include)] {
                if argument == flag, index + 1 < arguments.count {
                    rules.append(make(arguments[index + 1]))
                    index += 1
                } else if argument.hasPrefix(flag + "=") {
                    rules.append(make(String(argument.dropFirst(flag.count + 1))))
                }
            }
            index += 1
        }
        return rules
    }

    /// A size option's bytes, refused outside `limits` with what to write instead.
    static func bytes(
        _ text: String, for option: String, within limits: ClosedRange<Int64> = (1 << 20)...Int64.max,
        because reason: String = ""
    ) throws -> Int64 {
        let value: Int64
        do { value = try ByteSize.parse(text) } catch let error as SyncError {
            throw ValidationError("--\(option): \(error)")
        }
        let why = reason.isEmpty ? "" : " (\(reason))"
        guard value >= limits.lowerBound else {
            let least = format(limits.lowerBound)
            throw ValidationError("--\(option) \(text) is below \(least)\(why); use at least \(least)")
        }
        guard value <= limits.upperBound else {
            let most = format(limits.upperBound)
            throw ValidationError("--\(option) \(text) is above \(most)\(why); use at most \(most)")
        }
        return value
    }

    func report(_ tally: DryRun, limit: DeleteLimit?) {
        let overLimit = limit.map { !$0.allows(tally.deletes, of: tally.destinationEntries) } ?? false
        if json {
            let object: [String: Any] = [
                "planned_transfers": tally.transfers, "planned_bytes": tally.bytes, "planned_deletes": tally.deletes,
                "unchanged": tally.unchanged, "skipped": tally.skipped, "refused": tally.refused, "dry_run": true,
                "deletes_over_limit": overLimit,
            ]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if overLimit, let limit {
            print(
                "warning: \(tally.deletes) deletion(s) of \(tally.destinationEntries) destination entries are more than --max-delete \(limit) allows; a real run would withhold them all"
            )
        }
        print(
            "\(tally.transfers) to transfer (\(Self.format(tally.bytes))), \(tally.deletes) to delete, \(tally.unchanged) unchanged"
        )
    }

    func report(_ summary: SyncSummary) {
        if json {
            var object: [String: Any] = [
                "transferred": summary.transferred, "transferred_bytes": summary.transferredBytes,
                "deleted": summary.deleted, "unchanged": summary.unchanged, "skipped": summary.skipped,
                "failed": summary.failures.count, "not_attempted": summary.notAttempted,
                "seconds": (summary.seconds * 1000).rounded() / 1000, "succeeded": summary.succeeded,
                "failures": summary.failures.prefix(100).map { ["key": $0.key, "message": $0.message] },
                "cancelled": summary.cancelled, "interrupted": summary.interrupted,
                "aborted_uploads": summary.abortedUploads, "aborted_stale_uploads": summary.abortedStaleUploads,
                "uploads_left_open": summary.uploadsLeftOpen.map {
                    ["bucket": $0.bucket, "key": $0.key, "upload_id": $0.uploadId]
                },
                "dry_run": false,
            ]
            if let withheld = summary.deletionsWithheld { object["deletions_withheld"] = withheld }
            if let reason = summary.deletionsWithheldBecause { object["deletions_withheld_because"] = reason.rawValue }
            if let problem = summary.staleUploadProblem { object["stale_upload_problem"] = problem }
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for skip in summary.skips { print("warning: skipping \(describe(source, SyncKey(skip.key))): \(skip.message)") }
        if summary.abortedStaleUploads > 0 {
            print(
                "aborted \(summary.abortedStaleUploads) open multipart upload(s) left by an earlier interrupted run of this sync"
            )
        }
        if let problem = summary.staleUploadProblem { print("warning: \(problem)") }
        for failure in summary.failures { print("failed: \(failure.key): \(failure.message)") }
        if summary.cancelled {
            print(
                "interrupted: \(summary.interrupted) transfer(s) cut short, \(summary.notAttempted) not started, \(summary.abortedUploads) multipart upload(s) aborted; sync again to finish"
            )
        }
        for upload in summary.uploadsLeftOpen {
            print(
                "warning: the multipart upload of s3://\(upload.bucket)/\(upload.key) could not be aborted; a run of this sync aborts it once it is --stale-upload-age old, or now: aws s3api abort-multipart-upload --bucket \(upload.bucket) --key '\(upload.key)' --upload-id \(upload.uploadId)"
            )
        }
        if let withheld = summary.deletionsWithheld { print("warning: \(withheld)") }
        let rate = summary.seconds > 0 ? Double(summary.transferredBytes) / summary.seconds : 0
        print(
            "\(summary.transferred) transferred (\(Self.format(summary.transferredBytes))) in \(String(format: "%.1f", summary.seconds)) s at \(Self.format(Int64(rate)))/s, "
                + "\(summary.deleted) deleted, \(summary.unchanged) unchanged, \(summary.failures.count) failed"
                + (summary.notAttempted > 0 && !summary.cancelled
                    ? ", \(summary.notAttempted) not attempted (gave up)" : ""))
    }

    var verb: String {
        switch (try? SyncLocation(parsing: source), try? SyncLocation(parsing: destination)) {
        case (.local?, _): return "upload"
        case (_, .local?): return "download"
        default: return "copy"
        }
    }

    func describe(_ side: String, _ key: SyncKey) -> String { Self.describe(side, key) }

    static func describe(_ side: String, _ key: SyncKey) -> String {
        side.hasSuffix("/") ? side + key.string : side + "/" + key.string
    }

    static func format(_ bytes: Int64) -> String { ByteSize.format(bytes) }
}
