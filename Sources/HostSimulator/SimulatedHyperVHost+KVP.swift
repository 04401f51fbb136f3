import HVProtocol

/// The host's KVP script API: each call sends one KVP request (or, for `kvpEnumerate`, walks a
/// pool with index 0, 1, … until the guest answers anything but S_OK, as Hyper-V does), pumps
/// the host until the guest answered, and returns what the host read. Every request and reply
/// goes to the exchange log.
///
/// Like the rest of the host, call these from the thread that pumps it. They throw
/// `HostChannelError.notReady` before KVP negotiated and `KVPHostError.noReply` on a timeout.
extension SimulatedHyperVHost {
    /// SET `key` = `value` (REG_SZ) in `pool`; returns the guest's status.
    public func kvpSet(pool: UInt8, key: String, value: String, timeout: Double = 5) throws -> HResult {
        try kvpTransaction(KVPHostLogic.setBody(pool: pool, key: key, value: value),
                           detail: "SET pool \(pool): \(key) = \(value)", timeout: timeout).status
    }

    /// DELETE `key` from `pool`; returns the guest's status.
    public func kvpDelete(pool: UInt8, key: String, timeout: Double = 5) throws -> HResult {
        try kvpTransaction(KVPHostLogic.deleteBody(pool: pool, key: key),
                           detail: "DELETE pool \(pool): \(key)", timeout: timeout).status
    }

    /// GET `key` from `pool`: the status and, on S_OK, the value.
    public func kvpGet(pool: UInt8, key: String, timeout: Double = 5) throws -> (status: HResult, value: String?) {
        let reply = try kvpTransaction(KVPHostLogic.getBody(pool: pool, key: key),
                                       detail: "GET pool \(pool): \(key)", timeout: timeout)
        return (reply.status, reply.status == .ok ? try KVPHostLogic.getValue(reply.body) : nil)
    }

    /// ENUMERATE `pool` from index 0 to the end: the records and the status that ended the walk
    /// (HV_S_CONT normally). At most `limit` requests.
    public func kvpEnumerate(pool: UInt8, limit: UInt32 = 10_000, timeout: Double = 5) throws
        -> (records: [KVPHostRecord], end: HResult) {
        var records: [KVPHostRecord] = []
        for index in 0..<limit {
            let reply = try kvpTransaction(KVPHostLogic.enumerateBody(pool: pool, index: index),
                                           detail: "ENUMERATE pool \(pool) index \(index)", timeout: timeout)
            guard reply.status == .ok else { return (records, reply.status) }
            records.append(try KVPHostLogic.enumeratedRecord(reply.body))
        }
        return (records, .ok)
    }

    /// GET_IP_INFO for the adapter with `mac` (upper-case, ':'-separated, as Hyper-V sends it).
    public func kvpGetIPInfo(mac: String, timeout: Double = 5) throws -> (status: HResult, info: KVPHostIPInfo?) {
        let reply = try kvpTransaction(KVPHostLogic.getIPInfoBody(mac: mac), detail: "GET_IP_INFO \(mac)", timeout: timeout)
        return (reply.status, reply.status == .ok ? try KVPHostLogic.ipInfo(reply.body) : nil)
    }

    /// SET_IP_INFO: the host's address configuration for the adapter `info.adapterID` (its VMBus
    /// instance GUID). The guest may take a while (it applies and verifies before it answers).
    public func kvpSetIPInfo(_ info: KVPHostIPInfo, timeout: Double = 30) throws -> HResult {
        try kvpTransaction(KVPHostLogic.setIPInfoBody(info), detail: "SET_IP_INFO \(info.adapterID)", timeout: timeout).status
    }

    private func kvpTransaction(_ body: [UInt8], detail: String, timeout: Double) throws
        -> (status: HResult, body: [UInt8]) {
        kvpReply = nil
        try send(.kvp, type: .kvpExchange, body: body, detail: detail)
        guard try run(timeout: timeout, until: { self.kvpReply != nil }), let reply = kvpReply else {
            throw KVPHostError.noReply(detail)
        }
        kvpReply = nil
        return (reply.header.status, reply.body)
    }
}
