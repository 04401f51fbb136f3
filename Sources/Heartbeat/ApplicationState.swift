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

/// Where the heartbeat gets `application_state` from. Implementations must not block: the
/// heartbeat handler calls it on every request, inside the event loop that serves every channel.
/// Slow checks run in the background and answer from their last result.
///
/// A probe with background work gives the loop one descriptor to poll and a handler for it; the
/// defaults (no descriptor, nothing to handle, nothing to cancel) fit probes that answer at once.
public protocol HealthProbe: Sendable {
    /// nil: nothing to report, the host's value is echoed as Linux does.
    func applicationState() -> ApplicationState?
    /// Polled for reading by the event loop; -1 for none.
    var descriptor: Int32 { get }
    /// Called by the event loop when ``descriptor`` is readable.
    func handleReadable()
    /// Background work is running, or was cancelled and still has to be collected through
    /// ``handleReadable()``.
    var isRunning: Bool { get }
    /// The probe is being dropped (a reload replaced it): end background work without waiting for
    /// it; ``handleReadable()`` collects what is left, until ``isRunning`` is false.
    func cancel()
}

extension HealthProbe {
    public var descriptor: Int32 { -1 }
    public func handleReadable() {}
    public var isRunning: Bool { false }
    public func cancel() {}
}
