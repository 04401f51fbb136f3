import ICFramework
import ShutdownSvc
import Timesync

/// What the agent did, for logs, tests and the demo timeline.
public enum AgentEvent: Sendable {
    case channelOpened(service: String)
    case channelClosed(service: String, reason: String)
    /// A packet on a channel: what the IC framework made of it.
    case packet(service: String, event: ICEvent)
    case heartbeat(sequence: UInt64)
    case timesync(offsetNanoseconds: Int64, action: TimesyncAction?)
    case shutdownStarted(ShutdownRequest, replyConsumed: Bool)
    case actionFailed(service: String, error: String)
    /// An offer for a class this agent does not serve.
    case ignoredOffer(classID: String)
}

/// Receives agent events; called on the agent's thread.
public typealias AgentEventObserver = @Sendable (AgentEvent) -> Void
