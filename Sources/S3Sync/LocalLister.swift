import Foundation

/// Lists a local directory tree as ``SyncEntry`` values with `/`-separated relative keys.
enum LocalLister {
    /// Lists `root`; a missing `root` lists as empty unless it `mustExist` (a source), when it
    /// throws ``SyncError/Kind/sourceMissing``.
    static func list(root: String, symlinks: SymlinkPolicy, mustExist: Bool) async throws -> [SyncEntry] {
        try await LocalFile.run {
            var entries: [SyncEntry] = []
            var rootInfo = stat()
            guard stat(root, &rootInfo) == 0 else {
                if errno == ENOENT {
                    guard mustExist else { return [] }
                    throw SyncError.sourceMissing(
                        "the source folder \(root) does not exist; check the path (or that its file system is mounted): a missing source is never synced as an empty one"
                    )
                }
                throw LocalFile.failure("read", root)
            }
            guard rootInfo.st_mode & S_IFMT == S_IFDIR else {
                throw SyncError.invalidArgument("\(root) is not a directory; sync works on directories and prefixes")
            }
            try walk(root, prefix: "", symlinks: symlinks, visited: [rootInfo.st_ino], into: &entries)
            return entries
        }
    }

    private static func walk(
        _ directory: String, prefix: String, symlinks: SymlinkPolicy, visited: Set<ino_t>,
        into entries: inout [SyncEntry]
    ) throws {
        guard let handle = opendir(directory) else { throw LocalFile.failure("list", directory) }
        defer { closedir(handle) }
        while let item = readdir(handle) {
            let name = withUnsafePointer(to: item.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." || name.hasPrefix(LocalFile.partialPrefix) { continue }
            let path = directory + "/" + name
            let key = prefix + name
            var info = stat()
            guard lstat(path, &info) == 0 else { throw LocalFile.failure("stat", path) }
            var isLink = false
            if info.st_mode & S_IFMT == S_IFLNK {
                isLink = true
                if symlinks == .skip || stat(path, &info) != 0 {
                    entries.append(
                        SyncEntry(
                            key: SyncKey(key), size: 0, lastModified: Date(timeIntervalSince1970: 0),
                            kind: symlinks == .skip ? .symlink : .special))
                    continue
                }
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                // A followed link to a folder already on the path would loop forever.
                if isLink && visited.contains(info.st_ino) { continue }
                try walk(
                    path, prefix: key + "/", symlinks: symlinks, visited: visited.union([info.st_ino]), into: &entries)
            case S_IFREG:
                let modified = Date(
                    timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
                entries.append(SyncEntry(key: SyncKey(key), size: Int64(info.st_size), lastModified: modified))
            default:
                entries.append(
                    SyncEntry(key: SyncKey(key), size: 0, lastModified: Date(timeIntervalSince1970: 0), kind: .special))
            }
        }
    }
}
