#if canImport(Glibc)
import Glibc
#endif

/// The simulated channel's doorbell: one eventfd per direction, both owned (closed on deinit).
public final class EventFDDoorbell: ChannelDoorbell, @unchecked Sendable {
    /// The peer writes it to signal us.
    public let incoming: Int32
    /// We write it to signal the peer.
    public let outgoing: Int32

    /// Takes ownership of two eventfds. `incoming` should be non-blocking.
    public init(incoming: Int32, outgoing: Int32) {
        self.incoming = incoming
        self.outgoing = outgoing
    }

    public var pollDescriptor: Int32 { incoming }

    public func signalPeer() throws(ChannelError) {
        var one: UInt64 = 1
        let n = write(outgoing, &one, 8)
        if n != 8 && errno != EAGAIN { throw .system(call: "write(eventfd)", errno: errno) }
    }

    public func acknowledge() throws(ChannelError) {
        var count: UInt64 = 0
        let n = read(incoming, &count, 8)
        if n < 0 && errno != EAGAIN && errno != EINTR { throw .system(call: "read(eventfd)", errno: errno) }
    }

    deinit {
        close(incoming)
        close(outgoing)
    }
}
