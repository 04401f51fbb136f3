import DaemonSupport
import IPInjection
import KVPStore

/// The KVP operations, independent of how requests arrive.
///
/// Both front ends (the kernel's /dev/vmbus/hv_kvp and our own VMBus ring)
/// decode their wire into a ``KVPRequest``, call ``handle(_:)`` and encode
/// the ``KVPResponse``.  Status codes are hv_kvp_daemon's (docs/PROTOCOL.md §7.12) except
/// where it has a bug (docs/COMPATIBILITY.md, B1-B15):
/// pool ≥ 5 is rejected (B10), host writes to the auto pool are refused
/// (B11), keys match exactly (not by prefix), GET returns the value (B1),
/// replies are valid UTF-8 (B15), unknown operations fail, and pool-file
/// errors answer HV_E_FAIL instead of killing the daemon (B13).
///
/// Not thread-safe: one request at a time, as the kernel and the host send them.
public final class KVPEngine {
    /// The pool files (host SET/DELETE persist to pools 0, 1, 3, 4).
    public let store: PoolStore
    /// Intrinsic items of pool 2; nil answers pool 2 as empty.
    public var autoPool: AutoPoolSource?
    /// GET_IP_INFO data; nil answers GET_IP_INFO with HV_E_FAIL.
    public var ipInfo: IPInfoSource?
    /// Applies SET_IP_INFO (``handle(_:later:)``); nil answers it at once, HV_GUID_NOTFOUND for an
    /// unknown adapter and HV_E_FAIL otherwise (`[kvp] ip_injection = off`).
    public var ipInjection: IPInjectionRunner?
    /// Version string of the front end's registration (the kernel's "3.1");
    /// reported as IntegrationServicesVersion.
    public var integrationServicesVersion: String?
    /// Where failures are reported (one line each).
    public var log: (String) -> Void
    /// Whether hvagent has filesystems frozen for a backup (``FreezeWindow``): host SET and
    /// DELETE are then answered HV_E_FAIL at once instead of blocking the agent's loop on a write
    /// to a frozen pool file (COMPATIBILITY.md, "KVP while frozen").
    public var writesHeld: () -> Bool = { FreezeWindow.shared.isOpen }

    public init(store: PoolStore, autoPool: AutoPoolSource? = nil, ipInfo: IPInfoSource? = nil,
                log: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.autoPool = autoPool
        self.ipInfo = ipInfo
        self.log = log
    }

    /// Answers one host request now, or — a SET_IP_INFO while IP injection is on — later: nil is
    /// returned and `later` runs once on the loop thread with the answer. Front ends that can hold a
    /// reply call this one.
    public func handle(_ request: KVPRequest, later: @escaping (KVPResponse) -> Void) -> KVPResponse? {
        guard case let .setIPInfo(settings) = request, let runner = ipInjection else { return handle(request) }
        runner.start(settings) { later(.status($0.status)) }
        return nil
    }

    /// Answers one host request at once (SET_IP_INFO is then never applied).  Never traps on any input.
    public func handle(_ request: KVPRequest) -> KVPResponse {
        switch request {
        case let .get(p, key):
            guard let pool = KVPPool(rawValue: p) else { return .status(.invalidArgument) }
            return get(pool, key: key)
        case let .set(p, key, value):
            guard let pool = KVPPool(rawValue: p) else { return .status(.invalidArgument) }
            if writesHeld() { return refusedWhileFrozen("SET", pool) }
            return set(pool, key: key, value: value)
        case let .delete(p, key):
            guard let pool = KVPPool(rawValue: p) else { return .status(.invalidArgument) }
            if writesHeld() { return refusedWhileFrozen("DELETE", pool) }
            return delete(pool, key: key)
        case let .enumerate(p, index):
            guard let pool = KVPPool(rawValue: p) else { return .status(.invalidArgument) }
            return enumerate(pool, index: index)
        case let .getIPInfo(adapterID):
            return getIPInfo(adapterID: adapterID)
        case let .setIPInfo(settings):
            return setIPInfo(adapterID: settings.adapterID)
        case .unsupported:
            return .status(.notSupported)
        }
    }

    private func refusedWhileFrozen(_ operation: String, _ pool: KVPPool) -> KVPResponse {
        log("\(operation) on pool \(pool.rawValue) refused with HV_E_FAIL: filesystems are frozen for a backup")
        return .status(.fail)
    }

    // MARK: - Pool operations

    private func set(_ pool: KVPPool, key: [UInt8], value: [UInt8]) -> KVPResponse {
        guard pool != .auto else { return .status(.notSupported) }
        // Only what the host can read back: valid UTF-8 that fits its field.
        guard String(validating: key, as: UTF8.self) != nil,
              String(validating: value, as: UTF8.self) != nil,
              let record = PoolRecord(key: key, value: value) else {
            return .status(.noMoreItems)
        }
        return poolIO(pool, "SET") { try $0.set(record); return .status(.ok) }
    }

    private func get(_ pool: KVPPool, key: [UInt8]) -> KVPResponse {
        if pool == .auto {
            guard let e = autoEntries().first(where: { $0.key == key }) else {
                return .status(.noMoreItems)
            }
            return .record(key: e.key, value: e.value)
        }
        return poolIO(pool, "GET") { file in
            guard let r = try file.first(key: key) else { return .status(.noMoreItems) }
            return reply(r.key, r.value)
        }
    }

    private func delete(_ pool: KVPPool, key: [UInt8]) -> KVPResponse {
        guard pool != .auto else { return .status(.notSupported) }
        return poolIO(pool, "DELETE") { try $0.delete(key: key) ? .status(.ok) : .status(.noMoreItems) }
    }

    private func enumerate(_ pool: KVPPool, index: UInt32) -> KVPResponse {
        if pool == .auto {
            let entries = autoEntries()
            guard index < entries.count else { return .status(.noMoreItems) }
            let e = entries[Int(index)]
            return .record(key: e.key, value: e.value)
        }
        return poolIO(pool, "ENUMERATE") { file in
            // index is unsigned: -1 and 2^31 are simply past the end.
            guard index <= UInt32(Int32.max), let r = try file.record(at: Int(index)) else {
                return .status(.noMoreItems)
            }
            return reply(r.key, r.value)
        }
    }

    private func reply(_ key: [UInt8], _ value: [UInt8]) -> KVPResponse {
        .record(key: UTF8Repair.repaired(key, maxBytes: PoolRecord.maxKeyBytes),
                value: UTF8Repair.repaired(value, maxBytes: PoolRecord.maxValueBytes))
    }

    /// Auto-pool entries with the registered version filled in, as valid
    /// bounded UTF-8.
    private func autoEntries() -> [(key: [UInt8], value: [UInt8])] {
        guard let source = autoPool else { return [] }
        return source.autoPoolEntries().map { e in
            var value = e.value
            if e.key == "IntegrationServicesVersion" {
                value = integrationServicesVersion ?? "Unknown version"
            } else if e.key.hasPrefix("NetworkAddress") {
                value = Self.cutList(value, maxUnits: Self.hostValueUnits)
            }
            return (UTF8Repair.cut(Array(e.key.utf8), maxBytes: PoolRecord.maxKeyBytes),
                    UTF8Repair.cut(Array(value.utf8), maxBytes: PoolRecord.maxValueBytes))
        }
    }

    /// The host reads at most this many UTF-16 units of a value (the kernel
    /// cuts the rest silently).
    static let hostValueUnits = 1022

    /// A ';'-separated list cut after the last whole entry that fits in
    /// `maxUnits` UTF-16 units, instead of mid-address (bug B6).
    static func cutList(_ list: String, maxUnits: Int) -> String {
        guard list.utf16.count > maxUnits else { return list }
        var out = ""
        for item in list.split(separator: ";", omittingEmptySubsequences: false) {
            let next = out.isEmpty ? String(item) : out + ";" + item
            if next.utf16.count > maxUnits { break }
            out = next
        }
        return out
    }

    private func poolIO(_ pool: KVPPool, _ what: String,
                        _ body: (PoolFile) throws -> KVPResponse) -> KVPResponse {
        do {
            return try body(try store.file(pool))
        } catch {
            log("KVP \(what) pool \(pool): \(error)")
            return .status(.fail)
        }
    }

    // MARK: - IP info

    private func getIPInfo(adapterID: String) -> KVPResponse {
        guard let info = ipInfo?.ipInfo(adapterID: adapterID) else { return .status(.fail) }
        return .ipInfo(IPInfoFormat.reply(adapterID: adapterID, info: info))
    }

    private func setIPInfo(adapterID: String) -> KVPResponse {
        guard let source = ipInfo, source.interfaceName(forAdapterGUID: adapterID) != nil else {
            return .status(.guidNotFound)
        }
        log("KVP SET_IP_INFO for \(adapterID) answered HV_E_FAIL: IP injection is off ([kvp] ip_injection)")
        return .status(.fail)
    }
}
