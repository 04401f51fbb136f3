/// Conversion of the host's `parenttime` (100 ns ticks since 1601-01-01 UTC, no leap
/// seconds) to Unix nanoseconds, exactly: unix_ns = (parenttime − 116444736000000000) × 100.
public enum WindowsTime {
    /// WLTIMEDELTA: 11644473600 s between 1601-01-01 and 1970-01-01, in 100 ns ticks.
    public static let unixEpochTicks: UInt64 = 116_444_736_000_000_000
    /// Nanoseconds per tick.
    public static let nanosecondsPerTick: Int64 = 100

    /// Unix nanoseconds for `ticks`, or nil when the result does not fit in Int64
    /// (a hostile or corrupt value; years beyond 2262).
    public static func unixNanoseconds(fromTicks ticks: UInt64) -> Int64? {
        let delta: Int64
        if ticks >= unixEpochTicks {
            guard ticks - unixEpochTicks <= UInt64(Int64.max) else { return nil }
            delta = Int64(ticks - unixEpochTicks)
        } else {
            delta = -Int64(unixEpochTicks - ticks)
        }
        let (product, overflow) = delta.multipliedReportingOverflow(by: nanosecondsPerTick)
        return overflow ? nil : product
    }

    /// Ticks for a Unix time in nanoseconds (rounded down to 100 ns), as a host writes it.
    /// Times before 1601 clamp to 0.
    public static func ticks(fromUnixNanoseconds nanoseconds: Int64) -> UInt64 {
        let ticks = nanoseconds >= 0 ? nanoseconds / nanosecondsPerTick : (nanoseconds + 1) / nanosecondsPerTick - 1
        return UInt64(clamping: Int64(bitPattern: unixEpochTicks) + ticks)
    }
}
