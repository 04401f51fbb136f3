import HVProtocol
import HVSystem
import SimTransport

/// How the simulated host behaves. Defaults follow docs/PROTOCOL.md §5.5/§6 (heartbeat every 2 s,
/// timesync SAMPLE every 5 s, Windows-like version lists).
public struct SimHostConfiguration: Sendable {
    /// Channels offered by `offerAll()`.
    public var services: [ICServiceID] = ICServiceID.allCases
    /// Version lists per service (see `HostVersionOffer`).
    public var offers: [ICServiceID: HostVersionOffer] = Dictionary(
        uniqueKeysWithValues: ICServiceID.allCases.map { ($0, HostVersionOffer.windows($0)) })
    /// Seconds between heartbeat requests; 0 sends the next one as soon as the reply arrives.
    public var heartbeatInterval: Double = 2
    /// Seconds between timesync SAMPLEs (after the SYNC that follows negotiation).
    public var timesyncInterval: Double = 5
    /// Bytes per ring including the header page (hv_utils uses 16 KiB of data).
    public var ringSize: Int = 0x4000 + SimHostEndpoint.pageSize
    /// Host UTC and the partition's monotonic clock.
    public var timeSource: any TimeSource = SystemTimeSource()
    /// Secret constant between the guest's monotonic clock and the v4 reference counter.
    public var referenceOffsetTicks: UInt64 = 0x0000_0123_4567_89ab
    /// Host UTC = time source + this (lets a demo show the guest converging to a host that differs).
    public var hostClockOffsetNanoseconds: Int64 = 0
    /// Heartbeat body size the host sends (openvmm 16, Linux struct 40).
    public var heartbeatBodySize: Int = 16

    public init() {}

    public func offer(for kind: ICServiceID) -> HostVersionOffer {
        offers[kind] ?? .windows(kind)
    }
}
