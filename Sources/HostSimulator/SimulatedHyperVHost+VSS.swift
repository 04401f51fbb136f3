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

    /// The happy path of a production checkpoint: HOT_BACKUP, FREEZE, hold, THAW; `whileFrozen`
    /// runs during the hold (the host "commits the diff disk"). Returns the four statuses.
    public func vssBackup(hold: Double = 0.2, whileFrozen: () throws -> Void = {}) throws -> [HResult] {
        let check = try vssHotBackup()
        guard check.status == .ok else { return [check.status] }
        let frozen = try vssFreeze()
        try run(timeout: hold)
        try whileFrozen()
        return [check.status, frozen.status, try vssThaw()]
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

public enum VSSHostError: Error, CustomStringConvertible {
    case noReply(String)
    public var description: String {
        switch self { case .noReply(let what): "no VSS reply to \(what)" }
    }
}
