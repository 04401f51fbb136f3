import FoundationEssentials
import HVSystem

/// One message between the agent and the freeze helper (`hvagent freeze-helper`, docs/PROTOCOL.md
/// §6.5.9): one SOCK_SEQPACKET packet each, UTF-8 text, the operation word first. A mount point is
/// written with the frozen list's mountinfo-style escapes, so it is one word.
///
/// Text rather than a binary layout: both ends are this program, the messages are few and short,
/// and a refusal's reason reads the same in the helper's log and in a packet capture.
public enum FreezeHelperRequest: Hashable, Sendable {
    /// The freeze plan as the helper sees the initial mount namespace.
    case plan
    case freeze(String)
    case thaw(String)

    /// The largest request: a mount point of PATH_MAX bytes, escaped (up to 4 bytes per byte).
    public static let maximumSize = 6 + 4 * 4096

    public var encoded: [UInt8] {
        switch self {
        case .plan: Array("plan".utf8)
        case .freeze(let mountPoint): Array("freeze \(FrozenList.escape(mountPoint))".utf8)
        case .thaw(let mountPoint): Array("thaw \(FrozenList.escape(mountPoint))".utf8)
        }
    }

    /// Nil for anything malformed: unknown word, wrong word count, a mount point that is not an
    /// absolute path, a NUL byte, invalid UTF-8, or an oversized packet.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count <= Self.maximumSize, !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        switch (words.first, words.count) {
        case ("plan", 1): self = .plan
        case ("freeze", 2), ("thaw", 2):
            let mountPoint = MountInfoEntry.unescape(words[1])
            guard mountPoint.hasPrefix("/"), !mountPoint.utf8.contains(0), mountPoint.utf8.count <= 4096 else { return nil }
            self = words[0] == "freeze" ? .freeze(mountPoint) : .thaw(mountPoint)
        default: return nil
        }
    }
}

/// The helper's answer to one ``FreezeHelperRequest``.
public enum FreezeHelperReply: Hashable, Sendable {
    case plan(FreezePlan)
    case freeze(FreezeResult)
    case thaw(ThawResult)
    /// The request was not allowed (not in the plan, malformed, wrong peer); nothing was done.
    case refused(String)

    public var encoded: [UInt8] {
        switch self {
        case .plan(let plan): Array("plan ".utf8) + ((try? JSONEncoder().encode(plan)).map { Array($0) } ?? [])
        case .freeze(.frozen): Array("frozen".utf8)
        case .freeze(.alreadyFrozen): Array("busy".utf8)
        case .freeze(.unsupported): Array("unsupported".utf8)
        case .freeze(.failed(let error)), .thaw(.failed(let error)): Array("failed \(error)".utf8)
        case .thaw(.thawed): Array("thawed".utf8)
        case .thaw(.notFrozen): Array("notfrozen".utf8)
        case .refused(let reason): Array("refused \(reason)".utf8)
        }
    }

    /// Decodes the answer to `request`; nil when it is not one (the client then treats the helper
    /// as failed).
    public init?(_ bytes: [UInt8], answering request: FreezeHelperRequest) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let (word, rest) = text.firstIndex(of: " ").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) } ?? (text, "")
        switch (request, word) {
        case (_, "refused"): self = .refused(rest)
        case (.plan, "plan"):
            guard let plan = try? JSONDecoder().decode(FreezePlan.self, from: Data(rest.utf8)) else { return nil }
            self = .plan(plan)
        case (.freeze, "frozen"): self = .freeze(.frozen)
        case (.freeze, "busy"): self = .freeze(.alreadyFrozen)
        case (.freeze, "unsupported"): self = .freeze(.unsupported)
        case (.thaw, "thawed"): self = .thaw(.thawed)
        case (.thaw, "notfrozen"): self = .thaw(.notFrozen)
        case (.freeze, "failed"), (.thaw, "failed"):
            guard let error = Int32(rest), error > 0 else { return nil }
            if case .freeze = request { self = .freeze(.failed(error)) } else { self = .thaw(.failed(error)) }
        default: return nil
        }
    }
}
