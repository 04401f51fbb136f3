import ICFramework
import KVPStore
import TestSupport
import XCTest
@testable import KVPAgent
import HVProtocol

/// Byte-level tests of the KVP integration component: every request is laid out by hand from
/// the tables of docs/PROTOCOL.md (§5.1/§5.2, §7.2-§7.4) and every reply is compared
/// byte for byte with the reply the kernel's hv_kvp.c would send.
final class KVPICServiceTests: XCTestCase {
    var dir: TempDir!
    var engine: KVPEngine!
    var endpoint: ICEndpoint<KVPICService>!

    override func setUpWithError() throws {
        dir = TempDir()
        engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true),
                           autoPool: FixedAutoPool(), ipInfo: FixedIPInfo())
        endpoint = ICEndpoint(service: KVPICService(engine: engine))
    }

    // MARK: Wire helpers (docs/PROTOCOL.md tables, independent of the code under test)

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }
    static func utf16(_ s: String) -> [UInt8] { s.utf16.flatMap(le16) }

    /// Pipe header (flags 1 = DATA, msgsize) + IC header (framework, type, version, icmsgsize,
    /// status 0, transaction id, flags TRANSACTION|REQUEST, reserved) + body.
    static func packet(type: UInt16, framework: (UInt16, UInt16) = (3, 0), version: (UInt16, UInt16) = (4, 0),
                       body: [UInt8]) -> [UInt8] {
        le32(1) + le32(UInt32(20 + body.count))
            + le16(framework.0) + le16(framework.1) + le16(type) + le16(version.0) + le16(version.1)
            + le16(UInt16(body.count)) + le32(0) + [0, 0x03, 0, 0] + body
    }

    /// The kernel's reply to `request`: the same bytes with status and flags TRANSACTION|RESPONSE.
    static func reply(to request: [UInt8], status: UInt32) -> [UInt8] {
        var r = request
        r.replaceSubrange(20..<24, with: le32(status))
        r[25] = 0x05
        return r
    }

    static func put(_ bytes: [UInt8], into packet: inout [UInt8], atBody offset: Int) {
        packet.replaceSubrange((28 + offset)..<(28 + offset + bytes.count), with: bytes)
    }

    /// A zero-filled 2580-byte body (openvmm builds requests zeroed) with operation and pool.
    static func body(op: UInt8, pool: UInt8, size: Int = 2580) -> [UInt8] {
        var m = [UInt8](repeating: 0, count: size)
        m[0] = op
        m[1] = pool
        return m
    }

    /// SET / GET body: value_type M+4, key_size M+8, value_size M+12, key M+16, value M+528.
    static func exchangeBody(op: UInt8, pool: UInt8, key: String, value: String?) -> [UInt8] {
        var m = body(op: op, pool: pool)
        let k = utf16(key), v = value.map(utf16) ?? []
        m.replaceSubrange(4..<8, with: le32(1))
        m.replaceSubrange(8..<12, with: le32(UInt32(k.count + 2)))
        m.replaceSubrange(12..<16, with: le32(value == nil ? 0 : UInt32(v.count + 2)))
        m.replaceSubrange(16..<(16 + k.count), with: k)
        m.replaceSubrange(528..<(528 + v.count), with: v)
        return m
    }

    func send(_ packet: [UInt8]) -> [UInt8]? { endpoint.process(packet).reply }

    func negotiate() {
        XCTAssertNotNil(send(Self.packet(type: 0, framework: (0, 0), version: (0, 0),
                                         body: Self.le16(2) + Self.le16(3) + Self.le32(0)
                                             + [1, 0, 3, 0].flatMap(Self.le16) + [3, 0, 4, 0, 5, 0].flatMap(Self.le16))))
    }

    // MARK: Negotiation

    /// openvmm's host lists (framework 1.0, 3.0; KVP 3.0, 4.0, 5.0): Linux answers 3.0 / 4.0 in place,
    /// icmsgsize 0x10, the rest of the host's list left as received, the whole length sent back.
    func testNegotiationPicksFramework3AndKVP4LikeLinux() {
        let versions = [1, 0, 3, 0, 3, 0, 4, 0, 5, 0].flatMap { Self.le16(UInt16($0)) }
        let request = Self.packet(type: 0, framework: (0, 0), version: (0, 0),
                                  body: Self.le16(2) + Self.le16(3) + Self.le32(0) + versions)
        var expected = Self.reply(to: request, status: 0)
        expected.replaceSubrange(18..<20, with: Self.le16(0x10))
        Self.put(Self.le16(1) + Self.le16(1), into: &expected, atBody: 0)
        Self.put([3, 0, 0, 0, 4, 0, 0, 0].map(UInt8.init), into: &expected, atBody: 8)
        XCTAssertEqual(send(request), expected)
        XCTAssertEqual(endpoint.negotiated, NegotiatedVersions(framework: ICVersion(3, 0), service: ICVersion(4, 0)))
        XCTAssertEqual(endpoint.service.serviceVersions, [ICVersion(4, 0), ICVersion(3, 0), ICVersion(1, 0)])
        XCTAssertEqual(endpoint.service.frameworkVersions, [ICVersion(3, 0), ICVersion(1, 0)])
    }

    /// A v5-only host: no match, counts 0/0, version[0] = chosen framework, version[1] = {M, 0}.
    func testNegotiationWithoutCommonKVPVersion() {
        let request = Self.packet(type: 0, framework: (0, 0), version: (0, 0),
                                  body: Self.le16(1) + Self.le16(1) + Self.le32(0) + [3, 0, 5, 0].flatMap(Self.le16))
        var expected = Self.reply(to: request, status: 0)
        expected.replaceSubrange(18..<20, with: Self.le16(0x10))
        Self.put(Self.le16(0) + Self.le16(0) + Self.le32(0) + [3, 0, 1, 0].flatMap(Self.le16), into: &expected, atBody: 0)
        XCTAssertEqual(send(request), expected)
        XCTAssertNil(endpoint.negotiated)
    }

    // MARK: Operations

    /// SET into pool 0: status S_OK, body returned untouched (kernel: SET answers status only),
    /// and the pool file holds the record.
    func testSetRepliesStatusOnlyAndStores() throws {
        negotiate()
        let request = Self.packet(type: 2, body: Self.exchangeBody(op: 1, pool: 0, key: "Name", value: "Value1"))
        XCTAssertEqual(request.count, 28 + 2580)
        XCTAssertEqual(send(request), Self.reply(to: request, status: 0))
        XCTAssertEqual(dir.bytes(".kvp_pool_0"), rawRecord("Name", "Value1"))
        XCTAssertEqual(endpoint.service.lastExchange?.status, .ok)
    }

    /// GET: value_type REG_SZ at M+4, value_size 2*(units+1) at M+12, UTF-16 value at M+528.
    func testGetWritesValueInPlace() throws {
        _ = try PoolStore(directory: dir.path, writable: true).file(.external).set(XCTUnwrap(PoolRecord(key: "Name", value: "Wert ü")))
        let request = Self.packet(type: 2, body: Self.exchangeBody(op: 0, pool: 0, key: "Name", value: nil))
        var expected = Self.reply(to: request, status: 0)
        Self.put(Self.le32(1), into: &expected, atBody: 4)
        Self.put(Self.le32(14), into: &expected, atBody: 12)
        Self.put(Self.utf16("Wert ü"), into: &expected, atBody: 528)
        XCTAssertEqual(send(request), expected)
        // A missing key: HV_S_CONT, body untouched.
        let missing = Self.packet(type: 2, body: Self.exchangeBody(op: 0, pool: 0, key: "Nope", value: nil))
        XCTAssertEqual(send(missing), Self.reply(to: missing, status: 0x8007_0103))
    }

    /// DELETE: key_size M+4, key M+8; S_OK, then HV_S_CONT for the second time.
    func testDelete() throws {
        _ = try PoolStore(directory: dir.path, writable: true).file(.external).set(XCTUnwrap(PoolRecord(key: "Gone", value: "x")))
        var body = Self.body(op: 2, pool: 0)
        body.replaceSubrange(4..<8, with: Self.le32(10))
        body.replaceSubrange(8..<16, with: Self.utf16("Gone"))
        let request = Self.packet(type: 2, body: body)
        XCTAssertEqual(send(request), Self.reply(to: request, status: 0))
        XCTAssertEqual(dir.bytes(".kvp_pool_0"), [])
        XCTAssertEqual(send(request), Self.reply(to: request, status: 0x8007_0103))
    }

    /// ENUMERATE of the auto pool: index M+4; reply key M+20 / key_size M+12, value M+532 /
    /// value_size M+16, value_type M+8 = REG_SZ; past the end HV_S_CONT with the body untouched.
    func testEnumerateAutoPool() {
        func enumerate(_ index: UInt32) -> [UInt8] {
            var body = Self.body(op: 3, pool: 2)
            body.replaceSubrange(4..<8, with: Self.le32(index))
            return Self.packet(type: 2, body: body)
        }
        let expectedItems: [(String, String)] = [("FullyQualifiedDomainName", "vm.example.com"),
                                                 ("IntegrationServicesVersion", "3.1"),
                                                 ("NetworkAddressIPv4", "192.0.2.2")]
        for (index, (key, value)) in expectedItems.enumerated() {
            let request = enumerate(UInt32(index))
            var expected = Self.reply(to: request, status: 0)
            Self.put(Self.le32(1), into: &expected, atBody: 8)
            Self.put(Self.le32(UInt32(2 * (key.utf16.count + 1))), into: &expected, atBody: 12)
            Self.put(Self.le32(UInt32(2 * (value.utf16.count + 1))), into: &expected, atBody: 16)
            Self.put(Self.utf16(key), into: &expected, atBody: 20)
            Self.put(Self.utf16(value), into: &expected, atBody: 532)
            XCTAssertEqual(send(request), expected, "index \(index)")
        }
        let end = enumerate(10)
        XCTAssertEqual(send(end), Self.reply(to: end, status: 0x8007_0103))
    }

    /// GET_IP_INFO (7428-byte body, 2-byte header): adapter_id M+2, addr_family M+258,
    /// dhcp_enabled M+259, ip_addr M+260, sub_net M+2308, gate_way M+4356, dns_addr M+5380.
    func testGetIPInfo() {
        var body = Self.body(op: 4, pool: 1, size: 7428)
        body.replaceSubrange(2..<(2 + 34), with: Self.utf16("02:FC:00:00:00:01"))
        let request = Self.packet(type: 2, body: body)
        var expected = Self.reply(to: request, status: 0)
        expected[28 + 258] = 3
        expected[28 + 259] = 1
        Self.put(Self.utf16("192.0.2.2;fd00::2;fe80::fc:ff:fe00:1"), into: &expected, atBody: 260)
        Self.put(Self.utf16("255.255.255.0;/64;/64"), into: &expected, atBody: 2308)
        Self.put(Self.utf16("192.0.2.1;fd00::1;"), into: &expected, atBody: 4356)
        Self.put(Self.utf16("10.255.255.53;"), into: &expected, atBody: 5380)
        XCTAssertEqual(send(request), expected)
        // An unknown MAC: HV_E_FAIL, body untouched.
        var unknown = Self.body(op: 4, pool: 1, size: 7428)
        unknown.replaceSubrange(2..<(2 + 34), with: Self.utf16("00:11:22:33:44:55"))
        let other = Self.packet(type: 2, body: unknown)
        XCTAssertEqual(send(other), Self.reply(to: other, status: 0x8000_4005))
    }

    // MARK: Malformed input

    /// Too short for any KVP operation: dropped and counted. An IP-info operation in a
    /// non-IP-sized body: HV_E_FAIL, body untouched. An unknown IC type: E_FAIL. Never a trap.
    func testShortAndGarbageBodies() {
        XCTAssertNil(send(Self.packet(type: 2, body: [1, 0, 0, 0])))
        XCTAssertEqual(endpoint.counters.dropped, 1)
        let shortIP = Self.packet(type: 2, body: Self.body(op: 4, pool: 0))
        XCTAssertEqual(send(shortIP), Self.reply(to: shortIP, status: 0x8000_4005))
        let unknownType = Self.packet(type: 9, body: Self.body(op: 3, pool: 0))
        XCTAssertEqual(send(unknownType), Self.reply(to: unknownType, status: 0x8000_4005))
        // Unknown operation: ERROR_NOT_SUPPORTED; pool 7: INVALIDARG (hv_kvp_daemon bug B10 fixed).
        let badOp = Self.packet(type: 2, body: Self.body(op: 9, pool: 0))
        XCTAssertEqual(send(badOp), Self.reply(to: badOp, status: 0x8007_0032))
        let badPool = Self.packet(type: 2, body: Self.body(op: 3, pool: 7))
        XCTAssertEqual(send(badPool), Self.reply(to: badPool, status: 0x8007_0057))
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var body = (0..<Int.random(in: 0..<8000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !body.isEmpty { body[0] = UInt8.random(in: 0...6, using: &rng) }
            if body.count > 1 { body[1] = UInt8.random(in: 0...5, using: &rng) }
            if let reply = send(Self.packet(type: 2, body: body)) {
                XCTAssertEqual(reply.count, 28 + body.count)
            }
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where file.hasPrefix(".kvp_pool_") {
            XCTAssertEqual(dir.bytes(file).count % 2560, 0, file)
        }
    }
}
