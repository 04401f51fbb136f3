/// The integration services hvagent speaks, with what identifies each on the VMBus and the versions
/// the guest offers (docs/PROTOCOL.md §4, §5.5).
///
/// One enum instead of names compared as strings: the service table, the simulator, status, doctor
/// and the configuration all name a service by this value. The raw value is the short name used in
/// logs, JSON and the `[services]` section of the configuration file.
public enum ICServiceID: String, CaseIterable, Hashable, Sendable, Codable, CustomStringConvertible {
    case heartbeat
    case shutdown
    case timesync
    case kvp
    /// File copy (Copy-VMFile, "Guest services"; docs/PROTOCOL.md §6.6).
    case fcopy
    /// Backup (volume checkpoint): freeze and thaw for production checkpoints (docs/PROTOCOL.md §6.5).
    case vss

    public var description: String { rawValue }

    /// Hashed and compared by case. The standard library's default for a `String` raw value
    /// hashes the string (~340 instructions per dictionary look-up), and services key the
    /// dictionaries the simulated host looks up several times per message
    /// (docs/PERFORMANCE.md, "Where the round trip goes").
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ordinal)
    }

    public static func == (lhs: ICServiceID, rhs: ICServiceID) -> Bool {
        lhs.ordinal == rhs.ordinal
    }

    private var ordinal: Int {
        switch self {
        case .heartbeat: 0
        case .shutdown: 1
        case .timesync: 2
        case .kvp: 3
        case .fcopy: 4
        case .vss: 5
        }
    }

    /// The device class (class GUID, lsvmbus description, kernel driver).
    public var deviceClass: VMBusDeviceClass {
        switch self {
        case .heartbeat: .heartbeat
        case .shutdown: .shutdown
        case .timesync: .timesync
        case .kvp: .kvp
        case .fcopy: .fcopy
        case .vss: .vss
        }
    }

    /// The class GUID the host offers the channel with; services are matched by this, never by
    /// instance.
    public var classID: VMBusGUID { deviceClass.classID }

    /// The instance GUID Hyper-V offers the single instance with (docs/PROTOCOL.md §4.2). Only the
    /// simulator uses it: the agent matches by class (§8 Q24).
    public var instanceID: VMBusGUID {
        let text = switch self {
        case .heartbeat: "fd149e91-82e0-4a7d-afa6-2a4166cbd7c0"
        case .shutdown: "b6650ff7-33bc-4840-8048-e0676786f393"
        case .timesync: "2dd1ce17-079e-403c-b352-a1921ee207ee"
        case .kvp: "242ff919-07db-4180-9c2e-b86cb68c8c55"
        // Hard-coded by hv_fcopy_uio_daemon.c (docs/PROTOCOL.md §6.6).
        case .fcopy: "eb765408-105f-49b6-b4aa-c123b64d17d4"
        case .vss: "2450ee40-33bf-4fbd-892e-9fb06e9214cf"
        }
        return VMBusGUID(text) ?? .null
    }

    /// The service for a class GUID, if hvagent speaks it.
    public init?(classID: VMBusGUID) {
        guard let service = Self.allCases.first(where: { $0.classID == classID }) else { return nil }
        self = service
    }

    /// Framework versions the guest offers, newest first (Linux `fw_versions`; per service, because
    /// VSS (`hv_snapshot.c`) and file copy (`hv_fcopy_uio_daemon.c fcopy_versions`) offer 3.0 only,
    /// docs/PROTOCOL.md §5.5).
    ///
    /// Why newest first: negotiation takes the first guest entry the host also offers, so an
    /// ascending list silently picks an old version (e.g. shutdown 3.1, and hibernate is never
    /// offered). `ICServiceIDTests` asserts every list is strictly descending.
    public var frameworkVersions: [ICVersion] {
        switch self {
        case .heartbeat, .shutdown, .timesync, .kvp: [ICVersion(3, 0), ICVersion(1, 0)]
        // hv_snapshot.c `fw_versions` (FW_VER_COUNT 1); hv_fcopy_uio_daemon.c `fcopy_versions`.
        case .vss, .fcopy: [ICVersion(3, 0)]
        }
    }

    /// Service versions the guest offers, newest first (Linux `hb_versions`, `sd_versions`,
    /// `ts_versions`, `kvp_versions`, `fcopy_versions`).
    public var serviceVersions: [ICVersion] {
        switch self {
        case .heartbeat: [ICVersion(3, 0), ICVersion(1, 0)]
        // 3.2 is needed before a host sends hibernate.
        case .shutdown: [ICVersion(3, 2), ICVersion(3, 1), ICVersion(3, 0), ICVersion(1, 0)]
        // 4.0 carries the reference time.
        case .timesync: [ICVersion(4, 0), ICVersion(3, 0), ICVersion(1, 0)]
        case .kvp: [ICVersion(4, 0), ICVersion(3, 0), ICVersion(1, 0)]
        // WIN8_SRV_VERSION, the only fcopy message version any source shows.
        case .fcopy: [ICVersion(1, 1)]
        // hv_snapshot.c `vss_versions`: 5.0 only. 6.0/7.0 would invite cluster queries and
        // shadow-LUN recovery no Linux guest handles (docs/PROTOCOL.md §6.5.2).
        case .vss: [ICVersion(5, 0)]
        }
    }
}
