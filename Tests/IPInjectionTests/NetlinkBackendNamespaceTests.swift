import Foundation
import HVProtocol
import NetInfo
import TestSupport
import XCTest
@testable import IPInjection

/// SET_IP_INFO applied through ``NetlinkBackend`` and verified against the real kernel, in a
/// private network namespace: `testInPrivateNetworkNamespace` (root only) re-runs this test binary
/// under `unshare --net`, selecting `testNamespaceBody`, which refuses to run anywhere but in a
/// fresh namespace holding only `lo`.
final class NetlinkBackendNamespaceTests: XCTestCase {
    static let childKey = "HVAGENT_IPINJECTION_NETNS_CHILD"
    static let guid = "{5b6b4f0e-0c2a-4c6c-9b1e-7d1f0a2b3c4d}"

    func testInPrivateNetworkNamespace() throws {
        guard let result = try PrivateNamespace.rerun("IPInjectionTests.NetlinkBackendNamespaceTests/testNamespaceBody",
                                                      unshare: "--net", childKey: Self.childKey) else {
            throw XCTSkip("needs root, unshare and ip")
        }
        print(result.output)
        XCTAssertTrue(PrivateNamespace.bodyPassed(result), "the body must have run in the namespace and passed")
    }

    /// Hides one address from the verification: the kernel has it, the injector must not believe it.
    struct BlindProbe: IPStateProbe {
        let inner: TrackerStateProbe
        let hidden: IPConfiguration.Address
        func observe(_ interface: InjectionInterface) -> ObservedIPState {
            var s = inner.observe(interface)
            s.addresses.remove(hidden)
            return s
        }
    }

    func testNamespaceBody() throws {
        guard ProcessInfo.processInfo.environment[Self.childKey] == "1" else {
            throw XCTSkip("runs only inside the namespace testInPrivateNetworkNamespace creates")
        }
        try PrivateNamespace.requireFreshNetworkNamespace()
        let index = try Self.makeVeth("eth5", mac: "00:15:5d:05:05:05", also: "ip -6 addr add fe80::5/64 dev eth5 nodad")
        // sysfs still shows the parent namespace's interfaces, so the adapter is faked beside it.
        let root = NSTemporaryDirectory() + "ipinject-ns-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let net = root + "/sys/class/net/eth5"
        try FileManager.default.createDirectory(atPath: net + "/device", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/hyperv", withIntermediateDirectories: true)
        try "\(Self.guid)\n".write(toFile: net + "/device/device_id", atomically: true, encoding: .utf8)
        try "00:15:5d:05:05:05\n".write(toFile: net + "/address", atomically: true, encoding: .utf8)
        try "\(index)\n".write(toFile: net + "/ifindex", atomically: true, encoding: .utf8)

        let tracker = try AddressTracker()
        let probe = TrackerStateProbe(tracker: tracker)
        let policy = IPInjector.Policy(verifyTimeout: .seconds(5), pollInterval: .milliseconds(50), compatibilityDirectory: root + "/hyperv")
        let injector = IPInjector(backend: NetlinkBackend(tracker: tracker), probe: probe, locator: InterfaceLocator(root: root), policy: policy)

        // 1. Static IPv4 and IPv6 with gateways replace the interface's static configuration.
        let request = HostIPSettings(adapterID: Self.guid, addressFamily: 3, addresses: "198.51.100.5;2001:db8:5::5",
                                     subnets: "255.255.255.0;64", gateways: "198.51.100.1;2001:db8:5::1",
                                     dnsServers: "198.51.100.53")
        let applied = injector.set(request)
        XCTAssertEqual(applied.status, .ok, applied.message)
        var state = Self.kernelState()
        XCTAssertTrue(state.contains("inet 198.51.100.5/24"), state)
        XCTAssertTrue(state.contains("inet6 2001:db8:5::5/64"), state)
        XCTAssertFalse(state.contains("192.0.2.9"), "the old static address must be gone: \(state)")
        XCTAssertTrue(state.contains("inet6 fe80::5/64"), "link-local addresses stay: \(state)")
        XCTAssertTrue(state.contains("default via 198.51.100.1 dev eth5"), state)
        XCTAssertTrue(state.contains("default via 2001:db8:5::1 dev eth5"), state)
        XCTAssertFalse(state.contains("192.0.2.1"), "the old gateway must be gone: \(state)")
        XCTAssertNotNil(try? String(contentsOfFile: root + "/hyperv/ifcfg-eth5", encoding: .utf8))
        let afterFirst = state

        // 2. The verification cannot see one address: rolled back to the configuration of step 1.
        let hidden = IPConfiguration.Address(address: try XCTUnwrap(IPLiteral("203.0.113.7")), prefixLength: 24)
        let blind = IPInjector(backend: NetlinkBackend(tracker: tracker), probe: BlindProbe(inner: probe, hidden: hidden),
                               locator: InterfaceLocator(root: root),
                               policy: .init(verifyTimeout: .seconds(1), pollInterval: .milliseconds(50), compatibilityDirectory: nil))
        let failed = blind.set(HostIPSettings(adapterID: Self.guid, addresses: "203.0.113.7", subnets: "255.255.255.0",
                                                    gateways: "203.0.113.1"))
        XCTAssertEqual(failed.status, .fail, failed.message)
        XCTAssertTrue(failed.message.contains("address 203.0.113.7/24"), failed.message)
        XCTAssertTrue(failed.message.contains("previous configuration restored"), failed.message)
        state = Self.kernelState()
        XCTAssertEqual(Self.normalised(state), Self.normalised(afterFirst), "rollback must restore step 1's configuration")

        // 3. The kernel refuses (a gateway on no connected network): nothing stays changed.
        let refused = injector.set(HostIPSettings(adapterID: Self.guid, addresses: "198.51.100.6", subnets: "255.255.255.0",
                                                        gateways: "10.77.0.1"))
        XCTAssertEqual(refused.status, .fail, refused.message)
        XCTAssertTrue(refused.message.contains("add default route via 10.77.0.1"), refused.message)
        XCTAssertEqual(Self.normalised(Self.kernelState()), Self.normalised(afterFirst))

        // 4. A new IPv4 address with the same gateway: the kernel drops the interface's routes
        //    when its last IPv4 address goes, so the kept default route must be put back.
        let moved = injector.set(HostIPSettings(adapterID: Self.guid, addresses: "198.51.100.6;2001:db8:5::5",
                                                subnets: "255.255.255.0;64", gateways: "198.51.100.1;2001:db8:5::1"))
        XCTAssertEqual(moved.status, .ok, moved.message)
        state = Self.kernelState()
        XCTAssertTrue(state.contains("inet 198.51.100.6/24") && !state.contains("198.51.100.5/"), state)
        XCTAssertTrue(state.contains("default via 198.51.100.1 dev eth5"), state)
        // ... and a failure after such a change restores the route too.
        let movedBack = blind.set(HostIPSettings(adapterID: Self.guid, addresses: "198.51.100.5;2001:db8:5::5;203.0.113.7",
                                                 subnets: "255.255.255.0;64;255.255.255.0", gateways: "198.51.100.1;2001:db8:5::1"))
        XCTAssertEqual(movedBack.status, .fail, movedBack.message)
        state = Self.kernelState()
        XCTAssertTrue(state.contains("inet 198.51.100.6/24") && state.contains("default via 198.51.100.1 dev eth5"), state)
        XCTAssertEqual(injector.set(request).status, .ok)
        XCTAssertEqual(Self.normalised(Self.kernelState()), Self.normalised(afterFirst))

        // 5. An IPv6 address another machine on the link holds (veth5, the other end): the kernel
        //    lists it but duplicate address detection fails it, so it never counts as applied.
        try Shell.must("ip -6 addr add 2001:db8:5::99/64 dev veth5 nodad")
        let duplicate = injector.set(HostIPSettings(adapterID: Self.guid, addresses: "198.51.100.5;2001:db8:5::99",
                                                    subnets: "255.255.255.0;64", gateways: "198.51.100.1;2001:db8:5::1"))
        XCTAssertEqual(duplicate.status, .fail, duplicate.message)
        XCTAssertTrue(duplicate.message.contains("address 2001:db8:5::99/64"), duplicate.message)
        XCTAssertEqual(Self.normalised(Self.kernelState()), Self.normalised(afterFirst))

        // 6. DHCP cannot be done over netlink: refused before any change.
        let dhcp = injector.set(HostIPSettings(adapterID: Self.guid, dhcpEnabled: true))
        XCTAssertEqual(dhcp.status, .fail)
        XCTAssertTrue(dhcp.message.contains("cannot run DHCP"), dhcp.message)
        XCTAssertEqual(Self.normalised(Self.kernelState()), Self.normalised(afterFirst))
    }

    /// A veth `name` (peer `v<name>`) up with `mac`, the static 192.0.2.9/24 and a default route via
    /// 192.0.2.1, and whatever `also` adds; returns its interface index.
    static func makeVeth(_ name: String, mac: String, also: String = "") throws -> Int32 {
        try Shell.must("""
            ip link set lo up
            ip link add \(name) type veth peer name v\(name)
            ip link set v\(name) up
            ip link set \(name) address \(mac) up
            ip addr add 192.0.2.9/24 dev \(name)
            ip route add default via 192.0.2.1 dev \(name)
            \(also.isEmpty ? "true" : also)
            """)
        let index = Shell.run("ip -o link show \(name) | cut -d: -f1").output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let index = Int32(index) else { throw Shell.Failure(description: "no index for \(name): \(index)") }
        return index
    }

    /// The interface's addresses and the default routes, as `ip` prints them.
    static func kernelState(_ name: String = "eth5") -> String {
        Shell.run("ip -o addr show dev \(name); ip route show default; ip -6 route show default").output
    }

    /// Lifetimes, duplicate-address-detection state and order dropped, for comparing two states.
    static func normalised(_ s: String) -> [String] {
        s.split(separator: "\n").map { line in
            line.split(separator: " ").prefix { $0 != "valid_lft" && $0 != "\\" }.filter { $0 != "tentative" }.joined(separator: " ")
        }.sorted()
    }
}
