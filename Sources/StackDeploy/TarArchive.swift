import Foundation

/// Reads the entries of a POSIX (ustar/pax) tar archive, as `git archive` writes them.
enum TarArchive {
    struct Entry: Equatable {
        let path: String
        let isSymlink: Bool
        /// The file's bytes, or the link's target for a symlink.
        let content: Data
    }

    /// The regular files and symlinks, in archive order.
    ///
    /// - Throws: ``ReleaseError`` when the archive is cut short or malformed.
    static func entries(_ data: Data) throws -> [Entry] {
        let bytes = [UInt8](data)
        var entries: [Entry] = []
        var offset = 0
        var paxPath: String?
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { break }  // end-of-archive block
            func field(_ start: Int, _ length: Int) -> String {
                let slice = bytes[(offset + start)..<(offset + start + length)]
                return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let size = Int(field(124, 12).trimmingCharacters(in: .whitespaces), radix: 8) else {
                throw ReleaseError("the release archive has a malformed header at byte \(offset)", kind: .damaged)
            }
            let type = bytes[offset + 156]
            let start = offset + 512
            guard start + size <= bytes.count else {
                throw ReleaseError("the release archive is cut short at byte \(start)", kind: .damaged)
            }
            let content = Data(bytes[start..<start + size])
            let prefix = field(345, 155)
            let name = prefix.isEmpty ? field(0, 100) : prefix + "/" + field(0, 100)
            switch type {
            case UInt8(ascii: "x"): paxPath = Self.paxPath(content)
            case UInt8(ascii: "g"): break  // global header: git's commit comment
            case UInt8(ascii: "0"), 0, UInt8(ascii: "2"):
                let isSymlink = type == UInt8(ascii: "2")
                entries.append(
                    Entry(
                        path: paxPath ?? name, isSymlink: isSymlink,
                        content: isSymlink ? Data(field(157, 100).utf8) : content))
                paxPath = nil
            default: paxPath = nil  // directories and others
            }
            offset = start + (size + 511) / 512 * 512
        }
        return entries
    }

    /// The `path` record of a pax extended header (`<length> path=<value>\n`).
    static func paxPath(_ data: Data) -> String? {
        for record in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = record.firstIndex(of: " ") else { continue }
            let pair = record[record.index(after: space)...]
            if pair.hasPrefix("path=") { return String(pair.dropFirst(5)) }
        }
        return nil
    }
}
