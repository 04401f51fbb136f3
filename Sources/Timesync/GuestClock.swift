/// Every clock access of the time service goes through this, so tests run on a
/// simulated clock and never touch the machine's clock.
public protocol GuestClock: AnyObject, Sendable {
    /// System (wall) time, Unix nanoseconds.
    func realtimeNanoseconds() -> Int64
    /// A monotonic clock that is *not* slewed by this service (CLOCK_MONOTONIC_RAW), so
    /// the reference-counter estimate does not move when we discipline the wall clock.
    func monotonicNanoseconds() -> Int64
    /// Steps the wall clock by `delta` nanoseconds.
    func step(byNanoseconds delta: Int64) throws
    /// Sets the wall clock's frequency correction (parts per million, positive = faster).
    func setFrequencyCorrection(ppm: Double) throws
}
