import AgentCore
import Foundation
import HostSimulator
import ICFramework
import Timesync

/// Prints timestamped, serialised lines from the host and the agent (demo, run, sim-host).
final class Timeline: @unchecked Sendable {
    private let lock = NSLock()
    private let start = Date()

    func log(_ who: String, _ text: String) {
        lock.lock()
        defer { lock.unlock() }
        let t = Date().timeIntervalSince(start)
        let line = String(format: "%7.3fs  ", t) + who.padding(toLength: 6, withPad: " ", startingAt: 0) + text + "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
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
        let text = String(format: "guest %@ by %.3f ms", offset >= 0 ? "behind" : "ahead", abs(Double(offset)) / 1e6)
        switch action {
        case .step(_, let reason)?: return text + " -> step (\(reason == .sync ? "SYNC" : "5 s behind"))"
        case .setFrequency(let ppm, _)?: return text + String(format: " -> slew %+.1f ppm", ppm)
        case .chrony?: return text + " -> sample to chronyd"
        case nil: return text
        }
    }
}
