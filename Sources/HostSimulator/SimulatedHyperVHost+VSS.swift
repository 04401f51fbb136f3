import HVProtocol

/// The host's backup script API (docs/PROTOCOL.md §6.5.8): each call sends one VSS request,
/// pumps the host until the guest answered, and returns the status and the reply body. Like the
/// rest of the host, call these from the thread that pumps it.
extension SimulatedHyperVHost {
    /// HOT_BACKUP: "can the guest freeze?" A good guest in uio mode answers S_OK with flags 5.
    public func vssHotBackup(timeout: Double = 30) throws -> (status: HResult, flags: UInt32?) {
        let reply = try vssTransaction(VSSHostLogic.body(operation: VSSHostLogic.hotBackup), detail: "HOT_BACKUP", timeout: timeout)
        return (reply.status, VSSHostLogic.flags(reply.body))
    }

    /// GET_DM_INFO.
    public func vssGetDMInfo(timeout: Double = 30) throws -> (status: HResult, flags: UInt32?) {
        let reply = try vssTransaction(VSSHostLogic.body(operation: VSSHostLogic.getDMInfo), detail: "GET_DM_INFO", timeout: timeout)
        return (reply.status, VSSHostLogic.flags(reply.body))
    }

    /// FREEZE, as the full 6,260-byte `Message2` or trimmed to `lunCount` LUNs (which one Windows
    /// sends is unknown, docs/PROTOCOL.md §9).
    public func vssFreeze(lunCount: Int = 1, full: Bool = true, timeout: Double = 900) throws -> (status: HResult, length: Int) {
        let reply = try vssTransaction(VSSHostLogic.freezeBody(lunCount: lunCount, full: full),
                                       detail: "FREEZE (\(lunCount) LUN(s), \(full ? "full" : "trimmed") body)", timeout: timeout)
        return (reply.status, reply.body.count)
    }

    /// THAW.
    public func vssThaw(timeout: Double = 30) throws -> HResult {
        try vssTransaction(VSSHostLogic.body(operation: VSSHostLogic.thaw), detail: "THAW", timeout: timeout).status
    }

    /// Any operation byte (unknown ones included), 12-byte body.
    public func vssRequest(operation: UInt8, timeout: Double = 30) throws -> HResult {
        try vssTransaction(VSSHostLogic.body(operation: operation), detail: "op \(operation)", timeout: timeout).status
    }

    /// Runs one backup as `script` says (docs/PROTOCOL.md §6.5.8) and returns each step with its
    /// status, stopping after the first step that is not S_OK (the host then falls back to a
    /// standard checkpoint). `whileFrozen` runs while the host holds the guest frozen.
    public func vssRun(_ script: VSSHostScript, whileFrozen: () throws -> Void = {}) throws -> [VSSHostScript.Step] {
        var steps: [VSSHostScript.Step] = []
        func step(_ name: String, _ status: HResult) -> Bool {
            steps.append(VSSHostScript.Step(name: name, status: status))
            return status == .ok
        }
        guard step("HOT_BACKUP", try vssHotBackup().status), step("FREEZE", try vssFreeze().status) else { return steps }
        switch script {
        case .backup(let hold):
            try run(timeout: hold)
            try whileFrozen()
        case .thawNeverComes(let wait):
            // The host "forgets" the THAW (a crashed backup application); the guest must thaw on
            // its own, and the late THAW below must still be answered S_OK.
            try run(timeout: wait)
            try whileFrozen()
        case .freezeWhileFrozen:
            try whileFrozen()
            guard step("FREEZE", try vssFreeze().status) else { return steps }
        }
        _ = step("THAW", try vssThaw())
        return steps
    }

    private func vssTransaction(_ body: [UInt8], detail: String, timeout: Double) throws -> (status: HResult, body: [UInt8]) {
        vssReply = nil
        try send(.vss, type: .vss, body: body, detail: detail)
        guard try run(timeout: timeout, until: { self.vssReply != nil }), let reply = vssReply else {
            throw VSSHostError.noReply(detail)
        }
        vssReply = nil
        return (reply.header.status, reply.body)
    }
}

/// The ways the simulated host runs a backup (issue 12's failure scripts; the agent being killed
/// while frozen is the harness's doing: the host only sees its channel close and a new agent).
public enum VSSHostScript: Hashable, Sendable {
    /// HOT_BACKUP, FREEZE, hold `hold` seconds, THAW: a production checkpoint.
    case backup(hold: Double)
    /// HOT_BACKUP, FREEZE, then no THAW for `wait` seconds (longer than the guest's watchdog),
    /// then THAW.
    case thawNeverComes(wait: Double)
    /// HOT_BACKUP, FREEZE, FREEZE again, THAW.
    case freezeWhileFrozen

    public struct Step: Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public var status: HResult
        public init(name: String, status: HResult) {
            self.name = name
            self.status = status
        }
        public var description: String { "\(name) \(status)" }
    }
}

public enum VSSHostError: Error, CustomStringConvertible {
    case noReply(String)
    public var description: String {
        switch self { case .noReply(let what): "no VSS reply to \(what)" }
    }
}
