import HVProtocol
import IPInjection
/// `struct hv_kvp_msg`: the 7432-byte message exchanged with the kernel over
/// /dev/vmbus/hv_kvp (docs/PROTOCOL.md §7.10; include/uapi/linux/hyperv.h).
///
/// The body union is padded from 7426 to 7428 bytes (alignment 4), so the
/// message is 7432 bytes on every Linux architecture.  All integers are
/// little-endian.  Text fields are UTF-8, NUL-terminated, using the raw byte
/// capacity of the field.  Every offset below is absolute.
public struct KernelMessage: Equatable, Sendable {
    /// sizeof(struct hv_kvp_msg).
    public static let size = 7432

    /// error (s32): overlays the header in replies.
    static let errorOffset = 0

    // Header, SET/GET, DELETE and ENUMERATE offsets: KVPMessageLayout.

    // kvp_ip_val: struct hv_kvp_ipaddr_value, UTF-8 in this direction.
    /// adapter_id[256]: MAC (GET) or GUID (SET) text.
    static let ipAdapterOffset = 4
    static let ipAdapterSize = 256
    /// addr_family (u8): bit 0 IPv4, bit 1 IPv6.
    static let ipFamilyOffset = 260
    /// dhcp_enabled (u8).
    static let ipDHCPOffset = 261
    /// ip_addr[2048].
    static let ipAddressOffset = 262
    /// sub_net[2048].
    static let ipSubnetOffset = 2310
    /// gate_way[1024].
    static let ipGatewayOffset = 4358
    /// dns_addr[2048].
    static let ipDNSOffset = 5382
    /// End of kvp_ip_val.
    static let ipEnd = 7430

    // kvp_register.
    /// version[512]: "3.1" from the kernel.
    static let registerVersionOffset = 4
    static let registerVersionSize = 512

    /// The raw bytes; always exactly `size` long.
    public private(set) var bytes: [UInt8]

    /// Wraps a message read from the device; nil unless exactly 7432 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.size else { return nil }
        self.bytes = bytes
    }

    /// A zero-filled message with `operation` (e.g. the registration).
    public init(operation: UInt8) {
        bytes = [UInt8](repeating: 0, count: Self.size)
        bytes[KVPMessageLayout.operationOffset] = operation
    }

    public var operation: UInt8 { bytes[KVPMessageLayout.operationOffset] }
    public var pool: UInt8 { bytes[KVPMessageLayout.poolOffset] }

    /// The registration reply's version text (the kernel sends "3.1").
    public var registrationVersion: String {
        let field = bytes[Self.registerVersionOffset..<(Self.registerVersionOffset + Self.registerVersionSize)]
        let text = Array(field.prefix(while: { $0 != 0 }))
        return String(decoding: UTF8Repair.repaired(text, maxBytes: 64), as: UTF8.self)
    }

    // MARK: - Request decoding

    /// The request this message carries, or the status to answer when its
    /// size fields are invalid (hv_kvp_daemon answers HV_S_CONT to
    /// oversized fields; we do the same for every malformed key or value).
    public func request() -> Result<KVPRequest, KVPStatusError> {
        let pool = self.pool
        switch KVPOperation(rawValue: operation) {
        case .set:
            guard let key = field(KVPMessageLayout.setKeyOffset, 512, size: u32(KVPMessageLayout.setKeySizeOffset), allowEmptySize: false),
                  let value = field(KVPMessageLayout.setValueOffset, 2048, size: u32(KVPMessageLayout.setValueSizeOffset), allowEmptySize: true)
            else { return .failure(KVPStatusError(.noMoreItems)) }
            return .success(.set(pool: pool, key: key, value: value))
        case .get:
            // value_size is ignored: the kernel always sends 0 (bug B1).
            guard let key = field(KVPMessageLayout.setKeyOffset, 512, size: u32(KVPMessageLayout.setKeySizeOffset), allowEmptySize: false)
            else { return .failure(KVPStatusError(.noMoreItems)) }
            return .success(.get(pool: pool, key: key))
        case .delete:
            guard let key = field(KVPMessageLayout.deleteKeyOffset, 512, size: u32(KVPMessageLayout.deleteKeySizeOffset), allowEmptySize: false)
            else { return .failure(KVPStatusError(.noMoreItems)) }
            return .success(.delete(pool: pool, key: key))
        case .enumerate:
            return .success(.enumerate(pool: pool, index: u32(KVPMessageLayout.enumIndexOffset)))
        case .getIPInfo:
            return .success(.getIPInfo(adapterID: adapterID))
        case .setIPInfo:
            return .success(.setIPInfo(ipSettings))
        case nil:
            return .success(.unsupported(operation: operation))
        }
    }

    /// Bytes of a key/value field as delimited by its size field: at most
    /// `size` bytes, cut at the first NUL.  nil when the size exceeds the
    /// field, is 0 where a NUL is required, or when a full field has no NUL
    /// (the kernel never sends that; it would not be a C string).
    private func field(_ offset: Int, _ capacity: Int, size: UInt32, allowEmptySize: Bool) -> [UInt8]? {
        if size == 0 { return allowEmptySize ? [] : nil }
        guard size <= UInt32(capacity) else { return nil }
        let raw = bytes[offset..<(offset + Int(size))]
        if let nul = raw.firstIndex(of: 0) { return Array(raw[..<nul]) }
        return Int(size) < capacity ? Array(raw) : nil
    }

    /// SET_IP_INFO's fields as hv_utils filled them (`process_ib_ipinfo()`: at most 1024 bytes of
    /// UTF-8 per list, 512 for gateways, in zeroed fields): each up to its first NUL, never past
    /// its field, invalid UTF-8 repaired.
    private var ipSettings: HostIPSettings {
        func text(_ offset: Int, _ size: Int) -> String {
            let raw = Array(bytes[offset..<(offset + size)].prefix(while: { $0 != 0 }))
            return String(decoding: UTF8Repair.repaired(raw, maxBytes: size - 1), as: UTF8.self)
        }
        return HostIPSettings(adapterID: adapterID, addressFamily: bytes[Self.ipFamilyOffset],
                              dhcpEnabled: bytes[Self.ipDHCPOffset] != 0,
                              addresses: text(Self.ipAddressOffset, Self.ipSubnetOffset - Self.ipAddressOffset),
                              subnets: text(Self.ipSubnetOffset, Self.ipGatewayOffset - Self.ipSubnetOffset),
                              gateways: text(Self.ipGatewayOffset, Self.ipDNSOffset - Self.ipGatewayOffset),
                              dnsServers: text(Self.ipDNSOffset, Self.ipEnd - Self.ipDNSOffset))
    }

    private var adapterID: String {
        let raw = bytes[Self.ipAdapterOffset..<(Self.ipAdapterOffset + Self.ipAdapterSize)]
        return String(decoding: UTF8Repair.repaired(Array(raw.prefix(while: { $0 != 0 })), maxBytes: 255),
                      as: UTF8.self)
    }

    private func u32(_ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    // MARK: - Reply encoding

    /// Writes `response` into this message in place, as hv_kvp_daemon does:
    /// status in bytes 0–3, result fields at their offsets, everything else
    /// as received.  Result fields are zero-filled first, so no byte of an
    /// earlier value can leak.
    public mutating func encodeReply(_ response: KVPResponse, for request: KVPRequest?) {
        switch response {
        case .status:
            break
        case let .record(key, value):
            if case .get = request {
                put(value, at: KVPMessageLayout.setValueOffset, capacity: 2048)
            } else {
                put(key, at: KVPMessageLayout.enumKeyOffset, capacity: 512)
                put(value, at: KVPMessageLayout.enumValueOffset, capacity: 2048)
            }
        case let .ipInfo(info):
            for i in Self.ipFamilyOffset..<Self.ipEnd { bytes[i] = 0 }
            bytes[Self.ipFamilyOffset] = info.addressFamily
            bytes[Self.ipDHCPOffset] = info.dhcpEnabled ? 1 : 0
            put(Array(info.ipAddresses.utf8), at: Self.ipAddressOffset, capacity: 2048)
            put(Array(info.subnets.utf8), at: Self.ipSubnetOffset, capacity: 2048)
            put(Array(info.gateways.utf8), at: Self.ipGatewayOffset, capacity: 1024)
            put(Array(info.dnsServers.utf8), at: Self.ipDNSOffset, capacity: 2048)
        }
        let s = response.status.rawValue
        bytes[0] = UInt8(s & 0xFF)
        bytes[1] = UInt8((s >> 8) & 0xFF)
        bytes[2] = UInt8((s >> 16) & 0xFF)
        bytes[3] = UInt8(s >> 24)
    }

    /// Zero-fills the field, then copies at most capacity-1 bytes (NUL kept).
    private mutating func put(_ data: [UInt8], at offset: Int, capacity: Int) {
        for i in offset..<(offset + capacity) { bytes[i] = 0 }
        let n = min(data.count, capacity - 1)
        bytes.replaceSubrange(offset..<(offset + n), with: data[..<n])
    }
}

/// A request that is answered with a status without reaching the engine.
public struct KVPStatusError: Error, Equatable, Sendable {
    public var status: HResult
    public init(_ status: HResult) { self.status = status }
}
