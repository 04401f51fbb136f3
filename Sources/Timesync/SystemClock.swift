#if canImport(Glibc)
import CClock
import Glibc
import HVSystem

/// The machine's clock: CLOCK_REALTIME, CLOCK_MONOTONIC_RAW, and adjtimex(2) for steps
/// (ADJ_SETOFFSET: an atomic relative step) and frequency (ADJ_FREQUENCY).
///
/// Only the agent in discipline mode uses this; tests never construct it.
public final class SystemClock: GuestClock {
    /// An adjtimex failure.
    public struct ClockError: Error, Equatable {
        public var operation: String
        public var errno: Int32
    }

    /// The kernel's frequency limit: ±500 ppm.
    public static let maximumFrequencyPPM = 500.0

    public init() {}

    public func realtimeNanoseconds() -> Int64 { SystemTimeSource.read(CLOCK_REALTIME) }
    public func monotonicNanoseconds() -> Int64 { SystemTimeSource.read(CLOCK_MONOTONIC_RAW) }

    public func step(byNanoseconds delta: Int64) throws {
        let result = cclock_step(delta)
        if result < 0 { throw ClockError(operation: "step", errno: -result) }
    }

    public func setFrequencyCorrection(ppm: Double) throws {
        let clamped = min(max(ppm, -Self.maximumFrequencyPPM), Self.maximumFrequencyPPM)
        let result = cclock_set_frequency(Int((clamped * 65536).rounded()))
        if result < 0 { throw ClockError(operation: "frequency", errno: -result) }
    }
}
#endif
