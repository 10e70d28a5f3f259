import Foundation

/// How far an interrupted sync got, kept in a local file so the next run of the same sync lists
/// only what comes after (``SyncEngine/Configuration/checkpoint``).
///
/// Every key up to and including ``after`` is done: transferred, found in sync, or spooled for
/// deletion (the spool is the checkpoint's file with `.deletes` appended). A run writes it every
/// ``interval`` and when it stops short (a failure, a cancellation, a thrown error), and removes
/// it (and the spool) when the sync finished. A checkpoint of a different sync (other source,
/// destination or options) is refused, never applied.
public struct SyncCheckpoint: Codable, Sendable, Equatable {
    /// How often a running sync rewrites its checkpoint.
    public static let interval: Duration = .seconds(2)

    /// Which sync this is: source, destination and the options that shape the plan.
    public var sync: String
    /// The last key done, or `nil` when nothing is.
    public var after: String?
    /// Deletions spooled for keys up to ``after``, and the spool bytes they take.
    public var spooledDeletes: Int
    public var spoolLength: Int64
    /// Source and destination entries in scope up to ``after`` (for the empty-source and
    /// ``SyncOptions/maxDelete`` guards, which judge the whole sync).
    public var sourceEntries: Int
    public var destinationEntries: Int

    /// The checkpoint at `path`, or `nil` when there is none.
    ///
    /// - Throws: ``SyncError/Kind/invalidArgument`` when the file is not a checkpoint, or is
    ///   another sync's.
    static func load(_ path: String, sync: String) throws -> SyncCheckpoint? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let checkpoint = try? JSONDecoder().decode(SyncCheckpoint.self, from: data) else {
            throw SyncError.invalidArgument(
                "\(path) is not a sync checkpoint; give another --checkpoint path, or remove the file to start afresh")
        }
        guard checkpoint.sync == sync else {
            throw SyncError.invalidArgument(
                "the checkpoint \(path) belongs to another sync (\(checkpoint.sync)); give each sync its own --checkpoint path, or remove the file to start afresh"
            )
        }
        return checkpoint
    }

    /// Writes the checkpoint to `path` atomically (a crash leaves the old one or the new one).
    func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SyncError.localIO("cannot write the checkpoint \(path): \(error); check the folder exists and is writable")
        }
    }

    /// The identity of a sync for its checkpoint.
    static func identity(of engine: SyncEngine) -> String {
        let options = engine.configuration.options
        var parts = ["\(engine.source) -> \(engine.destination)", "compare=\(options.compare.rawValue)"]
        if options.delete { parts.append("delete") }
        if let shard = options.shard { parts.append("shard=\(shard)") }
        if !options.filter.rules.isEmpty { parts.append("filter=\(options.filter.rules)") }
        return parts.joined(separator: " ")
    }
}
