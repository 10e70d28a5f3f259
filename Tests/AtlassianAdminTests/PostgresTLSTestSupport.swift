import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// A throwaway certificate authority made with `openssl` in a temporary folder: a CA the sandbox
/// PostgreSQL's certificate does not chain to, and (optionally) a server certificate it signs
/// with the given subject alternative names, for ``FakeTLSServer``.
struct TestCertificateAuthority {
    /// The folder holding `ca.crt`, `ca.key` and, when made, `server.crt`/`server.key`.
    let folder: URL
    var caCertificate: String { folder.appendingPathComponent("ca.crt").path }
    var serverCertificate: String { folder.appendingPathComponent("server.crt").path }
    var serverKey: String { folder.appendingPathComponent("server.key").path }

    /// Makes the CA and, when `serverNames` is not empty, a server certificate for those SANs
    /// (`DNS:db.elsewhere.example`, `IP:10.1.2.3`).
    static func make(serverNames: [String] = []) async throws -> TestCertificateAuthority {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let authority = TestCertificateAuthority(folder: folder)
        try await authority.openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Atlas Relay test CA (not the sandbox's)",
            "-keyout", "ca.key", "-out", "ca.crt", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        if !serverNames.isEmpty {
            try await authority.openssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=db.elsewhere.example", "-keyout", "server.key",
                "-out", "server.csr",
            ])
            try "subjectAltName=\(serverNames.joined(separator: ","))\nextendedKeyUsage=serverAuth\n".write(
                to: folder.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
            try await authority.openssl([
                "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", "server.ext", "-out", "server.crt",
            ])
        }
        return authority
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    private func openssl(_ arguments: [String]) async throws {
        let output = try await ProcessRunner.run(
            "/usr/bin/openssl", arguments, directory: folder.path, timeout: .seconds(60))
        guard output.status == 0 else {
            throw TLSTestError("openssl \(arguments.first ?? "") failed: \(output.errorText)")
        }
    }
}

/// Makes a test CA, runs `body` with it, removes its folder.
func withTestCertificateAuthority<Value>(
    isolation: isolated (any Actor)? = #isolation, serverNames: [String] = [],
    _ body: (TestCertificateAuthority) async throws -> Value
) async throws -> Value {
    try await withResource(isolation: isolation) {
        try await TestCertificateAuthority.make(serverNames: serverNames)
    } cleanup: { authority in
        authority.remove()
    } body: { authority in
        try await body(authority)
    }
}

struct TLSTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A stand-in PostgreSQL server on 127.0.0.1 that answers the client's `SSLRequest` and nothing
/// more (a Python script): `tls` answers `S` and completes a TLS handshake with the given
/// certificate, then closes; `noTLS` answers `N` (a server with `ssl = off`) and closes. For the
/// failures the sandbox server cannot show: a certificate that does not name the host, and a
/// server without TLS.
final class FakeTLSServer {
    enum Mode: String { case tls, noTLS = "notls" }

    let port: Int
    private let process: Process
    private let input: Pipe
    private let folder: URL

    private init(port: Int, process: Process, input: Pipe, folder: URL) {
        self.port = port
        self.process = process
        self.input = input
        self.folder = folder
    }

    static let script = #"""
        import os, socket, ssl, struct, sys, threading
        mode, portfile = sys.argv[1], sys.argv[2]

        def watch_parent():  # exit when the test closes standard input (or dies)
            sys.stdin.buffer.read()
            os._exit(0)

        threading.Thread(target=watch_parent, daemon=True).start()
        context = None
        if mode == "tls":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[3], sys.argv[4])
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        with open(portfile + ".tmp", "w") as f:
            f.write(str(server.getsockname()[1]))
        os.rename(portfile + ".tmp", portfile)

        def read(conn, n):
            data = b""
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    break
                data += chunk
            return data

        def handle(conn):
            try:
                conn.settimeout(10)
                head = read(conn, 8)
                if len(head) == 8 and struct.unpack("!ii", head)[1] == 80877103:  # SSLRequest
                    if mode == "tls":
                        conn.sendall(b"S")
                        tls = context.wrap_socket(conn, server_side=True)
                        tls.recv(1024)
                        tls.close()
                        return
                    conn.sendall(b"N")
                    conn.recv(1024)
            except Exception:
                pass
            finally:
                try:
                    conn.close()
                except Exception:
                    pass

        while True:
            conn, _ = server.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
        """#

    static func start(_ mode: Mode, certificate: String? = nil, key: String? = nil) async throws -> FakeTLSServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fake-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let scriptFile = folder.appendingPathComponent("server.py")
        let portFile = folder.appendingPathComponent("port")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [scriptFile.path, mode.rawValue, portFile.path] + [certificate, key].compactMap { $0 }
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return FakeTLSServer(port: port, process: process, input: input, folder: folder)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try? input.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: folder)
        throw TLSTestError("the fake TLS server did not start")
    }

    /// Stops the server: closing its standard input ends it (SIGTERM may be blocked in a test
    /// process's children), SIGKILL in case it does not.
    /// Waits at most five seconds for the exit, polling (Foundation's `waitUntilExit` spins the
    /// run loop on Linux and would wait for ever on a process that does not end).
    func stop() async {
        try? input.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Starts a ``FakeTLSServer``, runs `body` with it, stops it.
func withFakeTLSServer<Value>(
    isolation: isolated (any Actor)? = #isolation, _ mode: FakeTLSServer.Mode, certificate: String? = nil,
    key: String? = nil, _ body: (FakeTLSServer) async throws -> Value
) async throws -> Value {
    try await withResource(isolation: isolation) {
        try await FakeTLSServer.start(mode, certificate: certificate, key: key)
    } cleanup: { server in
        await server.stop()
    } body: { server in
        try await body(server)
    }
}
