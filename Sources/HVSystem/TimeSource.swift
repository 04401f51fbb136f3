#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials
import Synchronization

/// The "true" timeline a simulation runs on: host UTC and the partition's monotonic
/// (reference-counter-rate) clock. Reading only; nothing here sets a clock.
///
/// In a module of its own because two sides read it that must not depend on each other: the
/// simulated host takes its UTC and reference counter from it, the guest's `SimulatedClock`
/// drifts away from it.
public protocol TimeSource: AnyObject, Sendable {
    /// Host UTC, Unix nanoseconds.
    func trueNanoseconds() -> Int64
    /// Monotonic nanoseconds at reference-counter rate.
    func monotonicNanoseconds() -> Int64
}

/// Time that only moves when a test says so.
public final class ManualTimeSource: TimeSource, @unchecked Sendable {
    private let lock = Mutex(())
    private var now: Int64
    private let boot: Int64

    public init(startUnixNanoseconds: Int64 = 1_767_225_600_000_000_000, monotonicAtStart: Int64 = 1_000_000_000_000) {
        now = startUnixNanoseconds
        boot = startUnixNanoseconds - monotonicAtStart
    }

    public func advance(byNanoseconds delta: Int64) {
        lock.withLock { _ in now += delta }
    }

    public func trueNanoseconds() -> Int64 {
        return lock.withLock { _ in
            return now
        }
    }

    public func monotonicNanoseconds() -> Int64 {
        return lock.withLock { _ in
            return now - boot
        }
    }
}

/// The machine's clocks, read only: CLOCK_REALTIME as host UTC and CLOCK_MONOTONIC_RAW.
/// Separate simulator and agent processes on one machine share these, which is what lets
/// `hvagent sim-host` derive a reference counter the agent can relate to its own clock.
public final class SystemTimeSource: TimeSource {
    public init() {}
    public func trueNanoseconds() -> Int64 { Self.read(CLOCK_REALTIME) }
    public func monotonicNanoseconds() -> Int64 { Self.read(CLOCK_MONOTONIC_RAW) }

    /// Nanoseconds of `clock` (CLOCK_REALTIME, CLOCK_MONOTONIC, ...).
    public static func read(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
