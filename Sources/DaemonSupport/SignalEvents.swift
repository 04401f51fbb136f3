import CHVSupport
import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP as readable events on a descriptor (signalfd), so the one event loop
/// handles them like any other input and no handler runs at an arbitrary point.
public final class SignalEvents: @unchecked Sendable {
    public let descriptor: Int32
    public let signals: [Int32]

    /// Blocks `signals` for the calling thread (call before starting other threads so they inherit
    /// the mask) and opens a signalfd for them.
    public init(_ signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]) throws(SystemCallError) {
        let fd = signals.withUnsafeBufferPointer { chv_signalfd($0.baseAddress, Int32($0.count)) }
        guard fd >= 0 else { throw SystemCallError(call: "signalfd", errno: .current) }
        descriptor = fd
        self.signals = signals
    }

    deinit {
        close(descriptor)
    }

    /// The signals received since the last call, in order.
    public func drain() -> [Int32] {
        var received: [Int32] = []
        while true {
            let signal = chv_signalfd_read(descriptor)
            guard signal > 0 else { break }
            received.append(signal)
        }
        return received
    }
}
