import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// A filesystem Unix socket address (`sockaddr_un`), built in one place for every local socket of
/// the agent (the status socket, the freeze helper's socket) so the length check is never skipped.
public struct UnixSocketAddress {
    public let path: String
    private var storage = sockaddr_un()

    public init(path: String) throws(SystemCallError) {
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: storage.sun_path) else {
            throw SystemCallError(call: "socket path too long", path: path, errno: .fileNameTooLong)
        }
        self.path = path
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
    }

    /// Calls `body` with the address as `bind`/`connect` take it.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// `connect` on `fd`; 0 or -1 with errno.
    public func connect(_ fd: Int32) -> Int32 {
        withSockaddr { address, length in retryingOnInterrupt { Glibc.connect(fd, address, length) } }
    }

    /// A new non-blocking, close-on-exec socket of `type` (SOCK_STREAM, SOCK_SEQPACKET) bound here
    /// (replacing a stale socket file) with mode 0600 and listening.
    ///
    /// The mode is set with `chmod` between `bind` and `listen`, not with `umask` around `bind`:
    /// the umask is the whole process's, and a child spawned meanwhile by another thread (a VSS
    /// hook, a compiler in a test) inherited 0177 and wrote files nobody could execute. Before
    /// `listen` nobody can connect, so the socket file's moment with the ordinary mode gives
    /// nothing away.
    public func listeningSocket(type: Int32, backlog: Int32 = 8) throws(SystemCallError) -> Int32 {
        let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError(call: "socket(AF_UNIX)", errno: .current) }
        unlink(path)
        let rc = withSockaddr { Glibc.bind(fd, $0, $1) }
        guard rc == 0, chmod(path, 0o600) == 0, listen(fd, backlog) == 0 else {
            let failure = Errno.current
            close(fd)
            throw SystemCallError(call: "bind/listen", path: path, errno: failure)
        }
        return fd
    }
}
