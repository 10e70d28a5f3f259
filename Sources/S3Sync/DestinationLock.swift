import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a local destination folder, held while a sync writes into it: an
/// advisory `flock` on the folder itself, so nothing is left behind in it, released by
/// ``release()`` or when the process ends, however it ends.
final class DestinationLock: Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Creates `root` if needed and locks it.
    ///
    /// - Throws: ``SyncError/Kind/destinationBusy`` when another sync (in this or another
    ///   process) holds it.
    static func acquire(_ root: String) async throws -> DestinationLock {
        try await LocalFile.run {
            do {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            } catch {
                throw SyncError.localIO(
                    "cannot create the destination folder \(root): \(error.localizedDescription)", underlying: error)
            }
            let descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { throw LocalFile.failure("open", root) }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                _ = systemClose(descriptor)
                guard code == EWOULDBLOCK else { throw LocalFile.failure("lock", root, code) }
                throw SyncError.destinationBusy(
                    "another sync is writing into \(root); wait for it to finish, or sync into another folder")
            }
            return DestinationLock(descriptor: descriptor)
        }
    }

    /// Releases the lock.
    func release() { _ = systemClose(descriptor) }
}
