import AgentCore
import HVProtocol

/// One line per copy that ended, not one per chunk (docs/PROTOCOL.md §6.6): where it went, how
/// many bytes, and the status the host got.
public struct FileCopyReport: ServiceActivity, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// Published under its final name (COMPLETE answered S_OK).
        case copied
        /// START refused, or a WRITE or COMPLETE failed; nothing was left behind.
        case failed
        /// CANCEL, or ended by a new START, NEGOTIATE, the channel closing or the agent stopping.
        case discarded
    }

    public var outcome: Outcome
    /// The destination path (normalised), or path_name as sent when it was refused.
    public var path: String
    public var bytes: UInt64
    public var status: HResult
    public var reason: String?

    public init(outcome: Outcome, path: String, bytes: UInt64, status: HResult, reason: String? = nil) {
        self.outcome = outcome
        self.path = path
        self.bytes = bytes
        self.status = status
        self.reason = reason
    }

    public var description: String {
        var text = "\(outcome.rawValue) \(path) (\(bytes) bytes, \(status))"
        if let reason { text += ": \(reason)" }
        return text
    }
}
