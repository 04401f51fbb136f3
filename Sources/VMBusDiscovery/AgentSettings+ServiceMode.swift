import AgentConfig
import RingTransport

extension AgentSettings {
    /// How the configuration asks for `service` to be served: its `[services]` key, or off for a
    /// class hvagent never serves (there is nothing to configure for it).
    public func mode(of service: VMBusDeviceClass) -> ServiceModeChoice {
        service.modeSetting.map { self[$0] } ?? .off
    }
}
