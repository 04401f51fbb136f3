import HVProtocol

/// The `flags` byte of a timesync request (Linux ICTIMESYNCFLAG_*).
public enum HostTimesyncFlag: UInt8, Hashable, Sendable {
    /// No bit: the host asks nothing to be done (Linux ICTIMESYNCFLAG_PROBE).
    case probe = 0
    /// Boot, restore or resume: set the clock (ICTIMESYNCFLAG_SYNC).
    case sync = 1
    /// Periodic sample: a hint (ICTIMESYNCFLAG_SAMPLE).
    case sample = 2
}

/// One timesync request as the host builds it (docs/PROTOCOL.md §6.3).
///
/// The two body layouts are laid out here, not borrowed from the guest:
/// - before 4.0, Linux `struct ictimesync_data`: +0 u64 `parenttime`, +8 u64 `childtime`,
///   +16 u64 `roundtriptime`, +24 u8 `flags`; written as 28 bytes (3 zero bytes of padding), as
///   openvmm's host does;
/// - 4.0 and later, Linux `struct ictimesync_ref_data`: +0 u64 `parenttime`, +8 u64
///   `vmreferencetime`, +16 u8 `flags`, +17 u8 `leapflags`, +18 u8 `stratum`, +19 u8[3] reserved;
///   written as 24 bytes.
public struct HostTimesyncSample: Hashable, Sendable {
    /// Host UTC in 100 ns ticks since 1601.
    public var parentTime: UInt64
    /// The partition reference counter (100 ns ticks) when `parentTime` was read; 4.0 only.
    public var referenceTime: UInt64?
    public var flags: HostTimesyncFlag
    /// NTP leap indicator (0 none, 1 insert, 2 delete, 3 unsynchronised); 4.0 only.
    public var leapIndicator: UInt8
    /// NTP stratum of the host's clock; 4.0 only.
    public var stratum: UInt8

    /// The service version from which the reference-time layout is used.
    public static let referenceLayoutVersion = ICVersion(4, 0)
    /// Bytes written before 4.0 (Linux packs 25).
    public static let bodySizeV3 = 28
    /// Bytes written from 4.0 on (Linux packs 22).
    public static let bodySizeV4 = 24

    public init(parentTime: UInt64, referenceTime: UInt64? = nil, flags: HostTimesyncFlag, leapIndicator: UInt8 = 0,
                stratum: UInt8 = 0) {
        self.parentTime = parentTime
        self.referenceTime = referenceTime
        self.flags = flags
        self.leapIndicator = leapIndicator
        self.stratum = stratum
    }

    /// +0 u64 `parenttime`, both layouts.
    static let parentTimeOffset = 0
    /// +24 u8 `flags` before 4.0 (after `childtime` and `roundtriptime`, which the host sends as 0).
    static let flagsOffsetV3 = 24
    /// +8 u64 `vmreferencetime` from 4.0 on.
    static let referenceTimeOffset = 8
    /// +16 u8 `flags` from 4.0 on.
    static let flagsOffsetV4 = 16
    /// +17 u8 `leapflags`.
    static let leapOffset = 17
    /// +18 u8 `stratum`.
    static let stratumOffset = 18

    /// The request body in the layout of the negotiated service `version`; every byte not named
    /// above is 0.
    public func body(version: ICVersion) -> [UInt8] {
        if version >= Self.referenceLayoutVersion {
            var body = [UInt8](repeating: 0, count: Self.bodySizeV4)
            LittleEndian.store(parentTime, into: &body, at: Self.parentTimeOffset)
            LittleEndian.store(referenceTime ?? 0, into: &body, at: Self.referenceTimeOffset)
            body[Self.flagsOffsetV4] = flags.rawValue
            body[Self.leapOffset] = leapIndicator
            body[Self.stratumOffset] = stratum
            return body
        }
        var body = [UInt8](repeating: 0, count: Self.bodySizeV3)
        LittleEndian.store(parentTime, into: &body, at: Self.parentTimeOffset)
        body[Self.flagsOffsetV3] = flags.rawValue
        return body
    }
}
