import AgentConfig
import HVProtocol

extension ICServiceID {
    /// The `[services]` key that chooses how hvagent serves this service. The service identity
    /// lives in HVProtocol, which knows nothing of the configuration; this is where a service is
    /// tied to its own key, so no caller builds the key from the name.
    public var modeSetting: Setting<ServiceModeChoice> {
        switch self {
        case .heartbeat: .heartbeatServiceMode
        case .shutdown: .shutdownServiceMode
        case .timesync: .timesyncServiceMode
        case .kvp: .kvpServiceMode
        case .fcopy: .fcopyServiceMode
        case .vss: .vssServiceMode
        }
    }
}

extension AgentSettings {
    /// How the configuration asks for `service` to be served (its `[services]` key).
    public func mode(of service: ICServiceID) -> ServiceModeChoice {
        self[service.modeSetting]
    }
}
