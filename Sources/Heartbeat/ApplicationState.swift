import HVProtocol
/// Heartbeat `application_state` (openvmm `HeartbeatMessage`, body offset 8, u32).
///
/// Linux never writes it and echoes what the host sent; we only set it when a health
/// probe is configured (off by default), because the host's interpretation is not
/// documented (docs/PROTOCOL.md §9).
public enum ApplicationState: UInt32, Sendable {
    case unknown = 0
    case healthy = 1
    case critical = 2
    case stopped = 3
}

/// Where the heartbeat gets `application_state` from. Implementations must be cheap:
/// the heartbeat handler calls it on every request, so slow checks should cache.
public protocol HealthProbe: Sendable {
    /// nil: nothing to report, the host's value is echoed as Linux does.
    func applicationState() -> ApplicationState?
}
