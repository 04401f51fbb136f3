import CHVSupport
import HVSystem
import RingTransport

#if canImport(Glibc)
import Glibc
#endif

/// A connected SOCK_SEQPACKET Unix socket carrying ``SimControlMessage``s (and descriptors).
/// Owns its descriptor.
public final class SimSocket: @unchecked Sendable {
    public let descriptor: Int32

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// A connected pair, for a host and an agent in one process (tests).
    public static func pair() throws(ChannelError) -> (SimSocket, SimSocket) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw .system(call: "socketpair", errno: .current)
        }
        return (SimSocket(descriptor: fds[0]), SimSocket(descriptor: fds[1]))
    }

    /// Connects to a simulated host listening at `path`.
    public static func connect(path: String) throws(ChannelError) -> SimSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: .current) }
        let address: sockaddr_un
        do {
            address = try unixAddress(path)
        } catch {
            close(fd)
            throw error
        }
        let rc = withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let failure = Errno.current
            close(fd)
            throw .system(call: "connect", path: path, errno: failure)
        }
        return SimSocket(descriptor: fd)
    }

    /// Sends one message with optional descriptors (they are duplicated into the receiver).
    public func send(_ message: SimControlMessage, descriptors: [Int32] = []) throws(ChannelError) {
        let bytes = message.encoded()
        let n = bytes.withUnsafeBytes { raw in
            descriptors.withUnsafeBufferPointer { fds in
                chv_send_with_fds(descriptor, raw.baseAddress, raw.count, fds.baseAddress, Int32(fds.count))
            }
        }
        guard n == bytes.count else {
            let failure = Errno.current
            throw failure == .brokenPipe || failure == .connectionReset ? .rescinded : .system(call: "sendmsg", errno: failure)
        }
    }

    /// Waits up to `timeoutMilliseconds` (-1 = forever) for one message. A signal delivered meanwhile
    /// restarts the wait with the whole timeout.
    /// - Returns: `nil` on timeout.
    /// - Throws: ``ChannelError/rescinded`` when the peer closed the socket; ``ChannelError/invalidConfiguration(_:)``
    ///   for a malformed message (its descriptors are closed).
    public func receive(timeoutMilliseconds: Int32) throws(ChannelError) -> (SimControlMessage, [Int32])? {
        var p = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = retryingOnInterrupt { poll(&p, 1, timeoutMilliseconds) }
        if ready < 0 { throw .system(call: "poll", errno: .current) }
        if ready == 0 { return nil }
        var buffer = [UInt8](repeating: 0, count: SimControlMessage.size + 16)
        var fds = [Int32](repeating: -1, count: 4)
        var count: Int32 = 0
        var truncated: Int32 = 0
        let n = buffer.withUnsafeMutableBytes { raw in
            fds.withUnsafeMutableBufferPointer { f in
                chv_recv_with_fds(descriptor, raw.baseAddress, raw.count, f.baseAddress, 4, &count, &truncated)
            }
        }
        if n < 0 {
            let failure = Errno.current
            throw failure == .connectionReset ? .rescinded : .system(call: "recvmsg", errno: failure)
        }
        if n == 0 { throw .rescinded }
        let received = Array(fds[..<Int(count)])
        guard truncated == 0, let message = SimControlMessage(decoding: buffer[..<n]) else {
            received.forEach { close($0) }
            throw .invalidConfiguration("malformed simulator control message of \(n) bytes")
        }
        return (message, received)
    }

    static func unixAddress(_ path: String) throws(ChannelError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw .invalidConfiguration("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        return address
    }
}

/// A listening socket for ``SimHostEndpoint``s. Removes its path on deinit.
public final class SimListener: @unchecked Sendable {
    public let descriptor: Int32
    public let path: String

    public init(path: String) throws(ChannelError) {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: .current) }
        unlink(path)
        var address: sockaddr_un
        do {
            address = try SimSocket.unixAddress(path)
        } catch {
            close(fd)
            throw error
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 4) == 0 else {
            let failure = Errno.current
            close(fd)
            throw .system(call: "bind/listen", path: path, errno: failure)
        }
        descriptor = fd
        self.path = path
    }

    /// Waits for one agent; `nil` on timeout.
    public func accept(timeoutMilliseconds: Int32) throws(ChannelError) -> SimSocket? {
        var p = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = retryingOnInterrupt { poll(&p, 1, timeoutMilliseconds) }
        if ready < 0 { throw .system(call: "poll", errno: .current) }
        if ready == 0 { return nil }
        let fd = retryingOnInterrupt { Glibc.accept(descriptor, nil, nil) }
        guard fd >= 0 else { throw .system(call: "accept", errno: .current) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return SimSocket(descriptor: fd)
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}
