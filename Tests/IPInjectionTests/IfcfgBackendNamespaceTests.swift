import Foundation
import NetInfo
import TestSupport
import XCTest
@testable import IPInjection

/// ``IfcfgBackend`` with the real ``NetlinkBackend`` on a veth in a private network namespace
/// (root only; re-runs this test binary under `unshare --net` as NetlinkBackendNamespaceTests
/// does): the file is written under a temporary root, the kernel gets the configuration, and the
/// undo puts both back.
final class IfcfgBackendNamespaceTests: XCTestCase {
    static let childKey = "HVAGENT_IFCFG_NETNS_CHILD"

    func testInPrivateNetworkNamespace() throws {
        guard let result = try PrivateNamespace.rerun("IPInjectionTests.IfcfgBackendNamespaceTests/testNamespaceBody",
                                                      unshare: "--net", childKey: Self.childKey) else {
            throw XCTSkip("needs root, unshare and ip")
        }
        print(result.output)
        XCTAssertTrue(PrivateNamespace.bodyPassed(result), "the body must have run in the namespace and passed")
    }

    func testNamespaceBody() throws {
        guard ProcessInfo.processInfo.environment[Self.childKey] == "1" else {
            throw XCTSkip("runs only inside the namespace testInPrivateNetworkNamespace creates")
        }
        try PrivateNamespace.requireFreshNetworkNamespace()
        let index = try NetlinkBackendNamespaceTests.makeVeth("eth6", mac: "00:15:5d:06:06:06")
        let interface = InjectionInterface(name: "eth6", index: index, mac: "00:15:5d:06:06:06")
        let root = NSTemporaryDirectory() + "ifcfg-ns-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/etc/sysconfig/network-scripts"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let previous = "DEVICE=eth6\nBOOTPROTO=none\nIPADDR0=192.0.2.9\nPREFIX0=24\nGATEWAY=192.0.2.1\n"
        try previous.write(toFile: directory + "/ifcfg-eth6", atomically: false, encoding: .utf8)
        XCTAssertTrue(IfcfgBackend.applies(root: root))
        let before = NetlinkBackendNamespaceTests.normalised(NetlinkBackendNamespaceTests.kernelState("eth6"))

        let c = IPConfiguration(dhcpV4: false,
                                addresses: [.init(address: try XCTUnwrap(IPLiteral("198.51.100.5")), prefixLength: 24),
                                            .init(address: try XCTUnwrap(IPLiteral("2001:db8:6::6")), prefixLength: 64)],
                                gateways: [try XCTUnwrap(IPLiteral("198.51.100.1")), try XCTUnwrap(IPLiteral("2001:db8:6::1"))],
                                dnsServers: [try XCTUnwrap(IPLiteral("198.51.100.53"))])
        let backend = IfcfgBackend(live: NetlinkBackend(tracker: try AddressTracker()), root: root)
        let undo = try backend.apply(c, to: interface)
        XCTAssertEqual(try String(contentsOfFile: directory + "/ifcfg-eth6", encoding: .utf8), IfcfgBackend.ifcfg(c, for: interface))
        let state = NetlinkBackendNamespaceTests.kernelState("eth6")
        XCTAssertTrue(state.contains("inet 198.51.100.5/24"), state)
        XCTAssertTrue(state.contains("inet6 2001:db8:6::6/64"), state)
        XCTAssertFalse(state.contains("192.0.2.9"), "the old static address must be gone: \(state)")
        XCTAssertTrue(state.contains("default via 198.51.100.1 dev eth6"), state)
        XCTAssertTrue(state.contains("default via 2001:db8:6::1 dev eth6"), state)

        try undo.undo()
        XCTAssertEqual(NetlinkBackendNamespaceTests.normalised(NetlinkBackendNamespaceTests.kernelState("eth6")), before, "the undo must restore the kernel's configuration")
        XCTAssertEqual(try String(contentsOfFile: directory + "/ifcfg-eth6", encoding: .utf8), previous)

        // DHCP cannot be applied live over netlink: refused, and the file stays as it was.
        XCTAssertThrowsError(try backend.apply(IPConfiguration(dhcpV4: true), to: interface)) { error in
            XCTAssertTrue("\(error)".contains("cannot run DHCP"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: directory + "/ifcfg-eth6", encoding: .utf8), previous)
        XCTAssertEqual(NetlinkBackendNamespaceTests.normalised(NetlinkBackendNamespaceTests.kernelState("eth6")), before)
    }
}
