import TestSupport
import XCTest
@testable import KVPAgent
import KVPStore

/// Host-side KVP bodies, built like openvmm/Hyper-V builds them (zeroed,
/// UTF-16LE, sizes in bytes including the NUL).
enum Host {
    static func utf16(_ s: String) -> [UInt8] { s.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }
    static func units(_ u: [UInt16]) -> [UInt8] { u.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }
    static func body(_ op: UInt8, _ pool: UInt8, size: Int = HostMessage.minimumSize) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: size)
        m[0] = op
        m[1] = pool
        return m
    }
    static func set(_ pool: UInt8, key: [UInt8], keySize: UInt32? = nil, value: [UInt8], type: UInt32 = 1,
                    valueSize: UInt32? = nil) -> [UInt8] {
        var m = body(1, pool)
        Msg.put32(&m, 4, type)
        Msg.put32(&m, 8, keySize ?? UInt32(key.count + 2))
        Msg.put32(&m, 12, valueSize ?? UInt32(value.count + 2))
        Msg.put(&m, 16, key)
        Msg.put(&m, 528, value)
        return m
    }
    static func u32(_ m: [UInt8], _ off: Int) -> UInt32 {
        UInt32(m[off]) | UInt32(m[off + 1]) << 8 | UInt32(m[off + 2]) << 16 | UInt32(m[off + 3]) << 24
    }
    /// UTF-16 field up to its NUL unit, as a String.
    static func string(_ m: [UInt8], _ off: Int, _ len: Int) -> String {
        var u: [UInt16] = []
        var i = off
        while i + 1 < off + len {
            let v = UInt16(m[i]) | UInt16(m[i + 1]) << 8
            if v == 0 { break }
            u.append(v)
            i += 2
        }
        return String(decoding: u, as: UTF16.self)
    }
}

final class HostMessageTests: XCTestCase {
    func req(_ m: [UInt8]) -> KVPRequest? { HostMessage(bytes: m)?.request() }
    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testDecodesSetLikeTheKernel() {
        XCTAssertEqual(req(Host.set(0, key: Host.utf16("HostName"), value: Host.utf16("vm"))),
                       .set(pool: 0, key: b("HostName"), value: b("vm")))
        // REG_U32 / REG_U64 become unsigned decimal; EXPAND_SZ / QWORD the empty string (B12)
        XCTAssertEqual(req(Host.set(1, key: Host.utf16("U"), value: [0xFF, 0xFF, 0xFF, 0xFF], type: 4, valueSize: 4)),
                       .set(pool: 1, key: b("U"), value: b("4294967295")))
        XCTAssertEqual(req(Host.set(1, key: Host.utf16("Q"), value: [UInt8](repeating: 0xFF, count: 8), type: 8, valueSize: 8)),
                       .set(pool: 1, key: b("Q"), value: b("18446744073709551615")))
        XCTAssertEqual(req(Host.set(1, key: Host.utf16("E"), value: Host.utf16("%PATH%"), type: 2)),
                       .set(pool: 1, key: b("E"), value: []))
    }

    /// Caps at 511 / 2047 bytes on a character boundary (values from the
    /// shared emulator's kernel_utf16_to_utf8 for the same input).
    func testTruncatesOnCharacterBoundaries() {
        let value = String(repeating: "中", count: 1023)
        guard case let .set(_, _, v)? = req(Host.set(0, key: Host.utf16("K"), value: Host.utf16(value))) else {
            return XCTFail("expected SET")
        }
        XCTAssertEqual(v.count, 2046)  // 682 characters of 3 bytes; a 683rd would exceed 2047
        let key = String(repeating: "é", count: 255)
        guard case let .set(_, k, _)? = req(Host.set(0, key: Host.utf16(key), value: Host.utf16("v"))) else {
            return XCTFail("expected SET")
        }
        XCTAssertEqual(k.count, 510)
    }

    func testSurrogatesAndMissingNUL() {
        let emoji = Host.utf16("a😀b")
        XCTAssertEqual(req(Host.set(0, key: emoji, value: [])), .set(pool: 0, key: b("a😀b"), value: []))
        // lone high surrogate followed by 'A', lone low surrogate: both dropped
        XCTAssertEqual(req(Host.set(0, key: Host.units([0xD800, 0x41, 0xDC00, 0x42]), value: [])),
                       .set(pool: 0, key: b("AB"), value: []))
        // a key field without NUL and a huge key_size: read to the end of the field only
        let full = Host.units([UInt16](repeating: 0x41, count: 256))
        XCTAssertEqual(req(Host.set(0, key: full, keySize: 0xFFFF_FFFF, value: Host.utf16("v"))),
                       .set(pool: 0, key: [UInt8](repeating: 0x41, count: 256), value: b("v")))
        XCTAssertNil(HostMessage(bytes: [1, 0, 0]))
        XCTAssertNil(HostMessage(bytes: Host.body(4, 0, size: 3000)))
    }

    func testEncodesEnumerateWithKernelCaps() {
        var m = HostMessage(bytes: Host.body(3, 1))!
        let value = String(repeating: "a", count: 1021) + "😀"
        let status = m.encodeReply(.record(key: b(String(repeating: "k", count: 300)), value: b(value)),
                                   for: .enumerate(pool: 1, index: 0))
        XCTAssertEqual(status, .ok)
        XCTAssertEqual(Host.u32(m.bytes, 8), 1)                      // REG_SZ
        XCTAssertEqual(Host.u32(m.bytes, 12), 2 * (254 + 1))          // key_size
        XCTAssertEqual(Host.string(m.bytes, 20, 512), String(repeating: "k", count: 254))
        XCTAssertEqual(Host.u32(m.bytes, 16), 2 * (1021 + 1))         // the pair does not fit in 1022
        XCTAssertEqual(Host.string(m.bytes, 532, 2048), String(repeating: "a", count: 1021))
        XCTAssertEqual(m.encodeReply(.record(key: [0xFF], value: []), for: .enumerate(pool: 1, index: 0)), .fail)
        XCTAssertEqual(m.encodeReply(.status(.noMoreItems), for: .enumerate(pool: 1, index: 9)), .noMoreItems)
    }

    /// SET from the host, then ENUMERATE and GET back through the engine.
    func testRoundTripThroughEngine() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true))
        let text = "Schlüssel 键 😀"
        var set = HostMessage(bytes: Host.set(0, key: Host.utf16(text), value: Host.utf16("wert")))!
        let r = set.request()
        XCTAssertEqual(set.encodeReply(engine.handle(r), for: r), .ok)
        XCTAssertEqual(dir.bytes(".kvp_pool_0"), rawRecord(text, "wert"))
        var e = HostMessage(bytes: Host.body(3, 0))!
        let er = e.request()
        XCTAssertEqual(e.encodeReply(engine.handle(er), for: er), .ok)
        XCTAssertEqual(Host.string(e.bytes, 20, 512), text)
        XCTAssertEqual(Host.string(e.bytes, 532, 2048), "wert")
        var g = HostMessage(bytes: Host.set(0, key: Host.utf16(text), value: []))!
        g = HostMessage(bytes: { var x = g.bytes; x[0] = 0; return x }())!
        let gr = g.request()
        XCTAssertEqual(g.encodeReply(engine.handle(gr), for: gr), .ok)
        XCTAssertEqual(Host.string(g.bytes, 528, 2048), "wert")
        XCTAssertEqual(Host.u32(g.bytes, 12), 10)
    }

    func testEncodesIPInfo() {
        var body = Host.body(4, 1, size: HostMessage.ipMessageSize)
        Msg.put(&body, 2, Host.utf16("02:FC:00:00:00:01"))
        var m = HostMessage(bytes: body)!
        XCTAssertEqual(m.request(), .getIPInfo(adapterID: "02:FC:00:00:00:01"))
        let info = IPInfoReply(adapterID: "02:FC:00:00:00:01", addressFamily: 3, dhcpEnabled: true,
                               ipAddresses: "192.0.2.2;fd00::2", subnets: "255.255.255.0;/64",
                               gateways: "192.0.2.1;", dnsServers: "10.0.0.53;")
        XCTAssertEqual(m.encodeReply(.ipInfo(info), for: .getIPInfo(adapterID: info.adapterID)), .ok)
        XCTAssertEqual(Host.string(m.bytes, 2, 256), "02:FC:00:00:00:01")
        XCTAssertEqual(m.bytes[258], 3)
        XCTAssertEqual(m.bytes[259], 1)
        XCTAssertEqual(Host.string(m.bytes, 260, 2048), "192.0.2.2;fd00::2")
        XCTAssertEqual(Host.string(m.bytes, 2308, 2048), "255.255.255.0;/64")
        XCTAssertEqual(Host.string(m.bytes, 4356, 1024), "192.0.2.1;")
        XCTAssertEqual(Host.string(m.bytes, 5380, 2048), "10.0.0.53;")
    }
}
