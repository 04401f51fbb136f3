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

    public var description: String { rawValue }

    /// The device class (class GUID, lsvmbus description, kernel driver).
    public var deviceClass: VMBusDeviceClass {
        switch self {
        case .heartbeat: .heartbeat
        case .shutdown: .shutdown
        case .timesync: .timesync
        case .kvp: .kvp
        }
    }

    /// The class GUID the host offers the channel with; services are matched by this, never by
    /// instance.
    public var classID: VMBusGUID { deviceClass.classID }

    /// The instance GUID Hyper-V uses: shutdown, timesync and KVP reuse their class GUID; no fixed
    /// heartbeat instance is documented, so this one is made up (only the simulator offers it).
    public var instanceID: VMBusGUID {
        switch self {
        case .heartbeat: Self.heartbeatInstance
        case .shutdown, .timesync, .kvp: classID
        }
    }

    private static let heartbeatInstance = VMBusGUID("fedcba98-7654-4321-8000-000000000001") ?? .null

    /// The service for a class GUID, if hvagent speaks it.
    public init?(classID: VMBusGUID) {
        guard let service = Self.allCases.first(where: { $0.classID == classID }) else { return nil }
        self = service
    }

    /// Framework versions the guest offers, newest first (Linux `fw_versions`).
    ///
    /// Why newest first: negotiation takes the first guest entry the host also offers, so an
    /// ascending list silently picks an old version (e.g. shutdown 3.1, and hibernate is never
    /// offered). `ICServiceIDTests` asserts every list is strictly descending.
    public var frameworkVersions: [ICVersion] { [ICVersion(3, 0), ICVersion(1, 0)] }

    /// Service versions the guest offers, newest first (Linux `hb_versions`, `sd_versions`,
    /// `ts_versions`, `kvp_versions`).
    public var serviceVersions: [ICVersion] {
        switch self {
        case .heartbeat: [ICVersion(3, 0), ICVersion(1, 0)]
        // 3.2 is needed before a host sends hibernate.
        case .shutdown: [ICVersion(3, 2), ICVersion(3, 1), ICVersion(3, 0), ICVersion(1, 0)]
        // 4.0 carries the reference time.
        case .timesync: [ICVersion(4, 0), ICVersion(3, 0), ICVersion(1, 0)]
        case .kvp: [ICVersion(4, 0), ICVersion(3, 0), ICVersion(1, 0)]
        }
    }
}
