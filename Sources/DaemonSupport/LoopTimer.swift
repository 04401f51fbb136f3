import CHVSupport
import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// A timer as a descriptor (timerfd) for the one event loop: it is readable when it fired, so
/// timers cost nothing while they are not armed. Used for the systemd watchdog, the start-up
/// readiness window, the kernel-mode timesync tick and the KVP device's reopen back-off.
public final class LoopTimer: @unchecked Sendable {
    public let descriptor: Int32

    /// A disarmed timer.
    public init() throws(SystemCallError) {
        let fd = chv_timerfd()
        guard fd >= 0 else { throw SystemCallError(call: "timerfd_create", errno: .current) }
        descriptor = fd
    }

    /// A timer firing every `intervalMicroseconds`, first after one interval.
    public convenience init(everyMicroseconds intervalMicroseconds: UInt64) throws(SystemCallError) {
        try self.init()
        try arm(afterMicroseconds: intervalMicroseconds, repeatingEvery: intervalMicroseconds)
    }

    deinit {
        close(descriptor)
    }

    /// Fires once after `microseconds` (then every `interval` when it is not 0); replaces any
    /// earlier arming.
    public func arm(afterMicroseconds microseconds: UInt64, repeatingEvery interval: UInt64 = 0) throws(SystemCallError) {
        guard microseconds > 0 else { throw SystemCallError(call: "timerfd delay 0", errno: .invalidArgument) }
        guard chv_timerfd_set(descriptor, microseconds, interval) == 0 else {
            throw SystemCallError(call: "timerfd_settime", errno: .current)
        }
    }

    /// Stops the timer; a pending expiration is dropped too.
    public func disarm() {
        _ = chv_timerfd_set(descriptor, 0, 0)
        acknowledge()
    }

    /// Consumes the expirations so the descriptor stops being readable; returns how many.
    @discardableResult
    public func acknowledge() -> UInt64 {
        var count: UInt64 = 0
        return read(descriptor, &count, 8) == 8 ? count : 0
    }
}
