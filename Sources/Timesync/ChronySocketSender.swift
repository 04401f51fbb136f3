#if canImport(Glibc)
import Glibc
#endif

/// Sends `ChronySockSample`s as datagrams to the Unix socket chronyd created for
/// `refclock SOCK PATH`. Non-blocking: if chronyd is not there the sample is lost and the
/// error reported; the next one tries again.
public final class ChronySocketSender: @unchecked Sendable {
    public struct SendError: Error, Equatable {
        public var errno: Int32
    }

    public let path: String
    private let descriptor: Int32

    public init(path: String) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SendError(errno: errno) }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    public func send(_ sample: ChronySockSample) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { throw SendError(errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let bytes = sample.encoded()
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { buffer in
                    sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), socketAddress,
                           socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        if sent < 0 { throw SendError(errno: errno) }
    }
}
