import HVSystem

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
        guard retryingOnInterrupt({ write(outgoing, &one, 8) }) < 0 else { return }
        let failure = Errno.current
        // EAGAIN: the counter is saturated, so the peer has a wake-up pending anyway.
        if failure != .resourceTemporarilyUnavailable { throw .system(call: "write(eventfd)", errno: failure) }
    }

    public func acknowledge() throws(ChannelError) {
        var count: UInt64 = 0
        guard retryingOnInterrupt({ read(incoming, &count, 8) }) < 0 else { return }
        let failure = Errno.current
        // EAGAIN: nothing was signalled (a spurious wake-up of the loop).
        if failure != .resourceTemporarilyUnavailable { throw .system(call: "read(eventfd)", errno: failure) }
    }

    deinit {
        close(incoming)
        close(outgoing)
    }
}
