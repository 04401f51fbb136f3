import XCTest
@testable import KVPAgent

/// Builds kernel→daemon messages like drivers/hv/hv_kvp.c kvp_send_key().
enum Msg {
    static func base(_ op: UInt8, _ pool: UInt8) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: KernelMessage.size)
        m[0] = op
        m[1] = pool
        return m
    }
    static func put32(_ m: inout [UInt8], _ off: Int, _ v: UInt32) {
        for i in 0..<4 { m[off + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }
    static func put(_ m: inout [UInt8], _ off: Int, _ d: [UInt8]) {
        m.replaceSubrange(off..<(off + d.count), with: d)
    }
    static func set(_ pool: UInt8, _ key: String, _ value: String, keySize: UInt32? = nil, valueSize: UInt32? = nil) -> [UInt8] {
        var m = base(1, pool)
        put(&m, 16, Array(key.utf8))
        put(&m, 528, Array(value.utf8))
        put32(&m, 8, keySize ?? UInt32(key.utf8.count + 1))
        put32(&m, 12, valueSize ?? UInt32(value.utf8.count + 1))
        return m
    }
    static func get(_ pool: UInt8, _ key: String, keySize: UInt32? = nil) -> [UInt8] {
        var m = base(0, pool)
        put(&m, 16, Array(key.utf8))
        put32(&m, 8, keySize ?? UInt32(key.utf8.count + 1))
        return m
    }
    static func delete(_ pool: UInt8, _ key: String, keySize: UInt32? = nil) -> [UInt8] {
        var m = base(2, pool)
        put(&m, 8, Array(key.utf8))
        put32(&m, 4, keySize ?? UInt32(key.utf8.count + 1))
        return m
    }
    static func enumerate(_ pool: UInt8, _ index: UInt32) -> [UInt8] {
        var m = base(3, pool)
        put32(&m, 4, index)
        return m
    }
    static func status(_ m: [UInt8]) -> UInt32 {
        UInt32(m[0]) | UInt32(m[1]) << 8 | UInt32(m[2]) << 16 | UInt32(m[3]) << 24
    }
    static func cstr(_ m: [UInt8], _ off: Int, _ len: Int) -> String {
        String(decoding: m[off..<(off + len)].prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}

final class KernelMessageTests: XCTestCase {
    func decode(_ m: [UInt8]) -> Result<KVPRequest, KVPStatusError>? { KernelMessage(bytes: m)?.request() }

    func testDecodesKernelFaithfulRequests() {
        XCTAssertEqual(decode(Msg.set(1, "K", "V")), .success(.set(pool: 1, key: [75], value: [86])))
        XCTAssertEqual(decode(Msg.get(0, "HostName")), .success(.get(pool: 0, key: Array("HostName".utf8))))
        XCTAssertEqual(decode(Msg.delete(3, "X")), .success(.delete(pool: 3, key: [88])))
        XCTAssertEqual(decode(Msg.enumerate(2, 0xFFFF_FFFF)), .success(.enumerate(pool: 2, index: 0xFFFF_FFFF)))
        XCTAssertEqual(decode(Msg.base(6, 0)), .success(.unsupported(operation: 6)))
        XCTAssertEqual(decode(Msg.base(100, 0)), .success(.unsupported(operation: 100)))
        XCTAssertNil(KernelMessage(bytes: [UInt8](repeating: 0, count: 100)))
    }

    func testRejectsMalformedSizes() {
        let cont = Result<KVPRequest, KVPStatusError>.failure(KVPStatusError(.noMoreItems))
        XCTAssertEqual(decode(Msg.set(0, "K", "V", keySize: 0)), cont)
        XCTAssertEqual(decode(Msg.set(0, "K", "V", keySize: 513)), cont)
        XCTAssertEqual(decode(Msg.set(0, "K", "V", valueSize: 2049)), cont)
        XCTAssertEqual(decode(Msg.set(0, "K", "V", valueSize: 0xFFFF_FFFF)), cont)
        XCTAssertEqual(decode(Msg.delete(1, "x", keySize: 0xFFFF_FFFF)), cont)
        XCTAssertEqual(decode(Msg.set(0, String(repeating: "L", count: 512), "v", keySize: 512)), cont)
        XCTAssertEqual(decode(Msg.set(0, "K", String(repeating: "W", count: 2048), valueSize: 2048)), cont)
        // value_size 0 is an empty value (B12); a key without NUL inside its size is taken as is.
        XCTAssertEqual(decode(Msg.set(0, "K", "V", valueSize: 0)), .success(.set(pool: 0, key: [75], value: [])))
        XCTAssertEqual(decode(Msg.get(0, "Host", keySize: 4)), .success(.get(pool: 0, key: Array("Host".utf8))))
    }

    func testEncodesRepliesInPlaceWithoutStaleBytes() {
        var m = KernelMessage(bytes: Msg.enumerate(0, 0))!
        m.encodeReply(.record(key: Array("Key".utf8), value: Array("Value".utf8)), for: .enumerate(pool: 0, index: 0))
        XCTAssertEqual(Msg.status(m.bytes), 0)
        XCTAssertEqual(Msg.cstr(m.bytes, 20, 512), "Key")
        XCTAssertEqual(Msg.cstr(m.bytes, 532, 2048), "Value")
        XCTAssertTrue(m.bytes[537..<KernelMessage.size].allSatisfy { $0 == 0 })

        var g = KernelMessage(bytes: Msg.get(0, "HostName"))!
        g.encodeReply(.record(key: Array("HostName".utf8), value: Array("v2".utf8)), for: .get(pool: 0, key: []))
        XCTAssertEqual(Msg.cstr(g.bytes, 528, 2048), "v2")
        XCTAssertEqual(Msg.cstr(g.bytes, 16, 512), "HostName")

        var f = KernelMessage(bytes: Msg.set(1, "K", "V"))!
        f.encodeReply(.status(.noMoreItems), for: nil)
        XCTAssertEqual(Msg.status(f.bytes), 0x8007_0103)
        XCTAssertEqual(Array(f.bytes[4...]), Array(Msg.set(1, "K", "V")[4...]))
    }

    func testEncodesIPInfo() {
        var m = Msg.base(4, 0)
        Msg.put(&m, 4, Array("02:FC:00:00:00:01".utf8))
        var k = KernelMessage(bytes: m)!
        let r = IPInfoReply(adapterID: "02:FC:00:00:00:01", addressFamily: 3, dhcpEnabled: true,
                            ipAddresses: "192.0.2.2;fd00::2", subnets: "255.255.255.0;/64",
                            gateways: "192.0.2.1;", dnsServers: "10.0.0.53;")
        k.encodeReply(.ipInfo(r), for: .getIPInfo(adapterID: r.adapterID))
        XCTAssertEqual(Msg.cstr(k.bytes, 4, 256), "02:FC:00:00:00:01")
        XCTAssertEqual(k.bytes[260], 3)
        XCTAssertEqual(k.bytes[261], 1)
        XCTAssertEqual(Msg.cstr(k.bytes, 262, 2048), "192.0.2.2;fd00::2")
        XCTAssertEqual(Msg.cstr(k.bytes, 2310, 2048), "255.255.255.0;/64")
        XCTAssertEqual(Msg.cstr(k.bytes, 4358, 1024), "192.0.2.1;")
        XCTAssertEqual(Msg.cstr(k.bytes, 5382, 2048), "10.0.0.53;")
    }
}
