import HVProtocol
import HVSystem

/// Host side of time synchronization (docs/PROTOCOL.md §6.3): SYNC right after negotiation, then
/// SAMPLEs.
///
/// Host UTC is the time source's true time plus `hostClockOffsetNanoseconds`. The v4
/// reference counter is the guest's monotonic clock plus `referenceOffsetTicks`, a constant
/// the agent does not know (docs/PROTOCOL.md §6.3: user space cannot read the real counter).
public struct TimesyncHostLogic: Sendable {
    public let source: any TimeSource
    public var referenceOffsetTicks: UInt64
    public var hostClockOffsetNanoseconds: Int64
    public private(set) var sentSync = false

    public init(source: any TimeSource, referenceOffsetTicks: UInt64 = 0x1234_5678_9abc, hostClockOffsetNanoseconds: Int64 = 0) {
        self.source = source
        self.referenceOffsetTicks = referenceOffsetTicks
        self.hostClockOffsetNanoseconds = hostClockOffsetNanoseconds
    }

    /// Host UTC now, Unix ns.
    public func hostNanoseconds() -> Int64 {
        source.trueNanoseconds() + hostClockOffsetNanoseconds
    }

    /// The next message: SYNC if none was sent since negotiation, else SAMPLE. The reference time
    /// is filled in only for versions that carry it.
    public mutating func nextMessage(version: ICVersion) -> HostTimesyncSample {
        let flags: HostTimesyncFlag = sentSync ? .sample : .sync
        sentSync = true
        let reference = version >= HostTimesyncSample.referenceLayoutVersion
            ? UInt64(max(0, source.monotonicNanoseconds()) / 100) &+ referenceOffsetTicks : nil
        return HostTimesyncSample(
            parentTime: WindowsTime.ticks(fromUnixNanoseconds: hostNanoseconds()), referenceTime: reference,
            flags: flags, leapIndicator: 0, stratum: 2)
    }

    /// After a renegotiation the host starts over with SYNC.
    public mutating func reset() {
        sentSync = false
    }
}
