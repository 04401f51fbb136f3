import Foundation
import Testing
@testable import IPInjection
import NetInfo
import TestSupport

/// `[kvp] ip_injection = auto`: the backend is the one whose manager manages the interface, in
/// the documented order (netplan, NetworkManager, networkd, ifcfg, netlink), read from fake
/// trees and a fake NetworkManager on a private bus.
@Suite struct BackendSelectorTests {
    static let eth0 = InjectionInterface(name: "eth0", index: 2, mac: "00:15:5d:01:02:03")

    static func write(_ root: String, _ path: String, _ text: String) throws {
        let full = root + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    static func networkdManages(_ root: String) throws {
        try write(root, "/run/systemd/netif/state", "OPER_STATE=routable\n")
        try write(root, "/run/systemd/netif/links/2", "ADMIN_STATE=configured\nNETWORK_FILE=/etc/systemd/network/50-eth0.network\n")
    }

    @Test func detectionOrder() throws {
        guard let bus = try PrivateBus() else { return }
        let dir = TempDir(), root = dir.path
        defer { _ = Shell.run("rm -rf '\(root)'") }
        let selector = BackendSelector(kind: .automatic, tracker: try AddressTracker(), root: root, busPath: bus.socketPath)
        // Nothing manages it: netlink.
        #expect(selector.detect(Self.eth0) == .netlink)
        #expect(selector.backend(for: Self.eth0).name == "netlink")
        // The RHEL layout exists, neither manager runs: ifcfg.
        try FileManager.default.createDirectory(atPath: root + "/etc/sysconfig/network-scripts", withIntermediateDirectories: true)
        #expect(selector.detect(Self.eth0) == .ifcfg)
        // networkd manages the link: networkd, even with the ifcfg directory there.
        try Self.networkdManages(root)
        #expect(selector.detect(Self.eth0) == .networkd)
        #expect(selector.backend(for: Self.eth0).name == "systemd-networkd")
        // NetworkManager runs and manages the device: NetworkManager before networkd.
        let nm = try FakeNetworkManager(bus: bus)
        defer { nm.service.stop() }
        #expect(selector.detect(Self.eth0) == .networkManager)
        nm.box.state.withLock { $0.managed = false }
        #expect(selector.detect(Self.eth0) == .networkd)
        nm.box.state.withLock { $0.managed = true }
        // netplan generates its configuration: netplan before all of them.
        try Self.write(root, "/run/systemd/network/10-netplan-eth0.network", "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n")
        #expect(selector.detect(Self.eth0) == .netplan)
        #expect(selector.backend(for: Self.eth0).name == "netplan")
    }

    /// A forced kind is used whatever manages the interface.
    @Test func forcedKindSkipsDetection() throws {
        let dir = TempDir(), root = dir.path
        defer { _ = Shell.run("rm -rf '\(root)'") }
        try Self.networkdManages(root)
        let tracker = try AddressTracker()
        #expect(BackendSelector(kind: .netlink, tracker: tracker, root: root).backend(for: Self.eth0).name == "netlink")
        #expect(BackendSelector(kind: .networkManager, tracker: tracker, root: root, busPath: "/nonexistent").backend(for: Self.eth0).name
                == "NetworkManager")
        #expect(BackendSelector(kind: .ifcfg, tracker: tracker, root: root).backend(for: Self.eth0).name.contains("ifcfg"))
    }
}
