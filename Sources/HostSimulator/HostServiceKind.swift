import ICFramework
import RingTransport
import HVProtocol

/// The integration services the simulated host offers.
public enum HostServiceKind: String, CaseIterable, Sendable, Codable {
    case heartbeat
    case shutdown
    case timesync
    case kvp

    public var classID: VMBusGUID {
        switch self {
        case .heartbeat: ICServiceID.heartbeat.classID
        case .shutdown: ICServiceID.shutdown.classID
        case .timesync: ICServiceID.timesync.classID
        case .kvp: ICServiceID.kvp.classID
        }
    }

    /// Fixed instance ids (docs/PROTOCOL.md §4.2); heartbeat has none documented, so one is made up.
    public var instanceID: VMBusGUID {
        switch self {
        case .heartbeat: VMBusGUID("fedcba98-7654-4321-8000-000000000001")!
        case .shutdown: ICServiceID.shutdown.instanceID
        case .timesync: ICServiceID.timesync.instanceID
        case .kvp: ICServiceID.kvp.instanceID
        }
    }

    public init?(classID: VMBusGUID) {
        guard let kind = Self.allCases.first(where: { $0.classID == classID }) else { return nil }
        self = kind
    }
}
