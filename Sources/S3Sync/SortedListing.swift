import Foundation
import Synchronization

/// One side of a sync, listed in ``SyncKey`` order a batch at a time, so a plan can be merged
/// from two streams without either listing ever being held whole.
///
/// Batches are non-empty and strictly ascending within and across batches; `nil` is the end.
/// Callers ask for one batch at a time (the next request waits for the previous answer).
///
/// A listing can describe a source that is not listed in place: a snapshot's manifest gives each
/// path's size, time and checksum, with ``SyncEntry/sourceKey`` naming the content object
/// (see ``SyncEngine/sync(sourceListing:progress:)``).
public protocol SortedListing: Sendable {
    /// The next batch, or `nil` when the listing is done.
    func next() async throws -> [SyncEntry]?
}

/// Two sorted listings walked side by side: each call yields the next run of key pairs (one side
/// `nil` when only the other has the key), in key order, while the next batch of each side is
/// already on its way. Memory holds a batch or two of each side, never a listing.
///
/// Used by one task at a time.
public final class SortedMerge {
    private struct Side {
        let listing: any SortedListing
        var entries = ArraySlice<SyncEntry>()
        var ended = false
        var pending: Task<[SyncEntry]?, any Error>?

        init(_ listing: any SortedListing) {
            self.listing = listing
            pending = Task { try await listing.next() }
        }

        /// Takes the next batch when this one is merged, and asks for the one after.
        mutating func refill() async throws {
            guard entries.isEmpty, !ended, let batch = pending else { return }
            if let entries = try await batch.value {
                self.entries = ArraySlice(entries)
                pending = Task { [listing] in try await listing.next() }
            } else {
                ended = true
                pending = nil
            }
        }
    }

    private var left: Side
    private var right: Side

    /// Merges `left` (a sync's source) with `right` (its destination).
    public init(_ left: any SortedListing, _ right: any SortedListing) {
        self.left = Side(left)
        self.right = Side(right)
    }

    deinit {
        left.pending?.cancel()
        right.pending?.cancel()
    }

    /// The next non-empty run of pairs, or `nil` when both sides are done.
    public func next() async throws -> [(SyncEntry?, SyncEntry?)]? {
        while true {
            try await left.refill()
            try await right.refill()
            if left.entries.isEmpty && right.entries.isEmpty && left.ended && right.ended { return nil }
            var pairs: [(SyncEntry?, SyncEntry?)] = []
            SyncPlanner.merge(
                &left.entries, &right.entries, sourceEnded: left.ended, destinationEnded: right.ended
            ) { pairs.append(($0, $1)) }
            if !pairs.isEmpty { return pairs }
        }
    }
}

/// A listing already in memory (tests, manifests): sorted once, served in batches.
public final class ArrayListing: SortedListing {
    private let batches: Mutex<ArraySlice<SyncEntry>>
    private let batchSize: Int

    /// Serves `entries` (in any order) sorted, `batchSize` at a time.
    public init(_ entries: [SyncEntry], batchSize: Int = 1000) {
        self.batches = Mutex(ArraySlice(entries.sorted { $0.key < $1.key }))
        self.batchSize = max(1, batchSize)
    }

    public func next() async throws -> [SyncEntry]? {
        batches.withLock { rest in
            guard !rest.isEmpty else { return nil }
            let batch = Array(rest.prefix(batchSize))
            rest = rest.dropFirst(batch.count)
            return batch
        }
    }
}

/// An S3 prefix, page by page (S3 lists keys in UTF-8 binary order, which is ``SyncKey`` order).
///
/// Every page is checked: a key outside the prefix, or one not after the key before it, is a
/// server (or proxy) not answering the request that was made, and throws
/// ``SyncError/Kind/malformedListing`` rather than being merged out of order.
final class S3Listing: SortedListing {
    private struct State {
        var token: String?
        var done = false
        var last: SyncKey?
    }

    let client: S3Client
    let bucket: String
    let prefix: String
    let giveUpAfter: Duration
    private let state: Mutex<State>
    private let startAfter: SyncKey?

    /// Lists `s3://bucket/prefix`, after `startAfter` (relative to `prefix`) when given.
    init(client: S3Client, bucket: String, prefix: String, after startAfter: SyncKey?, giveUpAfter: Duration) {
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.giveUpAfter = giveUpAfter
        self.startAfter = startAfter
        self.state = Mutex(State(last: startAfter))
    }

    func next() async throws -> [SyncEntry]? {
        let (token, done, last) = state.withLock { ($0.token, $0.done, $0.last) }
        if done { return nil }
        let page = try await client.listObjectsV2(
            bucket: bucket, prefix: prefix, startAfter: token == nil ? startAfter.map { prefix + $0.string } : nil,
            continuationToken: token, giveUpAfter: giveUpAfter)
        if let next = page.nextContinuationToken, next == token {
            throw SyncError.malformedListing(
                "listing s3://\(bucket)/\(prefix) returned the same continuation token twice; the server is looping, so the listing cannot be finished"
            )
        }
        var previous = last
        var batch: [SyncEntry] = []
        batch.reserveCapacity(page.objects.count)
        for object in page.objects {
            guard let key = SyncKey.relative(object.key, below: prefix) else {
                throw SyncError.malformedListing(
                    "listing s3://\(bucket)/\(prefix) returned the key '\(object.key)', which is outside that prefix; the server (or a proxy) is not answering the request that was made, so nothing was synced"
                )
            }
            if let previous, !(previous < key) {
                throw SyncError.malformedListing(
                    "listing s3://\(bucket)/\(prefix) returned '\(object.key)' after '\(prefix)\(previous.string)', out of key order; S3 lists keys in ascending order, so the server (or a proxy) is not S3-compatible here and nothing more was synced"
                )
            }
            previous = key
            batch.append(
                SyncEntry(
                    key: key, size: object.size, lastModified: object.lastModified, eTag: object.eTag,
                    kind: key.isFolderMarker ? .folder : .file))
        }
        state.withLock {
            $0.token = page.nextContinuationToken
            $0.done = page.nextContinuationToken == nil
            $0.last = previous
        }
        if batch.isEmpty { return done || page.nextContinuationToken == nil ? nil : try await next() }
        return batch
    }
}

/// A local folder tree walked depth first with every folder's entries sorted, so files come out
/// in ``SyncKey`` order across the whole tree: a folder `d` sorts as `d/`, the prefix all its
/// files share. Memory holds the path from the root down, with each folder's names on it, never
/// the tree.
public final class LocalWalk: SortedListing {
    /// What the walk keeps of one folder entry (not its whole `stat`: a folder may hold millions).
    private struct Child {
        let name: String
        let key: SyncKey
        let isDirectory: Bool
        let isLink: Bool
        let mode: mode_t
        let size: Int64
        let modified: timespec
        let inode: ino_t
    }

    private struct Frame {
        let path: String
        let prefix: String
        let visited: Set<ino_t>
        var children: [Child]
        var index = 0
    }

    private struct State {
        var stack: [Frame] = []
        var started = false
    }

    let root: String
    let symlinks: SymlinkPolicy
    let mustExist: Bool
    let batchSize: Int
    private let startAfter: SyncKey?
    private let state = Mutex(State())

    /// Walks `root`, skipping keys up to and including `startAfter` when given (whole folders
    /// below it are never read). A missing `root` lists as empty unless it `mustExist` (a
    /// source), when it throws ``SyncError/Kind/sourceMissing``.
    public init(
        root: String, symlinks: SymlinkPolicy = .follow, mustExist: Bool, after startAfter: SyncKey? = nil,
        batchSize: Int = 1000
    ) {
        self.root = root
        self.symlinks = symlinks
        self.mustExist = mustExist
        self.startAfter = startAfter
        self.batchSize = batchSize
    }

    public func next() async throws -> [SyncEntry]? {
        try await LocalFile.run { [self] in
            try state.withLock { state in
                if !state.started {
                    state.started = true
                    guard let frame = try rootFrame() else { return nil }
                    state.stack = [frame]
                }
                var batch: [SyncEntry] = []
                while batch.count < batchSize, let top = state.stack.indices.last {
                    guard state.stack[top].index < state.stack[top].children.count else {
                        state.stack.removeLast()
                        continue
                    }
                    let frame = state.stack[top]
                    let child = frame.children[frame.index]
                    state.stack[top].index += 1
                    if child.isDirectory {
                        // A followed link to a folder already on the path would loop forever.
                        if child.isLink && frame.visited.contains(child.inode) { continue }
                        let path = frame.path + "/" + child.name
                        state.stack.append(
                            Frame(
                                path: path, prefix: child.key.string, visited: frame.visited.union([child.inode]),
                                children: try children(of: path, prefix: child.key.string)))
                        continue
                    }
                    batch.append(entry(for: child))
                }
                return batch.isEmpty ? nil : batch
            }
        }
    }

    private func rootFrame() throws -> Frame? {
        var rootInfo = stat()
        guard stat(root, &rootInfo) == 0 else {
            if errno == ENOENT {
                guard mustExist else { return nil }
                throw SyncError.sourceMissing(
                    "the source folder \(root) does not exist; check the path (or that its file system is mounted): a missing source is never synced as an empty one"
                )
            }
            throw LocalFile.failure("read", root)
        }
        guard rootInfo.st_mode & S_IFMT == S_IFDIR else {
            throw SyncError.invalidArgument("\(root) is not a directory; sync works on directories and prefixes")
        }
        return Frame(path: root, prefix: "", visited: [rootInfo.st_ino], children: try children(of: root, prefix: ""))
    }

    /// The entries of one folder, sorted, without those at or before `startAfter`.
    private func children(of directory: String, prefix: String) throws -> [Child] {
        guard let handle = opendir(directory) else { throw LocalFile.failure("list", directory) }
        defer { closedir(handle) }
        var children: [Child] = []
        while let item = readdir(handle) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." || name.hasPrefix(LocalFile.partialPrefix) { continue }
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { throw LocalFile.failure("stat", path) }
            var isLink = false
            if info.st_mode & S_IFMT == S_IFLNK {
                isLink = true
                if symlinks == .skip || stat(path, &info) != 0 {
                    // Reported as a link (or a broken one), never followed.
                    info.st_mode = S_IFLNK
                }
            }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            let key = SyncKey(prefix + name + (isDirectory ? "/" : ""))
            if let startAfter, !Self.mayHoldKeys(after: startAfter, key: key, isDirectory: isDirectory) { continue }
            children.append(
                Child(
                    name: name, key: key, isDirectory: isDirectory, isLink: isLink, mode: info.st_mode & S_IFMT,
                    size: Int64(info.st_size), modified: info.st_mtim, inode: info.st_ino))
        }
        children.sort { $0.key < $1.key }
        return children
    }

    /// Whether `key` (a file's, or a folder's with its `/`) is, or holds, a key after `watermark`.
    static func mayHoldKeys(after watermark: SyncKey, key: SyncKey, isDirectory: Bool) -> Bool {
        if !isDirectory { return watermark < key }
        // Every key below the folder starts with `key`; unless the watermark is one of them, all
        // of them are on the same side of it as the folder's own prefix.
        return watermark.string.utf8.starts(with: key.string.utf8) || watermark < key
    }

    private func entry(for child: Child) -> SyncEntry {
        switch child.mode {
        case S_IFREG:
            let modified = Date(
                timeIntervalSince1970: TimeInterval(child.modified.tv_sec) + TimeInterval(child.modified.tv_nsec) / 1e9)
            return SyncEntry(key: child.key, size: child.size, lastModified: modified)
        case S_IFLNK:
            return SyncEntry(
                key: child.key, size: 0, lastModified: Date(timeIntervalSince1970: 0),
                kind: symlinks == .skip ? .symlink : .special)
        default:
            return SyncEntry(key: child.key, size: 0, lastModified: Date(timeIntervalSince1970: 0), kind: .special)
        }
    }
}
