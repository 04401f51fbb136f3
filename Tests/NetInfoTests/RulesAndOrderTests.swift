import XCTest
@testable import NetInfo

/// Interface rules and the kernel-order reproduction, on fake interfaces and addresses.
final class RulesAndOrderTests: XCTestCase {
    func testDefaultRulesExcludeContainerAndLoopbackInterfaces() {
        let rules = InterfaceRules()
        XCTAssertEqual(rules.exclude, ["lo", "docker*", "veth*", "virbr*", "cni*", "flannel*"])
        XCTAssertTrue(rules.includeOnly.isEmpty)
        XCTAssertFalse(rules.includeIPv6LinkLocal)
        for name in ["eth0", "ens3", "enP1s1", "eth10", "bond0", "br0"] {
            XCTAssertTrue(rules.admits(interfaceNamed: name, isLoopback: false), name)
        }
        for name in ["lo", "docker0", "veth1a2b", "virbr0", "virbr0-nic", "cni0", "flannel.1"] {
            XCTAssertFalse(rules.admits(interfaceNamed: name, isLoopback: false), name)
        }
        XCTAssertFalse(rules.admits(interfaceNamed: "eth0", isLoopback: true), "IFF_LOOPBACK always excluded")
    }

    func testIncludeOnlyWinsOverExcludeAndLoopbackStaysOut() {
        let rules = InterfaceRules(includeOnly: ["eth*", "veth0"])
        XCTAssertTrue(rules.admits(interfaceNamed: "eth0", isLoopback: false))
        XCTAssertTrue(rules.admits(interfaceNamed: "veth0", isLoopback: false), "explicit include wins over default exclude")
        XCTAssertFalse(rules.admits(interfaceNamed: "veth1", isLoopback: false))
        XCTAssertFalse(rules.admits(interfaceNamed: "ens3", isLoopback: false))
        XCTAssertFalse(InterfaceRules(includeOnly: ["*"]).admits(interfaceNamed: "lo", isLoopback: true))
        let none = InterfaceRules(exclude: [])
        XCTAssertTrue(none.admits(interfaceNamed: "docker0", isLoopback: false), "empty exclude list = upstream behaviour")
    }

    func testLinkLocalRule() throws {
        let ll = try XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "fe80::1", prefixLength: 64, scope: 253))
        let v4ll = try XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "169.254.1.1", prefixLength: 16))
        XCTAssertFalse(InterfaceRules().admits(ll))
        XCTAssertTrue(InterfaceRules(includeIPv6LinkLocal: true).admits(ll))
        XCTAssertTrue(InterfaceRules().admits(v4ll), "the rule is about IPv6 link-local only")
    }

    func testSnapshotFiltersByRulesAndFamily() throws {
        let snapshot = NetworkSnapshot(
            interfaces: [
                1: NetworkInterface(index: 1, name: "lo", flags: 0x9),
                2: NetworkInterface(index: 2, name: "eth0"),
                3: NetworkInterface(index: 3, name: "docker0"),
            ],
            addresses: try [
                XCTUnwrap(InterfaceAddress(interfaceIndex: 1, text: "127.0.0.1", prefixLength: 8, scope: 254)),
                XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "10.0.0.4", prefixLength: 24)),
                XCTUnwrap(InterfaceAddress(interfaceIndex: 3, text: "172.17.0.1", prefixLength: 16)),
                XCTUnwrap(InterfaceAddress(interfaceIndex: 9, text: "10.9.9.9", prefixLength: 16)),
                XCTUnwrap(InterfaceAddress(interfaceIndex: 1, text: "::1", prefixLength: 128, scope: 254)),
                XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "fd00::4", prefixLength: 64)),
                XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "fe80::4", prefixLength: 64, scope: 253)),
            ]
        )
        XCTAssertEqual(snapshot.autoPoolAddresses(.ipv4, rules: InterfaceRules()).map(\.text), ["10.0.0.4"])
        XCTAssertEqual(snapshot.autoPoolAddresses(.ipv6, rules: InterfaceRules()).map(\.text), ["fd00::4"])
        let upstreamLike = InterfaceRules(exclude: [], includeIPv6LinkLocal: true)
        XCTAssertEqual(snapshot.autoPoolAddresses(.ipv4, rules: upstreamLike).map(\.text), ["10.0.0.4", "172.17.0.1"])
        XCTAssertEqual(snapshot.autoPoolAddresses(.ipv6, rules: upstreamLike).map(\.text), ["fd00::4", "fe80::4"])
    }

    func testKernelOrderIPv4PrimariesByScopeThenSecondariesIPv6NewestFirstWithinScope() throws {
        func a(_ text: String, _ index: Int32 = 2, scope: UInt8 = 0, flags: UInt32 = 0x80) throws -> InterfaceAddress {
            try XCTUnwrap(InterfaceAddress(interfaceIndex: index, text: text, prefixLength: 24, scope: scope, flags: flags))
        }
        var order = AddressOrder()
        // Dump (kernel order already).
        let dumped = try [a("10.0.0.1"), a("10.0.0.2", flags: 0x81), a("10.1.0.1", 3), a("fd00::2"), a("fd00::1"), a("fe80::1", scope: 253)]
        dumped.forEach { order.noteDumped($0) }
        // Later notifications.
        let p2 = try a("10.2.0.1")               // new primary on eth: after existing primaries, before secondaries
        let s2 = try a("10.0.0.3", flags: 0x81)  // new secondary: last
        let host = try a("10.3.0.1", scope: 254) // host scope primary: first
        let v6new = try a("fd00::3")             // newest global first
        let v6ll = try a("fe80::2", scope: 253)  // newest link-local first among link-locals
        let lo = try a("10.5.0.1", 1)            // lower ifindex: before everything of ifindex 2
        for x in [p2, s2, host, v6new, v6ll, lo] { order.noteAdded(x) }
        let all = dumped + [p2, s2, host, v6new, v6ll, lo]
        XCTAssertEqual(order.sorted(all.shuffled()).map(\.text), [
            "10.5.0.1",
            "10.3.0.1", "10.0.0.1", "10.2.0.1", "10.0.0.2", "10.0.0.3",
            "10.1.0.1",
            "fd00::3", "fd00::2", "fd00::1", "fe80::2", "fe80::1",
        ])
        order.noteRemoved(p2)
        order.noteAdded(p2)
        XCTAssertEqual(order.sorted(all).filter { $0.interfaceIndex == 2 && $0.family == .ipv4 }.map(\.text),
                       ["10.3.0.1", "10.0.0.1", "10.2.0.1", "10.0.0.2", "10.0.0.3"], "re-added primary goes after the others")
    }
}
