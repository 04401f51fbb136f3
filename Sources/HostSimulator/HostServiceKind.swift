import ICFramework
import RingTransport

/// The integration services the simulated host offers.
public enum HostServiceKind: String, CaseIterable, Sendable, Codable {
    case heartbeat
    case shutdown
    case timesync
    case kvp

    public var classID: VMBusGUID {
        switch self {
        case .heartbeat: ICClassGUID.heartbeat
        case .shutdown: ICClassGUID.shutdown
        case .timesync: ICClassGUID.timesync
        case .kvp: ICClassGUID.kvp
        }
    }

    /// Fixed instance ids (docs/PROTOCOL.md §4.2); heartbeat has none documented, so one is made up.
    public var instanceID: VMBusGUID {
        switch self {
        case .heartbeat: VMBusGUID("fedcba98-7654-4321-8000-000000000001")!
        case .shutdown: ICInstanceGUID.shutdown
        case .timesync: ICInstanceGUID.timesync
        case .kvp: ICInstanceGUID.kvp
        }
    }

    public init?(classID: VMBusGUID) {
        guard let kind = Self.allCases.first(where: { $0.classID == classID }) else { return nil }
        self = kind
    }
}
