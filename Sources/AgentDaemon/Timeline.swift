import AgentCore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import DaemonSupport

/// Prints timestamped, serialised lines from the host and the agent (demo, run, sim-host).
public final class Timeline: @unchecked Sendable {
    private let lock = Mutex(())
    private let start = Date()

    public init() {}

    public func log(_ who: String, _ text: String) {
        lock.withLock { _ in
            let t = Date().timeIntervalSince(start)
            let label = who.count < 6 ? who + String(repeating: " ", count: 6 - who.count) : who
            var line = FixedPoint.text(t, digits: 3, width: 7) + "s  " + label + text + "\n"
            line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
        }
    }

    /// One readable line per agent event; nil for events not worth a line.
    public static func describe(_ event: AgentEvent) -> String? {
        switch event {
        case .channelOpened(let service): "\(service): channel opened"
        case .channelClosed(let service, let reason): "\(service): channel closed (\(reason))"
        case .channelReopenScheduled(let service, let milliseconds): "\(service): reopening the channel in \(milliseconds) ms"
        case .packet(let service, .negotiated(let versions)): "\(service): negotiated \(versions)"
        case .packet(let service, .negotiationFailed): "\(service): negotiation failed, no common version"
        case .packet(let service, .dropped(let error)): "\(service): dropped malformed packet (\(error))"
        case .packet(let service, .unknownType(let type)): "\(service): unknown message \(type), answered E_FAIL"
        case .packet: nil
        case .activity(let service, let activity): "\(service): \(activity)"
        case .actionFailed(let service, let error): "\(service): action failed: \(error)"
        case .offerIgnored(let classID): "offer of class \(classID) ignored (not served here)"
        case .offerRefused(let reason): "vmbus: offer refused: \(reason)"
        }
    }
}
