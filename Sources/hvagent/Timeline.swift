import AgentCore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import HostSimulator
import ICFramework
import Timesync

/// Prints timestamped, serialised lines from the host and the agent (demo, run, sim-host).
final class Timeline: @unchecked Sendable {
    private let lock = Mutex(())
    private let start = Date()

    func log(_ who: String, _ text: String) {
        lock.withLock { _ in
            let t = Date().timeIntervalSince(start)
            let label = who.count < 6 ? who + String(repeating: " ", count: 6 - who.count) : who
            var line = FixedPoint.text(t, digits: 3, width: 7) + "s  " + label + text + "\n"
            line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
        }
    }

    /// One readable line per agent event; nil for events not worth a line.
    static func describe(_ event: AgentEvent) -> String? {
        switch event {
        case .channelOpened(let service): "\(service): channel opened"
        case .channelClosed(let service, let reason): "\(service): channel closed (\(reason))"
        case .packet(let service, .negotiated(let versions)): "\(service): negotiated \(versions)"
        case .packet(let service, .negotiationFailed): "\(service): negotiation failed, no common version"
        case .packet(let service, .dropped(let error)): "\(service): dropped malformed packet (\(error))"
        case .packet(let service, .unknownType(let type)): "\(service): unknown message \(type), answered E_FAIL"
        case .packet(_, _): nil
        case .heartbeat(let sequence): "heartbeat: seq \(sequence) -> \(sequence &+ 1)"
        case .timesync(let offset, let action): "timesync: " + describe(offset: offset, action: action)
        case .shutdownStarted(let request, let consumed):
            "shutdown: \(request.kind.rawValue) (reason 0x\(String(request.reasonCode, radix: 16)), timeout \(request.timeoutSeconds) s, "
                + "message \"\(request.message)\"); reply \(consumed ? "consumed by the host" : "not consumed within 1 s")"
        case .actionFailed(let service, let error): "\(service): action failed: \(error)"
        case .ignoredOffer(let classID): "offer of class \(classID) ignored (not served here)"
        }
    }

    static func describe(offset: Int64, action: TimesyncAction?) -> String {
        let text = "guest \(offset >= 0 ? "behind" : "ahead") by \(FixedPoint.text(abs(Double(offset)) / 1e6, digits: 3)) ms"
        switch action {
        case .step(_, let reason)?: return text + " -> step (\(reason == .sync ? "SYNC" : "5 s behind"))"
        case .setFrequency(let ppm, _)?: return text + " -> slew \(FixedPoint.text(ppm, digits: 1, plus: true)) ppm"
        case .chrony?: return text + " -> sample to chronyd"
        case nil: return text
        }
    }
}
