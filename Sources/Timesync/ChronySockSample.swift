/// One sample for chrony's SOCK refclock (`refclock SOCK PATH`), chrony's
/// `struct sock_sample` from refclock_sock.c:
///
///     struct timeval tv;   // system time of the measurement
///     double offset;       // true time − system time, seconds
///     int pulse;           // 0: not a PPS pulse
///     int leap;            // 0 normal, 1 insert, 2 delete
///     int _pad;
///     int magic;           // 0x534f434b ("SOCK")
///
/// chronyd reads it in native byte order and drops any datagram of another size, so the
/// layout below is the LP64 Linux one (40 bytes on x86_64 and aarch64).
public struct ChronySockSample: Hashable, Sendable {
    public static let magic: Int32 = 0x534f_434b
    public static let size = 40

    /// System (guest wall) time of the measurement, Unix nanoseconds (sent as a timeval).
    public var systemTimeNanoseconds: Int64
    /// True time minus system time, seconds.
    public var offsetSeconds: Double
    /// 0 normal, 1 insert leap second, 2 delete leap second.
    public var leap: Int32

    public init(systemTimeNanoseconds: Int64, offsetSeconds: Double, leap: Int32 = 0) {
        self.systemTimeNanoseconds = systemTimeNanoseconds
        self.offsetSeconds = offsetSeconds
        self.leap = leap
    }

    public func encoded() -> [UInt8] {
        var seconds = systemTimeNanoseconds / 1_000_000_000
        var micros = (systemTimeNanoseconds % 1_000_000_000) / 1000
        if micros < 0 {
            seconds -= 1
            micros += 1_000_000
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.size)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }  // native order, as chronyd reads it
        }
        append(Int64(seconds))
        append(Int64(micros))
        append(offsetSeconds.bitPattern)
        append(Int32(0))  // pulse
        append(leap)
        append(Int32(0))  // _pad
        append(Self.magic)
        return bytes
    }

    /// chrony's leap value for an NTP leap indicator (1 = insert, 2 = delete; 3 = alarm → 0).
    public static func leap(fromNTPIndicator indicator: UInt8) -> Int32 {
        indicator == 1 || indicator == 2 ? Int32(indicator) : 0
    }
}
