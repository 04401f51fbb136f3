import DaemonSupport
import HVProtocol
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Folds agent events into an ``AgentStatus``. Called on the agent's thread only.
public final class StatusBoard: @unchecked Sendable {
    public private(set) var status: AgentStatus

    public init(version: String, services: [AgentStatus.Service]) {
        status = AgentStatus(version: version, pid: getpid(), started: Date(), services: services)
    }

    private func update(_ service: ICServiceID, _ change: (inout AgentStatus.Service) -> Void) {
        if let i = status.services.firstIndex(where: { $0.name == service }) {
            change(&status.services[i])
        }
    }

    public func record(_ event: AgentEvent) {
        switch event {
        case .channelOpened(let service):
            update(service) { $0.open = true; $0.lastActivity = Date() }
        case .channelClosed(let service, let reason):
            update(service) { $0.open = false; $0.lastError = reason; $0.lastActivity = Date() }
        case .channelReopenScheduled(let service, let milliseconds):
            update(service) { $0.lastError = ($0.lastError ?? "channel closed") + "; reopening in \(milliseconds) ms" }
        case .packet(let service, let event):
            update(service) { s in
                s.lastActivity = Date()
                switch event {
                case .negotiated(let v):
                    s.requests += 1
                    s.frameworkVersion = "\(v.framework)"
                    s.serviceVersion = "\(v.service)"
                case .negotiationFailed:
                    s.requests += 1
                    s.lastError = "no common version with the host"
                case .dropped(let why):
                    s.dropped += 1
                    s.lastError = "dropped: \(why)"
                default:
                    s.requests += 1
                }
            }
        case .actionFailed(let service, let error):
            update(service) { $0.lastError = error }
        case .activity, .offerIgnored, .offerRefused:
            break
        }
    }

    /// A reload that applied (or found no change); `restartPending` replaces the previous list,
    /// since it compares the file with what runs.
    public func recordReload(restartPending: [String]) {
        status.reloads.count += 1
        status.reloads.last = Date()
        status.reloads.restartPending = restartPending
        status.reloads.lastError = nil
    }

    /// A reload refused because the file is invalid; the running configuration stays.
    public func recordReloadFailure(_ error: String) {
        status.reloads.count += 1
        status.reloads.last = Date()
        status.reloads.lastError = error
    }

    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return (try? Array(encoder.encode(status))) ?? Array("{}".utf8)
    }
}
