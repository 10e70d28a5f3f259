import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A program started with `posix_spawn`, standard input from `/dev/null` and both outputs on
/// pipes: what ``ProcessRunner`` and ``StreamingProcess`` run, instead of Foundation's `Process`.
///
/// Foundation's `Process.run()` on Linux scans `/proc/self/fd` and copies a fixed 256 bytes of
/// each entry's name (swift-corelibs-foundation#5472): when the last entry ends near an unmapped
/// page, the whole process dies of SIGSEGV. The full test suite did, twice in three runs. Here the
/// child also starts with an empty signal mask and default handlers (a program started from the
/// concurrency pool's threads would otherwise inherit SIGTERM blocked), in a process group of its
/// own, with every descriptor above 2 closed.
package final class ChildProcess: @unchecked Sendable {
    /// The child's process id.
    package let processIdentifier: Int32
    /// The read end of the child's standard output.
    package let stdout: FileHandle
    /// The read end of the child's standard error.
    package let stderr: FileHandle
    private let status = Mutex<Int32?>(nil)
    private let waiting = NSLock()

    private init(processIdentifier: Int32, stdout: FileHandle, stderr: FileHandle) {
        self.processIdentifier = processIdentifier
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Whether the child has not been reaped yet.
    package var isRunning: Bool { status.withLock { $0 } == nil }

    /// Sends SIGTERM if it still runs.
    package func terminate() { if isRunning { Glibc.kill(processIdentifier, SIGTERM) } }

    /// Sends SIGKILL if it still runs.
    package func kill() { if isRunning { Glibc.kill(processIdentifier, SIGKILL) } }

    /// Blocks the calling thread until the child has exited, reaps it and returns its exit
    /// status (128 + the signal's number when a signal ended it); later calls return the same.
    package func waitForExit() -> Int32 {
        waiting.lock()
        defer { waiting.unlock() }
        if let known = status.withLock({ $0 }) { return known }
        var raw: Int32 = 0
        var code: Int32 = -1
        while true {
            let result = waitpid(processIdentifier, &raw, 0)
            if result == processIdentifier {
                let signal = raw & 0x7f
                code = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                break
            }
            if result == -1 && errno == EINTR { continue }
            break
        }
        status.withLock { $0 = code }
        return code
    }

    /// Starts `executable` (an absolute path) with `arguments` and `environment` (the whole of
    /// it), in `directory` when given.
    ///
    /// - Throws: ``ProcessRunner/Failure/cannotStart(_:)`` with the reason.
    package static func spawn(
        _ executable: String, _ arguments: [String], directory: String?, environment: [String: String]
    ) throws -> ChildProcess {
        func pipe() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [-1, -1]
            guard Glibc.pipe(&fds) == 0 else {
                throw ProcessRunner.Failure.cannotStart("pipe: \(String(cString: strerror(errno)))")
            }
            // Not inherited by other programs started meanwhile (this one's are dup2'ed to 1 and 2).
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
        let out = try pipe()
        let err = try pipe()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            for fd in [out.write, err.write, null] where fd >= 0 { close(fd) }
        }
        guard null >= 0 else {
            for fd in [out.read, err.read] { close(fd) }
            throw ProcessRunner.Failure.cannotStart("/dev/null: \(String(cString: strerror(errno)))")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, null, 0)
        posix_spawn_file_actions_adddup2(&actions, out.write, 1)
        posix_spawn_file_actions_adddup2(&actions, err.write, 2)
        if let closeFrom = GNUSpawn.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let directory {
            guard let chdir = GNUSpawn.addChdir else {
                throw ProcessRunner.Failure.cannotStart("this C library cannot start a program in another folder")
            }
            _ = directory.withCString { chdir(&actions, $0) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            for fd in [out.read, err.read] { close(fd) }
            throw ProcessRunner.Failure.cannotStart("\(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(
            processIdentifier: pid, stdout: FileHandle(fileDescriptor: out.read, closeOnDealloc: true),
            stderr: FileHandle(fileDescriptor: err.read, closeOnDealloc: true))
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34) and `…_addchdir_np` (2.29), which
/// Swift's Glibc module does not declare; looked up once.
private enum GNUSpawn {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias Chdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addCloseFrom: CloseFrom? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }
    static let addChdir: Chdir? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: Chdir.self) }
}
