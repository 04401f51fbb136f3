import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// The listening socket of a socket-activated helper (`hvagent freeze-helper`, `hvagent
/// ip-helper`): the one systemd passes, or one bound by the caller (tests, a run by hand).
public enum HelperSocket {
    /// The socket systemd passed (`LISTEN_PID` is this process, `LISTEN_FDS` ≥ 1: descriptor 3),
    /// made non-blocking; nil when not socket-activated. The variables are removed, so no child
    /// (netplan, a hook) believes it was passed the socket too.
    public static func fromSystemd() -> Int32? {
        guard let pid = getenv("LISTEN_PID").flatMap({ pid_t(String(cString: $0)) }), pid == getpid(),
              let count = getenv("LISTEN_FDS").flatMap({ Int(String(cString: $0)) }), count >= 1 else { return nil }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        _ = fcntl(3, F_SETFD, FD_CLOEXEC)
        _ = fcntl(3, F_SETFL, fcntl(3, F_GETFL) | O_NONBLOCK)
        return 3
    }

    /// A listening SOCK_SEQPACKET socket bound at `path` (mode 0600), for running without systemd.
    public static func bind(path: String) throws(SystemCallError) -> Int32 {
        try UnixSocketAddress(path: path).listeningSocket(type: Int32(SOCK_SEQPACKET.rawValue))
    }

    /// The socket systemd passed, else one bound at `path`; nil when neither (the caller says how
    /// to run it).
    public static func listener(path: String?) throws(SystemCallError) -> Int32? {
        if let path { return try bind(path: path) }
        return fromSystemd()
    }

    /// The client side: a SOCK_SEQPACKET socket connected to the helper at `path`, whose sends and
    /// receives give up after `timeout` (EAGAIN). `connectCall` names the step in the error.
    public static func connect(path: String, timeout: Duration, connectCall: String = "connect") throws(SystemCallError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError(call: "socket(AF_UNIX)", errno: .current) }
        do throws(SystemCallError) {
            guard try UnixSocketAddress(path: path).connect(fd) == 0 else {
                throw SystemCallError(call: connectCall, path: path, errno: .current)
            }
        } catch {
            close(fd)
            throw error
        }
        let parts = timeout.components
        var limit = timeval(tv_sec: Int(parts.seconds), tv_usec: Int(parts.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Sends `request` as one packet on a ``connect(path:timeout:connectCall:)`` socket and returns
    /// the one packet that answers it (at most `capacity` bytes; the caller decodes and checks it).
    /// A closed connection is ECONNRESET; `sendCall` and `receiveCall` name the steps in errors.
    public static func exchange(_ request: [UInt8], on fd: Int32, capacity: Int, path: String,
                                sendCall: String, receiveCall: String) throws(SystemCallError) -> [UInt8] {
        let sent = request.withUnsafeBytes { raw in retryingOnInterrupt { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) } }
        guard sent == request.count else { throw SystemCallError(call: sendCall, path: path, errno: sent < 0 ? .current : .ioError) }
        var buffer = [UInt8](repeating: 0, count: capacity)
        let received = buffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
        guard received > 0 else {
            throw SystemCallError(call: receiveCall, path: path, errno: received < 0 ? .current : .connectionReset)
        }
        return Array(buffer[..<received])
    }
}
