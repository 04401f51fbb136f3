import HVProtocol

/// One key/value pair as the host reads it.
public struct KVPHostRecord: Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
    public var description: String { "\(key) = \(value)" }
}

/// A GET_IP_INFO answer as the host reads it (string form, message versions up to 4.0).
public struct KVPHostIPInfo: Hashable, Sendable {
    public var adapterID: String
    /// Bit 0 IPv4, bit 1 IPv6.
    public var addressFamily: UInt8
    public var dhcpEnabled: Bool
    public var ipAddresses: String
    public var subnets: String
    public var gateways: String
    public var dnsServers: String

    public init(adapterID: String, addressFamily: UInt8, dhcpEnabled: Bool, ipAddresses: String, subnets: String,
                gateways: String, dnsServers: String) {
        self.adapterID = adapterID
        self.addressFamily = addressFamily
        self.dhcpEnabled = dhcpEnabled
        self.ipAddresses = ipAddresses
        self.subnets = subnets
        self.gateways = gateways
        self.dnsServers = dnsServers
    }
}

/// Errors of the host's KVP API.
public enum KVPHostError: Error, Hashable, Sendable {
    /// A key or value longer than the wire field (key 255, value 1023 UTF-16 units plus NUL).
    case tooLong(String)
    /// The guest did not answer in time.
    case noReply(String)
    /// The guest answered with a body too short for the operation.
    case shortReply(Int)
}

/// Host side of KVP (Data Exchange) as Hyper-V / openvmm builds its messages: zero-filled
/// bodies, UTF-16LE strings with sizes in bytes including the NUL (docs/PROTOCOL.md §7.2-§7.4; Linux
/// `struct hv_kvp_msg` in include/uapi/linux/hyperv.h). Written from those tables with offsets of its
/// own, independently of the guest's `HostMessage` and of `KVPMessageLayout`, so tests catch a layout
/// error on either side.
public enum KVPHostLogic {
    /// Operation codes (M+0).
    public enum Operation: UInt8, Sendable {
        case get = 0, set = 1, delete = 2, enumerate = 3, getIPInfo = 4, setIPInfo = 5
    }

    /// Non-IP bodies: header 2 + pad 2 + exchg_msg_value 2572 + enumerate index 4.
    public static let bodySize = 2580
    /// hv_kvp_ip_msg: header 2 + 7426.
    public static let ipBodySize = 7428
    /// REG_SZ, the only type Windows hosts send for pool data.
    static let regSZ: UInt32 = 1

    // MARK: Requests

    /// SET: value_type M+4, key_size M+8, value_size M+12, key M+16 (512), value M+528 (2048).
    public static func setBody(pool: UInt8, key: String, value: String) throws(KVPHostError) -> [UInt8] {
        var m = header(.set, pool: pool, size: bodySize)
        try putExchange(&m, at: 4, key: key, value: value)
        return m
    }

    /// GET: as SET with an empty value field (value_size 0).
    public static func getBody(pool: UInt8, key: String) throws(KVPHostError) -> [UInt8] {
        var m = header(.get, pool: pool, size: bodySize)
        try putExchange(&m, at: 4, key: key, value: nil)
        return m
    }

    /// DELETE: key_size M+4, key M+8.
    public static func deleteBody(pool: UInt8, key: String) throws(KVPHostError) -> [UInt8] {
        var m = header(.delete, pool: pool, size: bodySize)
        let k = try utf16(key, maxUnits: 255, what: "key")
        store32(UInt32(k.count + 2), &m, at: 4)
        m.replaceSubrange(8..<(8 + k.count), with: k)
        return m
    }

    /// ENUMERATE: index M+4; the rest is the guest's to fill.
    public static func enumerateBody(pool: UInt8, index: UInt32) -> [UInt8] {
        var m = header(.enumerate, pool: pool, size: bodySize)
        store32(index, &m, at: 4)
        return m
    }

    /// GET_IP_INFO: 2-byte header (pool 1 as openvmm sends), adapter_id (the MAC) at M+2.
    public static func getIPInfoBody(mac: String) throws(KVPHostError) -> [UInt8] {
        var m = header(.getIPInfo, pool: 1, size: ipBodySize)
        let id = try utf16(mac, maxUnits: 127, what: "adapter id")
        m.replaceSubrange(2..<(2 + id.count), with: id)
        return m
    }

    /// SET_IP_INFO (hv_kvp_ip_msg, string form): adapter_id (the NIC's VMBus instance GUID, as
    /// Hyper-V sends it braced and lower-case) M+2 (128 units), addr_family M+258, dhcp_enabled
    /// M+259, ip_addr M+260 and sub_net M+2308 (1024 units each), gate_way M+4356 (512 units),
    /// dns_addr M+5380 (1024 units); each NUL-terminated.
    public static func setIPInfoBody(_ info: KVPHostIPInfo) throws(KVPHostError) -> [UInt8] {
        var m = header(.setIPInfo, pool: 0, size: ipBodySize)
        m[258] = info.addressFamily
        m[259] = info.dhcpEnabled ? 1 : 0
        for (text, offset, units, what) in [(info.adapterID, 2, 128, "adapter id"), (info.ipAddresses, 260, 1024, "addresses"),
                                            (info.subnets, 2308, 1024, "subnets"), (info.gateways, 4356, 512, "gateways"),
                                            (info.dnsServers, 5380, 1024, "DNS servers")] {
            let field = try utf16(text, maxUnits: units - 1, what: what)
            m.replaceSubrange(offset..<(offset + field.count), with: field)
        }
        return m
    }

    // MARK: Replies

    /// The value of a GET reply: value_size M+12, value M+528.
    public static func getValue(_ body: [UInt8]) throws(KVPHostError) -> String {
        guard body.count >= bodySize else { throw .shortReply(body.count) }
        return string(body, at: 528, fieldBytes: 2048, sizeBytes: load32(body, at: 12))
    }

    /// The record of an ENUMERATE reply: key_size M+12, value_size M+16, key M+20, value M+532.
    public static func enumeratedRecord(_ body: [UInt8]) throws(KVPHostError) -> KVPHostRecord {
        guard body.count >= bodySize else { throw .shortReply(body.count) }
        return KVPHostRecord(key: string(body, at: 20, fieldBytes: 512, sizeBytes: load32(body, at: 12)),
                             value: string(body, at: 532, fieldBytes: 2048, sizeBytes: load32(body, at: 16)))
    }

    /// A GET_IP_INFO reply (docs/PROTOCOL.md §7.4 offsets).
    public static func ipInfo(_ body: [UInt8]) throws(KVPHostError) -> KVPHostIPInfo {
        guard body.count >= ipBodySize else { throw .shortReply(body.count) }
        let unbounded = UInt32.max
        return KVPHostIPInfo(
            adapterID: string(body, at: 2, fieldBytes: 256, sizeBytes: unbounded), addressFamily: body[258],
            dhcpEnabled: body[259] != 0, ipAddresses: string(body, at: 260, fieldBytes: 2048, sizeBytes: unbounded),
            subnets: string(body, at: 2308, fieldBytes: 2048, sizeBytes: unbounded),
            gateways: string(body, at: 4356, fieldBytes: 1024, sizeBytes: unbounded),
            dnsServers: string(body, at: 5380, fieldBytes: 2048, sizeBytes: unbounded))
    }

    /// One line for the exchange log, from the operation echoed in the body.
    static func describe(reply body: [UInt8], status: HResult) -> String {
        guard let code = body.first, let op = Operation(rawValue: code) else { return "operation ?" }
        let pool = body.count > 1 ? body[1] : 0
        guard status == .ok else { return "\(op) pool \(pool): \(status == .noMoreItems ? "no more items" : status.description)" }
        switch op {
        case .enumerate: return (try? enumeratedRecord(body)).map { "pool \(pool): \($0)" } ?? "short reply"
        case .get: return (try? getValue(body)).map { "pool \(pool): value \($0)" } ?? "short reply"
        case .getIPInfo: return (try? ipInfo(body)).map { "\($0.adapterID): \($0.ipAddresses)" } ?? "short reply"
        case .set, .delete, .setIPInfo: return "\(op) pool \(pool) done"
        }
    }

    // MARK: Helpers

    private static func header(_ op: Operation, pool: UInt8, size: Int) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: size)
        m[0] = op.rawValue
        m[1] = pool
        return m
    }

    private static func putExchange(_ m: inout [UInt8], at base: Int, key: String, value: String?) throws(KVPHostError) {
        let k = try utf16(key, maxUnits: 255, what: "key")
        let v = try value.map { v throws(KVPHostError) in try utf16(v, maxUnits: 1023, what: "value") } ?? []
        store32(regSZ, &m, at: base)
        store32(UInt32(k.count + 2), &m, at: base + 4)
        store32(value == nil ? 0 : UInt32(v.count + 2), &m, at: base + 8)
        m.replaceSubrange((base + 12)..<(base + 12 + k.count), with: k)
        m.replaceSubrange((base + 524)..<(base + 524 + v.count), with: v)
    }

    private static func utf16(_ text: String, maxUnits: Int, what: String) throws(KVPHostError) -> [UInt8] {
        guard text.utf16.count <= maxUnits else { throw .tooLong("\(what) of \(text.utf16.count) UTF-16 units") }
        return text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    /// A UTF-16LE field up to its NUL, the declared byte size, or the field's end, whichever first.
    private static func string(_ body: [UInt8], at offset: Int, fieldBytes: Int, sizeBytes: UInt32) -> String {
        let units = Int(min(UInt32(fieldBytes), sizeBytes)) / 2
        var out: [UInt16] = []
        for i in 0..<units {
            let unit = UInt16(body[offset + 2 * i]) | UInt16(body[offset + 2 * i + 1]) << 8
            if unit == 0 { break }
            out.append(unit)
        }
        return String(decoding: out, as: UTF16.self)
    }

    private static func store32(_ v: UInt32, _ m: inout [UInt8], at offset: Int) {
        for i in 0..<4 { m[offset + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }

    private static func load32(_ m: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(m[offset + $1]) << (8 * UInt32($1)) }
    }
}
