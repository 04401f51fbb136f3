#if canImport(Glibc)
import Glibc
#endif

/// Host time that does not follow this machine's clock once started (`--host-clock-offset`):
/// CLOCK_REALTIME at start plus the offset, advancing with CLOCK_MONOTONIC_RAW. An agent on the
/// same machine that disciplines CLOCK_REALTIME then converges on it instead of chasing itself.
public final class FreeRunningTimeSource: TimeSource, CustomStringConvertible {
    public let realtimeAtStart: Int64
    public let rawAtStart: Int64
    public let offsetNanoseconds: Int64

    public init(offsetNanoseconds: Int64) {
        rawAtStart = SystemTimeSource.read(CLOCK_MONOTONIC_RAW)
        realtimeAtStart = SystemTimeSource.read(CLOCK_REALTIME)
        self.offsetNanoseconds = offsetNanoseconds
    }

    public func trueNanoseconds() -> Int64 { realtimeAtStart + offsetNanoseconds + (SystemTimeSource.read(CLOCK_MONOTONIC_RAW) - rawAtStart) }
    public func monotonicNanoseconds() -> Int64 { SystemTimeSource.read(CLOCK_MONOTONIC_RAW) }

    /// How to compute host time at any instant from CLOCK_MONOTONIC_RAW (for checks).
    public var description: String {
        "host time = \(realtimeAtStart + offsetNanoseconds) ns + (CLOCK_MONOTONIC_RAW - \(rawAtStart) ns); offset \(offsetNanoseconds) ns from CLOCK_REALTIME at start"
    }
}
