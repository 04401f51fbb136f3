import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// The doorbell of a channel bound to uio_hv_generic: the `/dev/uioN` descriptor itself (docs/PROTOCOL.md §3.4).
///
/// - `write()` of a non-zero s32 calls irqcontrol: it clears the RX mask and, on kernels with commit
///   547fa4ffd799, signals the host for non-monitored channels. It is used only to signal, never
///   merely to unmask (that would send the host needless interrupts, docs/PROTOCOL.md §8 Q8).
/// - `read()` of 4 bytes returns the event count; EIO means the device was rescinded.
public final class UIODoorbell: ChannelDoorbell, @unchecked Sendable {
    public let descriptor: Int32

    /// Takes ownership of an open `/dev/uioN` descriptor (opened O_RDWR | O_NONBLOCK). Closing the
    /// last descriptor closes the channel, so the process keeps this one for the channel's lifetime.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    public var pollDescriptor: Int32 { descriptor }

    public func signalPeer() throws(ChannelError) {
        var one: Int32 = 1
        if retryingOnInterrupt({ write(descriptor, &one, 4) }) != 4 {
            let failure = Errno.current
            throw failure == .ioError ? .rescinded : .system(call: "write(uio)", errno: failure)
        }
    }

    public func acknowledge() throws(ChannelError) {
        var count: Int32 = 0
        if retryingOnInterrupt({ read(descriptor, &count, 4) }) < 0 {
            switch Errno.current {
            case .resourceTemporarilyUnavailable: return
            case .ioError: throw .rescinded
            case let failure: throw .system(call: "read(uio)", errno: failure)
            }
        }
    }

    deinit {
        close(descriptor)
    }
}
