import HVProtocol
import IPInjection
/// The KVP message body ("M") the Hyper-V host sends over the KVP VMBus
/// channel, after the 28-byte ICMSG header that the IC framework handles
/// (docs/PROTOCOL.md §7.2–§7.4, §7.6, §7.7; include/uapi/linux/hyperv.h).
///
/// This is the ring front end's half of what drivers/hv/hv_kvp.c does:
/// decode the host's UTF-16LE request into a ``KVPRequest`` exactly as
/// `kvp_send_key()` converts it for the daemon, and encode the engine's
/// answer exactly as `kvp_respond_to_host()` does (254 / 1022 unit caps,
/// sizes in bytes including the UTF-16 NUL, value_type REG_SZ), except that
/// GET's value lands at its own offset (the kernel reads it 4 bytes late,
/// bug B1) and every field we fill is zeroed first.  Offsets are relative
/// to M.  Message versions 3.0 and 4.0 share this layout (string IP form).
public struct HostMessage: Equatable, Sendable {
    /// Size of the non-IP bodies: header 2 + pad 2 + exchg_msg_value 2572 (+ enum index 4).
    public static let minimumSize = 2580
    /// hv_kvp_ip_msg: header 2 + hv_kvp_ipaddr_value 7426.
    public static let ipMessageSize = 7428

    // Header, SET/GET, DELETE and ENUMERATE offsets: KVPMessageLayout.

    // IP info: 2-byte header, no pad.
    /// adapter_id: UTF-16LE, 128 units (MAC for GET, GUID for SET).
    static let ipAdapterOffset = 2
    static let ipFamilyOffset = 258
    static let ipDHCPOffset = 259
    static let ipAddressOffset = 260
    static let ipSubnetOffset = 2308
    static let ipGatewayOffset = 4356
    static let ipDNSOffset = 5380

    /// Value types (docs/PROTOCOL.md §7.5).
    static let regSZ: UInt32 = 1
    static let regU32: UInt32 = 4
    static let regU64: UInt32 = 8

    /// The body bytes; the reply is written into them in place.
    public private(set) var bytes: [UInt8]

    /// Wraps a body; nil when it is too short for the operation it names.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= 2 else { return nil }
        let op = KVPOperation(rawValue: bytes[0])
        let needed = (op == .getIPInfo || op == .setIPInfo) ? Self.ipMessageSize : Self.minimumSize
        guard bytes.count >= needed else { return nil }
        self.bytes = bytes
    }

    public var operation: UInt8 { bytes[KVPMessageLayout.operationOffset] }
    public var pool: UInt8 { bytes[KVPMessageLayout.poolOffset] }

    /// The request, converted like `kvp_send_key()`: key to UTF-8 capped at
    /// 511 bytes, REG_SZ value capped at 2047 bytes, REG_U32/REG_U64
    /// rendered as unsigned decimal, other value types as the empty string.
    public func request() -> KVPRequest {
        let pool = self.pool
        switch KVPOperation(rawValue: operation) {
        case .set:
            let key = string(KVPMessageLayout.setKeyOffset, 512, sizeBytes: u32(KVPMessageLayout.setKeySizeOffset), maxBytes: 511)
            return .set(pool: pool, key: key, value: setValue())
        case .get:
            return .get(pool: pool, key: string(KVPMessageLayout.setKeyOffset, 512, sizeBytes: u32(KVPMessageLayout.setKeySizeOffset), maxBytes: 511))
        case .delete:
            return .delete(pool: pool, key: string(KVPMessageLayout.deleteKeyOffset, 512, sizeBytes: u32(KVPMessageLayout.deleteKeySizeOffset), maxBytes: 511))
        case .enumerate:
            return .enumerate(pool: pool, index: u32(KVPMessageLayout.enumIndexOffset))
        case .getIPInfo:
            return .getIPInfo(adapterID: adapterID)
        case .setIPInfo:
            return .setIPInfo(ipSettings)
        case nil:
            return .unsupported(operation: operation)
        }
    }

    private func setValue() -> [UInt8] {
        switch u32(KVPMessageLayout.setValueTypeOffset) {
        case Self.regSZ:
            return string(KVPMessageLayout.setValueOffset, 2048, sizeBytes: u32(KVPMessageLayout.setValueSizeOffset), maxBytes: 2047)
        case Self.regU32:
            return Array(String(u32(KVPMessageLayout.setValueOffset)).utf8)
        case Self.regU64:
            let lo = UInt64(u32(KVPMessageLayout.setValueOffset)), hi = UInt64(u32(KVPMessageLayout.setValueOffset + 4))
            return Array(String(lo | hi << 32).utf8)
        default:
            // EXPAND_SZ (2), QWORD (11), ...: the kernel leaves value_size 0 (B12).
            return []
        }
    }

    /// SET_IP_INFO's fields converted as `process_ib_ipinfo()` does: UTF-16LE to UTF-8, at most
    /// 1024 units and 1024 bytes per list (512 for gateways).
    private var ipSettings: HostIPSettings {
        func text(_ offset: Int, _ units: Int) -> String {
            String(decoding: HostString.utf8(fromUTF16LE: bytes[offset..<(offset + 2 * units)], maxUnits: units, maxBytes: units),
                   as: UTF8.self)
        }
        return HostIPSettings(adapterID: adapterID, addressFamily: bytes[Self.ipFamilyOffset],
                              dhcpEnabled: bytes[Self.ipDHCPOffset] != 0,
                              addresses: text(Self.ipAddressOffset, 1024), subnets: text(Self.ipSubnetOffset, 1024),
                              gateways: text(Self.ipGatewayOffset, 512), dnsServers: text(Self.ipDNSOffset, 1024))
    }

    private var adapterID: String {
        let raw = HostString.utf8(fromUTF16LE: bytes[Self.ipAdapterOffset..<(Self.ipAdapterOffset + 256)],
                                  maxUnits: 128, maxBytes: 128)
        return String(decoding: raw, as: UTF8.self)
    }

    /// A UTF-16 field, as many units as the host's byte count allows (the
    /// NUL normally ends it first), never past the field.
    private func string(_ offset: Int, _ fieldBytes: Int, sizeBytes: UInt32, maxBytes: Int) -> [UInt8] {
        HostString.utf8(fromUTF16LE: bytes[offset..<(offset + fieldBytes)],
                        maxUnits: Int(min(sizeBytes, UInt32(fieldBytes))), maxBytes: maxBytes)
    }

    private func u32(_ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    private mutating func putU32(_ offset: Int, _ v: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }

    // MARK: - Reply

    /// Writes the engine's answer into the body in place and returns the
    /// status for the ICMSG header.  Conversion failures become HV_E_FAIL,
    /// as in the kernel.
    public mutating func encodeReply(_ response: KVPResponse, for request: KVPRequest) -> HResult {
        switch response {
        case let .status(s):
            return s
        case let .record(key, value):
            if case .get = request {
                guard putString(value, at: KVPMessageLayout.setValueOffset, fieldBytes: 2048, maxUnits: 1022,
                                sizeOffset: KVPMessageLayout.setValueSizeOffset) else { return .fail }
                putU32(KVPMessageLayout.setValueTypeOffset, Self.regSZ)
                return .ok
            }
            guard putString(key, at: KVPMessageLayout.enumKeyOffset, fieldBytes: 512, maxUnits: 254,
                            sizeOffset: KVPMessageLayout.enumKeySizeOffset),
                  putString(value, at: KVPMessageLayout.enumValueOffset, fieldBytes: 2048, maxUnits: 1022,
                            sizeOffset: KVPMessageLayout.enumValueSizeOffset) else { return .fail }
            putU32(KVPMessageLayout.enumValueTypeOffset, Self.regSZ)
            return .ok
        case let .ipInfo(info):
            guard bytes.count >= Self.ipMessageSize else { return .fail }
            for i in Self.ipAdapterOffset..<Self.ipMessageSize { bytes[i] = 0 }
            bytes[Self.ipFamilyOffset] = info.addressFamily
            bytes[Self.ipDHCPOffset] = info.dhcpEnabled ? 1 : 0
            let fields: [(String, Int, Int)] = [
                (info.adapterID, Self.ipAdapterOffset, 128), (info.ipAddresses, Self.ipAddressOffset, 1024),
                (info.subnets, Self.ipSubnetOffset, 1024), (info.gateways, Self.ipGatewayOffset, 512),
                (info.dnsServers, Self.ipDNSOffset, 1024),
            ]
            for (text, offset, units) in fields {
                guard putString(Array(text.utf8), at: offset, fieldBytes: units * 2, maxUnits: units,
                                sizeOffset: nil) else { return .fail }
            }
            return .ok
        }
    }

    /// Zero-fills a UTF-16 field and converts `utf8` into it (at most
    /// maxUnits units, leaving room for the NUL); writes the byte size
    /// including the NUL when asked.  False on malformed UTF-8.
    private mutating func putString(_ utf8: [UInt8], at offset: Int, fieldBytes: Int, maxUnits: Int,
                                    sizeOffset: Int?) -> Bool {
        guard let (encoded, units) = HostString.utf16LE(fromUTF8: utf8, maxUnits: min(maxUnits, fieldBytes / 2 - 1))
        else { return false }
        for i in offset..<(offset + fieldBytes) { bytes[i] = 0 }
        bytes.replaceSubrange(offset..<(offset + encoded.count), with: encoded)
        if let s = sizeOffset { putU32(s, UInt32(2 * (units + 1))) }
        return true
    }
}
