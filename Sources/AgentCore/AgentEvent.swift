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
public protocol ServiceActivity: Sendable, CustomStringConvertible {
    /// Whether it happens over and over in normal operation (a heartbeat answered, a time sample
    /// slewed): the daemon logs it at debug, not info, so a quiet VM's journal does not grow by a
    /// line every few seconds. Anything an admin would look for (a shutdown, a clock step, a file
    /// copied) is not routine.
    var isRoutine: Bool { get }
}

extension ServiceActivity {
    public var isRoutine: Bool { false }
}

/// Receives agent events; called on the agent's thread.
public typealias AgentEventObserver = @Sendable (AgentEvent) -> Void
