import FoundationEssentials
import Synchronization
import ICFramework

/// Rate limit for log lines about packets the agent refused.
///
/// A hostile host can send refused packets as fast as the ring carries them; one log line each
/// would let it fill the journal and burn CPU in the logger. So each kind of refusal (per service:
/// each `ICParseError` case, unknown message types, failed negotiations, closed channels) gets at
/// most one line per `interval`; the next line of that kind says how many were suppressed in between.
/// Events that are not refusals pass through unchanged. The counters themselves are never limited
/// (``AgentStatus`` counts every packet).
public final class RefusalLogLimiter: @unchecked Sendable {
    public let interval: TimeInterval
    private let now: @Sendable () -> Date
    private let lock = Mutex(())
    private var windows: [String: (start: Date, suppressed: Int)] = [:]

    public init(interval: TimeInterval = 60, now: @escaping @Sendable () -> Date = { Date() }) {
        self.interval = interval
        self.now = now
    }

    /// The rate-limit key of a refusal event, or nil for any other event.
    public static func refusalKind(_ event: AgentEvent) -> String? {
        switch event {
        case .packet(let service, .dropped(let error)): "\(service)/dropped/\(caseName(error))"
        case .packet(let service, .unknownType): "\(service)/unknown-type"
        case .packet(let service, .negotiationFailed): "\(service)/negotiation-failed"
        case .channelClosed(let service, _): "\(service)/channel-closed"
        case .channelReopenScheduled(let service, _): "\(service)/reopen"
        case .offerRefused: "vmbus/offer-refused"
        default: nil
        }
    }

    /// Whether to log `event` now, and how many events of its kind were suppressed since the last
    /// logged one. Non-refusal events are always logged with 0 suppressed.
    public func admit(_ event: AgentEvent) -> (log: Bool, suppressed: Int) {
        guard let kind = Self.refusalKind(event) else { return (true, 0) }
        return admit(kind: kind)
    }

    /// The same budget for any other host-triggered line, keyed by `kind` (the KVP daemon passes
    /// the whole line: a host repeating a failing request repeats the same line).
    public func admit(kind: String) -> (log: Bool, suppressed: Int) {
        let time = now()
        return lock.withLock { _ in
            if let window = windows[kind], time.timeIntervalSince(window.start) < interval {
                windows[kind]?.suppressed += 1
                return (false, 0)
            }
            let suppressed = windows[kind]?.suppressed ?? 0
            windows[kind] = (time, 0)
            return (true, suppressed)
        }
    }

    /// `describe(event)` when the event may be logged now, with the suppressed count appended.
    public func line(for event: AgentEvent, describe: (AgentEvent) -> String?) -> String? {
        guard let kind = Self.refusalKind(event) else { return describe(event) }
        guard let text = describe(event) else { return nil }
        return line(kind: kind, text: text)
    }

    /// `text` when a line of `kind` may be logged now, with the suppressed count appended.
    public func line(kind: String, text: String) -> String? {
        let (log, suppressed) = admit(kind: kind)
        guard log else { return nil }
        return suppressed == 0 ? text : text + " (\(suppressed) more of this kind suppressed in the last \(Int(interval)) s)"
    }

    private static func caseName(_ error: ICParseError) -> String {
        switch error {
        case .shorterThanHeaders: "short"
        case .notDataMessage: "not-data"
        case .badPipeSize: "pipe-size"
        case .bodyTooShort: "body-too-short"
        }
    }
}
