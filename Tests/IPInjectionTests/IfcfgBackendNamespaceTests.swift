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
        XCTAssertEqual(result.status, 0, "namespace run failed")
        XCTAssertTrue(result.output.contains("Executed 1 test, with 0 failures"), "the body must have run and passed")
        XCTAssertFalse(result.output.contains("skipped"), "the body must not skip inside the namespace")
    }

    func testNamespaceBody() throws {
        guard ProcessInfo.processInfo.environment[Self.childKey] == "1" else {
            throw XCTSkip("runs only inside the namespace testInPrivateNetworkNamespace creates")
        }
        let links = Shell.run("ip -o link show")
        guard links.status == 0, links.output.split(separator: "\n").count == 1, links.output.contains(": lo:") else {
            XCTFail("not a fresh network namespace; refusing to change anything:\n\(links.output)")
            return
        }
        try Shell.must("""
            ip link set lo up
            ip link add eth6 type veth peer name veth6
            ip link set veth6 up
            ip link set eth6 address 00:15:5d:06:06:06 up
            ip addr add 192.0.2.9/24 dev eth6
            ip route add default via 192.0.2.1 dev eth6
            """)
        let index = try XCTUnwrap(Int32(Shell.run("ip -o link show eth6 | cut -d: -f1").output
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let interface = InjectionInterface(name: "eth6", index: index, mac: "00:15:5d:06:06:06")
        let root = NSTemporaryDirectory() + "ifcfg-ns-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/etc/sysconfig/network-scripts"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let previous = "DEVICE=eth6\nBOOTPROTO=none\nIPADDR0=192.0.2.9\nPREFIX0=24\nGATEWAY=192.0.2.1\n"
        try previous.write(toFile: directory + "/ifcfg-eth6", atomically: false, encoding: .utf8)
        XCTAssertTrue(IfcfgBackend.applies(root: root))
        let before = NetlinkBackendNamespaceTests.normalised(Self.kernelState())

        let c = IPConfiguration(dhcpV4: false,
                                addresses: [.init(address: try XCTUnwrap(IPLiteral("198.51.100.5")), prefixLength: 24),
                                            .init(address: try XCTUnwrap(IPLiteral("2001:db8:6::6")), prefixLength: 64)],
                                gateways: [try XCTUnwrap(IPLiteral("198.51.100.1")), try XCTUnwrap(IPLiteral("2001:db8:6::1"))],
                                dnsServers: [try XCTUnwrap(IPLiteral("198.51.100.53"))])
        let backend = IfcfgBackend(live: NetlinkBackend(tracker: try AddressTracker()), root: root)
        let undo = try backend.apply(c, to: interface)
        XCTAssertEqual(try String(contentsOfFile: directory + "/ifcfg-eth6", encoding: .utf8), IfcfgBackend.ifcfg(c, for: interface))
        let state = Self.kernelState()
        XCTAssertTrue(state.contains("inet 198.51.100.5/24"), state)
        XCTAssertTrue(state.contains("inet6 2001:db8:6::6/64"), state)
        XCTAssertFalse(state.contains("192.0.2.9"), "the old static address must be gone: \(state)")
        XCTAssertTrue(state.contains("default via 198.51.100.1 dev eth6"), state)
        XCTAssertTrue(state.contains("default via 2001:db8:6::1 dev eth6"), state)

        try undo.undo()
        XCTAssertEqual(NetlinkBackendNamespaceTests.normalised(Self.kernelState()), before, "the undo must restore the kernel's configuration")
        XCTAssertEqual(try String(contentsOfFile: directory + "/ifcfg-eth6", encoding: .utf8), previous)

        // DHCP cannot be applied live over netlink: refused, and the file stays as it was.
        XCTAssertThrowsError(try backend.apply(IPConfiguration(dhcpV4: true), to: interface)) { error in
            XCTAssertTrue("\(error)".contains("cannot run DHCP"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: directory + "/ifcfg-eth6", encoding: .utf8), previous)
        XCTAssertEqual(NetlinkBackendNamespaceTests.normalised(Self.kernelState()), before)
    }

    /// eth6's addresses and the default routes, as `ip` prints them.
    static func kernelState() -> String {
        Shell.run("ip -o addr show dev eth6; ip route show default; ip -6 route show default").output
    }
}
