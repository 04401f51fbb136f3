
/// `flags` of a timesync message (docs/PROTOCOL.md §6.3, Linux ICTIMESYNCFLAG_*).
public struct TimesyncFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// No bits: PROBE.
    public static let probe: TimesyncFlags = []
    /// Boot, restore or resume: set the clock.
    public static let sync = TimesyncFlags(rawValue: 1)
    /// Periodic sample: a hint.
    public static let sample = TimesyncFlags(rawValue: 2)
}

/// A timesync request body in either layout, reduced to what the guest uses.
public struct TimesyncMessage: Hashable, Sendable {
    /// Host UTC, 100 ns ticks since 1601.
    public var parentTime: UInt64
    /// v4 only: the partition reference counter (100 ns ticks) when `parentTime` was taken.
    public var referenceTime: UInt64?
    public var flags: TimesyncFlags
    /// v4 only: NTP leap indicator (0 none, 1 insert, 2 delete, 3 unsynchronised).
    public var leapIndicator: UInt8
    /// v4 only: NTP stratum.
    public var stratum: UInt8

    /// Linux `sizeof(struct ictimesync_data)`: parenttime, childtime, roundtriptime, flags.
    public static let sizeV3 = 25
    /// Linux `sizeof(struct ictimesync_ref_data)`: parenttime, vmreferencetime, flags,
    /// leapflags, stratum, reserved[3].
    public static let sizeV4 = 22
    /// The version from which the reference-time layout is used.
    public static let referenceLayoutVersion = ICVersion(4, 0)

    public init(parentTime: UInt64, referenceTime: UInt64? = nil, flags: TimesyncFlags,
                leapIndicator: UInt8 = 0, stratum: UInt8 = 0) {
        self.parentTime = parentTime
        self.referenceTime = referenceTime
        self.flags = flags
        self.leapIndicator = leapIndicator
        self.stratum = stratum
    }

    /// Body bytes required at `version` (the layout depends on the negotiated version).
    public static func requiredSize(version: ICVersion) -> Int {
        version >= referenceLayoutVersion ? sizeV4 : sizeV3
    }

    public static func decode(_ body: [UInt8], version: ICVersion) -> TimesyncMessage? {
        guard let parent = LittleEndian.u64(body, at: 0) else { return nil }
        if version >= referenceLayoutVersion {
            guard let reference = LittleEndian.u64(body, at: 8), let flags = LittleEndian.u8(body, at: 16),
                  let leap = LittleEndian.u8(body, at: 17), let stratum = LittleEndian.u8(body, at: 18)
            else { return nil }
            return TimesyncMessage(parentTime: parent, referenceTime: reference, flags: TimesyncFlags(rawValue: flags),
                                   leapIndicator: leap, stratum: stratum)
        }
        guard let flags = LittleEndian.u8(body, at: 24) else { return nil }
        return TimesyncMessage(parentTime: parent, flags: TimesyncFlags(rawValue: flags))
    }

    /// Encodes the body as a host writes it, at the openvmm sizes (28 for v3, 24 for v4).
    public func encode(version: ICVersion) -> [UInt8] {
        var bytes: [UInt8] = []
        LittleEndian.append(parentTime, to: &bytes)
        if version >= Self.referenceLayoutVersion {
            LittleEndian.append(referenceTime ?? 0, to: &bytes)
            bytes += [flags.rawValue, leapIndicator, stratum, 0, 0, 0, 0, 0]
        } else {
            LittleEndian.append(UInt64(0), to: &bytes)  // childtime
            LittleEndian.append(UInt64(0), to: &bytes)  // roundtriptime
            bytes += [flags.rawValue, 0, 0, 0]
        }
        return bytes
    }
}
