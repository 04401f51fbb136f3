import AgentConfig
import RingTransport

extension VMBusDeviceClass {
    /// The `[services]` key that chooses how hvagent serves this class, `nil` for the classes it
    /// never serves. The class table lives in RingTransport, which knows nothing of the
    /// configuration; this is where a service is tied to its own key, so no caller builds the key
    /// from ``name``.
    public var modeSetting: Setting<ServiceModeChoice>? {
        switch self {
        case .heartbeat: .heartbeatServiceMode
        case .shutdown: .shutdownServiceMode
        case .timesync: .timesyncServiceMode
        case .kvp: .kvpServiceMode
        default: nil
        }
    }
}
