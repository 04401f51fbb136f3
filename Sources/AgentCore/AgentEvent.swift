import HVProtocol
import ICFramework

/// What the agent did, for the status board, logs, tests and the demo timeline.
public enum AgentEvent: Sendable {
    case channelOpened(ICServiceID)
    case channelClosed(ICServiceID, reason: String)
    /// A corrupt ring closed the channel; it is opened again after `afterMilliseconds`.
    case channelReopenScheduled(ICServiceID, afterMilliseconds: Int)
    /// A packet on a channel: what the IC framework made of it.
    case packet(ICServiceID, ICEvent)
    /// Service-specific news (a heartbeat answered, a time sample, a shutdown started).
    case activity(ICServiceID, any ServiceActivity)
    case actionFailed(ICServiceID, error: String)
    /// An offer for a class this agent does not serve.
    case offerIgnored(classID: VMBusGUID)
    /// An offer that failed validation (bad sizes, wrong descriptors); nothing was mapped.
    case offerRefused(reason: String)
}

/// Something a service reports beyond the IC framework's packet events. The description is the
/// line the log and the demo timeline show after the service name; tests match the concrete type.
public protocol ServiceActivity: Sendable, CustomStringConvertible {}

/// Receives agent events; called on the agent's thread.
public typealias AgentEventObserver = @Sendable (AgentEvent) -> Void
