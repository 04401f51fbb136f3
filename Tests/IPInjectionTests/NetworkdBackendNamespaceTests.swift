import Foundation
import NetInfo
import SystemBus
import TestSupport
import XCTest
@testable import IPInjection

/// ``NetworkdBackend`` against the real systemd-networkd (Debian 12's 252) on a veth, in private
/// network and mount namespaces (root only; re-runs this test binary under `unshare`, as
/// NetlinkBackendNamespaceTests does). Inside, `/etc/systemd/network`, `/run/systemd` and a
/// read-only `/sys` of the namespace are mounted over the machine's (nothing outside is touched;
/// a read-only /sys is how networkd knows there is no udev to wait for), and networkd runs on a
/// private bus. It checks what no stand-in can: that networkd reads hvagent's file, prefers it over
/// the interface's own by its name, accepts the bus calls, and puts the old configuration back on
/// undo.
final class NetworkdBackendNamespaceTests: XCTestCase {
    static let childKey = "HVAGENT_NETWORKD_NETNS_CHILD"
    static let networkd = "/lib/systemd/systemd-networkd"

    func testInPrivateNamespaces() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.networkd), getpwnam("systemd-network") != nil else {
            throw XCTSkip("systemd-networkd is not installed (Debian's systemd package; scripts/setup.sh installs it)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dbus-daemon") else {
            throw XCTSkip("dbus-daemon is not installed (scripts/setup.sh installs it)")
        }
        guard let result = try PrivateNamespace.rerun("IPInjectionTests.NetworkdBackendNamespaceTests/testNamespaceBody",
                                                      unshare: "--net --mount --propagation private", tools: ["unshare", "ip", "mount"],
                                                      childKey: Self.childKey) else {
            throw XCTSkip("needs root, unshare and ip")
        }
        print(result.output)
        XCTAssertTrue(PrivateNamespace.bodyPassed(result), "the body must have run in the namespaces and passed")
    }

    /// Polls `condition` every 50 ms for up to 10 s.
    static func eventually(_ what: String, _ condition: () -> Bool) throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while !condition() {
            guard ContinuousClock.now < deadline else { throw Shell.Failure(description: "timed out waiting for \(what)") }
            usleep(50_000)
        }
    }

    func testNamespaceBody() throws {
        guard ProcessInfo.processInfo.environment[Self.childKey] == "1" else {
            throw XCTSkip("runs only inside the namespaces testInPrivateNamespaces creates")
        }
        try PrivateNamespace.requireFreshNetworkNamespace()
        // Only in this mount namespace (private propagation): the machine's /etc, /run and /sys stay as they are.
        try Shell.must("""
            test "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)"
            grep -q 'shared:' /proc/self/mountinfo && exit 1 || true
            mount -t sysfs -o ro sysfs /sys
            mount -t tmpfs tmpfs /run/systemd
            mkdir -p /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/netif/lldp
            chown -R systemd-network:systemd-network /run/systemd/netif
            mount -t tmpfs tmpfs /etc/systemd/network
            """)
        let index = try NetlinkBackendNamespaceTests.makeVeth("eth7", mac: "00:15:5d:07:07:07", also: "ip addr flush dev eth7; ip route flush dev eth7")
        let interface = InjectionInterface(name: "eth7", index: index, mac: "00:15:5d:07:07:07")
        let installers = "[Match]\nName=eth7\n\n[Network]\nAddress=192.0.2.9/24\nGateway=192.0.2.1\nIPv6AcceptRA=no\n"
        try installers.write(toFile: "/etc/systemd/network/20-eth7.network", atomically: false, encoding: .utf8)

        guard let bus = try PrivateBus() else { throw XCTSkip("dbus-daemon is not installed") }
        // networkd drops to its own user: it must reach the socket.
        chmod((bus.socketPath as NSString).deletingLastPathComponent, 0o755)
        chmod(bus.socketPath, 0o666)
        let log = NSTemporaryDirectory() + "networkd-\(getpid()).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: Self.networkd)
        daemon.environment = ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=\(bus.socketPath)", "SYSTEMD_LOG_LEVEL": "debug"]
        daemon.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        daemon.standardError = daemon.standardOutput
        try daemon.run()
        var passed = false
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
            if !passed { print("networkd's log:\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").suffix(6000)) }
            withExtendedLifetime(bus) {}
        }
        let client = try DBusConnection(path: bus.socketPath)
        func networkdOnTheBus() -> Bool {
            let names = (try? client.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                          interface: "org.freedesktop.DBus", member: "ListNames"))?.first?.elements ?? []
            return names.contains(.string("org.freedesktop.network1"))
        }
        func state() -> String { NetlinkBackendNamespaceTests.kernelState("eth7") }
        func networkFile() -> String? { NetworkdBackend.linkState(interface, root: "")["NETWORK_FILE"] }
        try Self.eventually("networkd to configure eth7 from its file") {
            networkdOnTheBus() && NetworkdBackend.manages(interface, root: "") && state().contains("inet 192.0.2.9/24")
                && state().contains("default via 192.0.2.1 dev eth7")
        }
        XCTAssertEqual(networkFile(), "/etc/systemd/network/20-eth7.network")

        let c = IPConfiguration(dhcpV4: false,
                                addresses: [.init(address: try XCTUnwrap(IPLiteral("198.51.100.7")), prefixLength: 24),
                                            .init(address: try XCTUnwrap(IPLiteral("2001:db8:7::7")), prefixLength: 64)],
                                gateways: [try XCTUnwrap(IPLiteral("198.51.100.1")), try XCTUnwrap(IPLiteral("2001:db8:7::1")),
                                           try XCTUnwrap(IPLiteral("198.51.100.2"))],
                                dnsServers: [try XCTUnwrap(IPLiteral("198.51.100.53"))])
        let undo = try NetworkdBackend(busPath: bus.socketPath).apply(c, to: interface)
        try Self.eventually("the host's configuration on eth7") {
            let s = state()
            return s.contains("inet 198.51.100.7/24") && s.contains("inet6 2001:db8:7::7/64")
                && s.contains("default via 198.51.100.1 dev eth7") && s.contains("default via 2001:db8:7::1 dev eth7")
                && s.contains("default via 198.51.100.2 dev eth7") && !s.contains("192.0.2.9")
        }
        XCTAssertEqual(networkFile(), "/etc/systemd/network/00-hvagent-eth7.network", "networkd must prefer hvagent's file by its name")
        let s = state()
        XCTAssertTrue(s.contains("default via 198.51.100.2 dev eth7 proto static metric 1"), "the second gateway is a fallback: \(s)")
        XCTAssertFalse(s.contains("192.0.2.1"), "the installer's gateway must be gone: \(s)")

        try undo.undo()
        try Self.eventually("the installer's configuration back on eth7") {
            let s = state()
            return s.contains("inet 192.0.2.9/24") && s.contains("default via 192.0.2.1 dev eth7") && !s.contains("198.51.100.7")
                && !s.contains("2001:db8:7::7")
        }
        XCTAssertEqual(networkFile(), "/etc/systemd/network/20-eth7.network")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/etc/systemd/network/00-hvagent-eth7.network"))
        passed = true
    }
}
