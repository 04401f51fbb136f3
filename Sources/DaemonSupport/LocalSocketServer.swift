import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// A listening Unix stream socket that answers every client with one document and closes, for
/// `hvagent status`. The event loop polls ``descriptor`` and calls ``serve(_:)`` when it is
/// readable; a slow or silent client cannot block the loop (non-blocking accept and send, the answer
/// is small, and the connection is closed right after).
public final class LocalSocketServer: @unchecked Sendable {
    public let descriptor: Int32
    public let path: String

    /// Binds `path` (replacing a stale socket file), mode 0600.
    public init(path: String) throws(SystemCallError) {
        let fd = try UnixSocketAddress(path: path).listeningSocket(type: Int32(SOCK_STREAM.rawValue))
        descriptor = fd
        self.path = path
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Accepts every waiting client and sends each `document()`.
    public func serve(_ document: () -> [UInt8]) {
        while true {
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { return }
            let flags = fcntl(client, F_GETFL)
            _ = fcntl(client, F_SETFL, flags | O_NONBLOCK)
            let bytes = document()
            _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    }

    /// Client side: connects to `path` and reads the whole answer (up to 1 MiB).
    public static func fetch(path: String) throws(SystemCallError) -> [UInt8] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError(call: "socket(AF_UNIX)", errno: .current) }
        defer { close(fd) }
        let rc = try UnixSocketAddress(path: path).connect(fd)
        guard rc == 0 else { throw SystemCallError(call: "connect(\(path))", errno: .current) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while out.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
            if n < 0 { throw SystemCallError(call: "recv(\(path))", errno: .current) }
            if n == 0 { break }
            out += chunk[..<n]
        }
        return out
    }
}
