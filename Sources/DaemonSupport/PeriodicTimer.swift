import CHVSupport

#if canImport(Glibc)
import Glibc
#endif

/// A periodic timer as a descriptor (timerfd), for the systemd watchdog: it wakes the loop only
/// when systemd asked for watchdog pings, at half the interval systemd set.
public final class PeriodicTimer: @unchecked Sendable {
    public let descriptor: Int32

    public init(intervalMicroseconds: UInt64) throws(SystemCallError) {
        guard intervalMicroseconds > 0 else { throw SystemCallError(call: "timerfd interval 0", errno: EINVAL) }
        let fd = chv_periodic_timerfd(intervalMicroseconds)
        guard fd >= 0 else { throw SystemCallError(call: "timerfd_create", errno: errno) }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Consumes the expirations so the descriptor stops being readable; returns how many.
    @discardableResult
    public func acknowledge() -> UInt64 {
        var count: UInt64 = 0
        return read(descriptor, &count, 8) == 8 ? count : 0
    }
}
