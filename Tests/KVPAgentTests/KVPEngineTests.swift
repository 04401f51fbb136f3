import TestSupport
import XCTest
@testable import KVPAgent
import KVPStore
import IPInjection

final class KVPEngineTests: XCTestCase {
    var dir: TempDir!
    var engine: KVPEngine!

    override func setUpWithError() throws {
        dir = TempDir()
        let store = try PoolStore(directory: dir.path, writable: true)
        engine = KVPEngine(store: store, autoPool: FixedAutoPool(), ipInfo: FixedIPInfo())
        engine.integrationServicesVersion = "3.1"
    }

    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testSetGetEnumerateDeleteStatuses() {
        XCTAssertEqual(engine.handle(.set(pool: 0, key: b("HostName"), value: b("h1"))), .status(.ok))
        XCTAssertEqual(engine.handle(.set(pool: 0, key: b("VirtualMachineName"), value: b("vm"))), .status(.ok))
        XCTAssertEqual(engine.handle(.get(pool: 0, key: b("HostName"))), .record(key: b("HostName"), value: b("h1")))
        XCTAssertEqual(engine.handle(.get(pool: 0, key: b("Host"))), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.enumerate(pool: 0, index: 1)), .record(key: b("VirtualMachineName"), value: b("vm")))
        XCTAssertEqual(engine.handle(.enumerate(pool: 0, index: 2)), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.enumerate(pool: 0, index: 0xFFFF_FFFF)), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.enumerate(pool: 0, index: 0x8000_0000)), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.delete(pool: 0, key: b("HostName"))), .status(.ok))
        XCTAssertEqual(engine.handle(.delete(pool: 0, key: b("HostName"))), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.enumerate(pool: 0, index: 0)), .record(key: b("VirtualMachineName"), value: b("vm")))
        XCTAssertEqual(engine.handle(.delete(pool: 4, key: b("x"))), .status(.noMoreItems))
    }

    func testRejectsBadPoolsAutoPoolWritesAndUnknownOps() {
        for p: UInt8 in [5, 7, 255] {
            XCTAssertEqual(engine.handle(.set(pool: p, key: b("k"), value: b("v"))), .status(.invalidArgument))
            XCTAssertEqual(engine.handle(.get(pool: p, key: b("k"))), .status(.invalidArgument))
            XCTAssertEqual(engine.handle(.delete(pool: p, key: b("k"))), .status(.invalidArgument))
            XCTAssertEqual(engine.handle(.enumerate(pool: p, index: 0)), .status(.invalidArgument))
        }
        XCTAssertEqual(engine.handle(.set(pool: 2, key: b("OSName"), value: b("x"))), .status(.notSupported))
        XCTAssertEqual(engine.handle(.delete(pool: 2, key: b("OSName"))), .status(.notSupported))
        XCTAssertEqual(engine.handle(.unsupported(operation: 6)), .status(.notSupported))
        XCTAssertEqual(dir.bytes(".kvp_pool_2").count, 0)
    }

    func testSetValidation() {
        XCTAssertEqual(engine.handle(.set(pool: 1, key: [0xFF, 0xFE, 0x41], value: b("v"))), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.set(pool: 1, key: b("k"), value: [0xC3, 0x28])), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.set(pool: 1, key: [UInt8](repeating: 65, count: 512), value: [])), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.set(pool: 1, key: b("k"), value: [UInt8](repeating: 65, count: 2048))), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.set(pool: 1, key: [UInt8](repeating: 65, count: 511), value: [UInt8](repeating: 66, count: 2047))), .status(.ok))
        XCTAssertEqual(engine.handle(.set(pool: 1, key: b("empty"), value: [])), .status(.ok))
        XCTAssertEqual(engine.handle(.get(pool: 1, key: b("empty"))), .record(key: b("empty"), value: []))
    }

    func testAutoPoolOrderVersionAndEnd() {
        var keys: [String] = []
        var i: UInt32 = 0
        while case let .record(k, v) = engine.handle(.enumerate(pool: 2, index: i)) {
            keys.append(String(decoding: k, as: UTF8.self))
            if i == 1 { XCTAssertEqual(v, b("3.1")) }
            i += 1
        }
        XCTAssertEqual(keys.count, 10)
        XCTAssertEqual(keys.first, "FullyQualifiedDomainName")
        XCTAssertEqual(keys.last, "ProcessorArchitecture")
        XCTAssertEqual(engine.handle(.enumerate(pool: 2, index: 10)), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.enumerate(pool: 2, index: 0xFFFF_FFFF)), .status(.noMoreItems))
        XCTAssertEqual(engine.handle(.get(pool: 2, key: b("OSName"))), .record(key: b("OSName"), value: b("Debian GNU/Linux")))
        engine.integrationServicesVersion = nil
        XCTAssertEqual(engine.handle(.enumerate(pool: 2, index: 1)),
                       .record(key: b("IntegrationServicesVersion"), value: b("Unknown version")))
        engine.autoPool = nil
        XCTAssertEqual(engine.handle(.enumerate(pool: 2, index: 0)), .status(.noMoreItems))
    }

    /// A long address list is cut at an address boundary within the host's
    /// 1022 units (B6), other auto-pool values are left alone.
    func testAutoPoolAddressListsCutAtAddressBoundary() {
        var src = FixedAutoPool()
        let v6 = (0..<100).map { "fe80::215:5dff:fe01:\(String($0, radix: 16))" }.joined(separator: ";")
        src.entries[3] = ("NetworkAddressIPv6", v6)
        engine.autoPool = src
        guard case let .record(_, v) = engine.handle(.enumerate(pool: 2, index: 3)) else { return XCTFail("record") }
        let text = String(decoding: v, as: UTF8.self)
        XCTAssertLessThanOrEqual(text.utf16.count, 1022)
        XCTAssertGreaterThan(text.utf16.count, 1022 - 30)
        XCTAssertTrue(v6.hasPrefix(text + ";"), "cut exactly after a whole address")
        XCTAssertEqual(KVPEngine.cutList("a;b;c", maxUnits: 3), "a;b")
        XCTAssertEqual(KVPEngine.cutList("abcd", maxUnits: 3), "")
        XCTAssertEqual(KVPEngine.cutList("a;b", maxUnits: 3), "a;b")
    }

    /// Records written by other programs with broken UTF-8 are repaired so
    /// the kernel's conversion cannot fail the host's walk (B15).
    func testEnumerateRepairsForeignUTF8() {
        // cloud-init cut "é" (c3 a9) after its first byte; and a bad byte inside.
        dir.write(".kvp_pool_1", rawRecord("A", "x") )
        var raw = rawRecord("B", "")
        raw.replaceSubrange(512..<516, with: [0x61, 0x62, 0x63, 0xC3])
        var raw2 = rawRecord("C", "")
        raw2.replaceSubrange(512..<515, with: [0x61, 0xFF, 0x62])
        dir.write(".kvp_pool_1", raw + raw2, append: true)
        XCTAssertEqual(engine.handle(.enumerate(pool: 1, index: 1)), .record(key: b("B"), value: b("abc")))
        XCTAssertEqual(engine.handle(.enumerate(pool: 1, index: 2)), .record(key: b("C"), value: b("a\u{FFFD}b")))
        // a 512-byte unterminated key is cut to 511 bytes
        dir.write(".kvp_pool_1", [UInt8](repeating: 0x4C, count: 2560), append: true)
        if case let .record(k, v) = engine.handle(.enumerate(pool: 1, index: 3)) {
            XCTAssertEqual(k.count, 511)
            XCTAssertEqual(v.count, 2047)
        } else {
            XCTFail("expected a record")
        }
    }

    func testGetIPInfoFormats() {
        guard case let .ipInfo(r) = engine.handle(.getIPInfo(adapterID: "02:FC:00:00:00:01")) else {
            return XCTFail("expected ip info")
        }
        XCTAssertEqual(r.addressFamily, 3)
        XCTAssertTrue(r.dhcpEnabled)
        XCTAssertEqual(r.ipAddresses, "192.0.2.2;fd00::2;fe80::fc:ff:fe00:1")
        XCTAssertEqual(r.subnets, "255.255.255.0;/64;/64")
        XCTAssertEqual(r.gateways, "192.0.2.1;fd00::1;")
        XCTAssertEqual(r.dnsServers, "10.255.255.53;")
        XCTAssertEqual(engine.handle(.getIPInfo(adapterID: "00:11:22:33:44:55")), .status(.fail))
        XCTAssertEqual(engine.handle(.setIPInfo(HostIPSettings(adapterID: "{00000000-0000-0000-0000-000000000000}"))), .status(.guidNotFound))
    }

    /// Long lists are cut at an entry boundary and stay aligned (B6/B7).
    func testGetIPInfoBoundsLongLists() {
        var src = FixedIPInfo()
        src.info.addresses = (0..<200).map { .init(address: "2001:db8::\(String($0, radix: 16))", prefixLength: 64) }
        src.info.gateways = (0..<100).map { "192.0.2.\($0)" }
        engine.ipInfo = src
        guard case let .ipInfo(r) = engine.handle(.getIPInfo(adapterID: src.mac)) else { return XCTFail("expected ip info") }
        XCTAssertLessThanOrEqual(r.ipAddresses.utf8.count, 1023)
        XCTAssertLessThanOrEqual(r.gateways.utf8.count, 511)
        let ips = r.ipAddresses.split(separator: ";"), masks = r.subnets.split(separator: ";")
        XCTAssertEqual(ips.count, masks.count)
        XCTAssertTrue(ips.allSatisfy { $0.hasPrefix("2001:db8::") })
        XCTAssertTrue(r.gateways.hasSuffix(";"))
        XCTAssertEqual(IPInfoFormat.subnetText(.init(address: "10.0.0.1", prefixLength: 20)), "255.255.240.0")
        XCTAssertEqual(IPInfoFormat.subnetText(.init(address: "10.0.0.1", prefixLength: 0)), "0.0.0.0")
        XCTAssertEqual(IPInfoFormat.subnetText(.init(address: "10.0.0.1", prefixLength: 99)), "255.255.255.255")
    }

    /// Pool-file failures answer HV_E_FAIL and the engine keeps serving (B13).
    func testPoolFailureAnswersFailInsteadOfExiting() throws {
        let store = try PoolStore(directory: dir.path + "/missing-parent/x", writable: false)
        var lines: [String] = []
        let e = KVPEngine(store: store, log: { lines.append($0) })
        XCTAssertEqual(e.handle(.set(pool: 1, key: b("k"), value: b("v"))), .status(.fail))
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(e.handle(.enumerate(pool: 1, index: 0)), .status(.noMoreItems))
    }

    /// While hvagent has filesystems frozen, host SET/DELETE get HV_E_FAIL at once and the pool
    /// file is untouched; reads still answer; after thaw writes work again.
    func testWritesRefusedWhileFrozen() {
        XCTAssertEqual(engine.handle(.set(pool: 0, key: b("k"), value: b("before"))), .status(.ok))
        var frozen = true
        var lines: [String] = []
        engine.writesHeld = { frozen }
        engine.log = { lines.append($0) }
        XCTAssertEqual(engine.handle(.set(pool: 0, key: b("k"), value: b("during"))), .status(.fail))
        XCTAssertEqual(engine.handle(.delete(pool: 0, key: b("k"))), .status(.fail))
        XCTAssertEqual(engine.handle(.get(pool: 0, key: b("k"))), .record(key: b("k"), value: b("before")))
        XCTAssertEqual(lines, ["SET on pool 0 refused with HV_E_FAIL: filesystems are frozen for a backup",
                               "DELETE on pool 0 refused with HV_E_FAIL: filesystems are frozen for a backup"])
        frozen = false
        XCTAssertEqual(engine.handle(.set(pool: 0, key: b("k"), value: b("after"))), .status(.ok))
        XCTAssertEqual(engine.handle(.get(pool: 0, key: b("k"))), .record(key: b("k"), value: b("after")))
    }
}
