import HVProtocol
import ICFramework

/// What a VSS request asks the agent to do beyond the immediate answer: FREEZE and THAW are
/// answered when the work off the loop is done.
public enum VSSWork: Hashable, Sendable {
    case freeze
    case thaw
}

/// The VSS IC as a message handler (docs/PROTOCOL.md §6.5.4, Linux `hv_snapshot.c`).
///
/// It decides everything that can be decided at once; FREEZE and THAW come back as ``VSSWork``
/// for the channel's `HeldReplyChannelHandler` to hold the reply until the coordinator finishes. Unlike the
/// kernel, it sets the HOT_BACKUP flags itself (defect V1).
public struct VSSICService: ICService {
    public typealias Action = VSSWork

    public var name: String { "vss" }
    public var serviceVersions: [ICVersion] { ICServiceID.vss.serviceVersions }
    public var frameworkVersions: [ICVersion] { ICServiceID.vss.frameworkVersions }
    /// Whether a freeze could start now (the coordinator's HOT_BACKUP answer).
    public var ready: () -> Bool
    /// Every request, for the log (operation, body length).
    public var note: (String) -> Void
    /// NEGOTIATE reached the service: the host reopened or restarted the IC (docs/PROTOCOL.md §8 Q5).
    public var renegotiated: () -> Void

    public init(ready: @escaping () -> Bool, note: @escaping (String) -> Void = { _ in },
                renegotiated: @escaping () -> Void = {}) {
        self.ready = ready
        self.note = note
        self.renegotiated = renegotiated
    }

    /// Linux drops a VSS packet shorter than 40 bytes (12 body bytes).
    public func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int? {
        type == .vss ? VSSMessage.minimumSize : nil
    }

    public mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<VSSWork> {
        var body = request.body
        let operation = VSSMessage.operation(body) ?? VSSOperation(rawValue: 0)  // size checked by the parser
        switch operation {
        case .hotBackup:
            guard ready() else {
                note("HOT_BACKUP: not ready (a freeze or thaw is in progress): E_FAIL, the host falls back")
                return ICHandled(status: .fail, body: body)
            }
            VSSMessage.setFlags(VSSMessage.noAutoRecoveryFlags, in: &body)
            return ICHandled(status: .ok, body: body)
        case .getDMInfo:
            VSSMessage.setFlags(0, in: &body)
            return ICHandled(status: .ok, body: body)
        case .freeze:
            if let freeze = VSSFreezeBody.decode(body) {
                note("FREEZE: backup type \(freeze.backupType), flags 0x\(String(freeze.flags, radix: 16)), \(freeze.lunCount) LUN(s)")
            }
            return ICHandled(status: .ok, body: body, action: .freeze)
        case .thaw:
            return ICHandled(status: .ok, body: body, action: .thaw)
        default:
            // CREATE, DELETE, BACKUP_COMPLETE, AUTO_RECOVER, cluster query and unknown bytes:
            // Linux answers S_OK without acting (hv_snapshot.c `default:`).
            note("\(operation): answered S_OK, nothing to do")
            return ICHandled(status: .ok, body: body)
        }
    }

    public mutating func reset() {
        renegotiated()
    }
}
