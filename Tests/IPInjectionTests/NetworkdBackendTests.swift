import Foundation
import Synchronization
import Testing
import HVProtocol
import SystemBus
import TestSupport
@testable import IPInjection

/// ``NetworkdBackend`` on a temporary root: the exact `.network` bytes, the apply / undo file
/// handling against a stand-in networkd on a private D-Bus bus (a real `dbus-daemon`, which checks
/// every message), the refusal when an earlier file would win, and `manages` on fake state trees.
/// Nothing here talks to the system bus or touches /etc.
@Suite struct NetworkdBackendTests {

    static let header = """
        # Written by hvagent for the Hyper-V host's SET_IP_INFO; replaced by the next one.
        [Match]
        MACAddress=00:15:5d:aa:bb:cc
        Name=eth0

        [Network]

        """

    @Test func staticIPv4() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1", dns: "10.1.2.53")
        #expect(NetworkdBackend.network(c, for: FileBackendFixture.eth0) == Self.header + """
            DHCP=no
            Address=10.1.2.3/24
            Gateway=10.1.2.1
            DNS=10.1.2.53

            """)
    }

    @Test func staticIPv6() throws {
        let c = try FileBackendFixture.configuration("2001:DB8::3;2001:db8:0:0::4", "64;128", gateways: "2001:db8::1", dns: "2001:db8::53")
        #expect(NetworkdBackend.network(c, for: FileBackendFixture.eth0) == Self.header + """
            DHCP=no
            IPv6AcceptRA=no
            Address=2001:db8::3/64
            Address=2001:db8::4/128
            Gateway=2001:db8::1
            DNS=2001:db8::53

            """)
    }

    /// Both families, gateways in the host's mixed order (the first of each family in [Network],
    /// the others fallbacks with a metric), several DNS servers in the host's order.
    @Test func bothFamiliesSeveralGatewaysAndDNS() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3;2001:db8::3;10.1.3.3", "255.255.255.0;64;255.255.0.0",
                                       gateways: "2001:db8::1;10.1.2.1;2001:db8::2;10.1.2.2;10.1.2.254",
                                       dns: "10.1.2.53;2001:db8::53;10.1.2.54")
        #expect(NetworkdBackend.network(c, for: FileBackendFixture.eth0) == Self.header + """
            DHCP=no
            IPv6AcceptRA=no
            Address=10.1.2.3/24
            Address=2001:db8::3/64
            Address=10.1.3.3/16
            Gateway=10.1.2.1
            Gateway=2001:db8::1
            DNS=10.1.2.53
            DNS=2001:db8::53
            DNS=10.1.2.54

            [Route]
            Gateway=10.1.2.2
            Metric=1

            [Route]
            Gateway=10.1.2.254
            Metric=2

            [Route]
            Gateway=2001:db8::2
            Metric=1025

            """)
    }

    @Test func dhcpAloneAndWithStaticAddresses() throws {
        #expect(NetworkdBackend.network(try FileBackendFixture.configuration(dhcp: true), for: FileBackendFixture.eth0) == Self.header + "DHCP=ipv4\n")
        let c = try FileBackendFixture.configuration(dhcp: true, "10.1.2.3", "255.255.255.0", dns: "10.1.2.53")
        #expect(NetworkdBackend.network(c, for: FileBackendFixture.eth0) == Self.header + """
            DHCP=ipv4
            Address=10.1.2.3/24
            DNS=10.1.2.53

            """)
    }

    /// A root with /etc/systemd/network and /run/systemd/netif, removed at deinit.
    final class Tree {
        let root = NSTemporaryDirectory() + "networkd-backend-\(getpid())-\(UUID().uuidString)"
        var networkDirectory: String { root + "/etc/systemd/network" }
        var file: String { networkDirectory + "/00-hvagent-eth0.network" }

        init() throws {
            for directory in [networkDirectory, root + "/run/systemd/netif/links"] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        var contents: String? { try? String(contentsOfFile: file, encoding: .utf8) }
        var mode: mode_t? {
            var st = stat()
            return stat(file, &st) == 0 ? st.st_mode & 0o7777 : nil
        }

        func write(_ text: String, to path: String) throws {
            try FileManager.default.createDirectory(atPath: root + (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: root + path, atomically: false, encoding: .utf8)
        }
    }

    /// systemd-networkd as the backend sees it: a connection on the bus that owns
    /// `org.freedesktop.network1` and answers `Reload` and `ReconfigureLink` on a thread of its
    /// own, recording each call with the bytes of the watched file at that moment (so a test sees
    /// that the file was written before networkd was asked to read it). `refuse` picks the calls
    /// answered with an error reply (its name and message).
    final class FakeNetworkd: Sendable {
        struct Call: Equatable, Sendable {
            var member: String
            var body: [DBusValue]
            /// The watched file's contents when the call arrived (nil: there was none).
            var file: String?
        }

        /// What the service's thread records and the test reads.
        final class Record: Sendable {
            let calls = Mutex<[Call]>([])
        }

        private let record = Record()
        private let service: FakeBusService

        init(bus: PrivateBus, watching file: String,
             refuse: @escaping @Sendable (Call) -> (name: String, message: String)? = { _ in nil }) throws {
            let record = record
            service = try FakeBusService(bus: bus, name: "org.freedesktop.network1") { request in
                let call = Call(member: request.member, body: request.body, file: try? String(contentsOfFile: file, encoding: .utf8))
                record.calls.withLock { $0.append(call) }
                guard request.interface == "org.freedesktop.network1.Manager", request.path == "/org/freedesktop/network1" else {
                    return .error("org.freedesktop.DBus.Error.UnknownObject", request.path)
                }
                if let (name, text) = refuse(call) { return .error(name, text) }
                return .reply([])
            }
        }

        var calls: [Call] { record.calls.withLock { $0 } }
        var members: [String] { calls.map(\.member) }

        /// Stops the service's thread (its connection closes with it).
        func stop() { service.stop() }
    }

    @Test func applyWritesTheFileThenReloadsThenReconfiguresTheLinkUndoRemovesIt() throws {
        guard let bus = try PrivateBus() else { return }
        let tree = try Tree()
        let networkd = try FakeNetworkd(bus: bus, watching: tree.file)
        defer { networkd.stop() }
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1")
        let backend = NetworkdBackend(root: tree.root, busPath: bus.socketPath)
        #expect(backend.name == "systemd-networkd")
        let undo = try backend.apply(c, to: FileBackendFixture.eth0)
        let expected = NetworkdBackend.network(c, for: FileBackendFixture.eth0)
        #expect(tree.contents == expected)
        #expect(tree.mode == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.networkDirectory) == ["00-hvagent-eth0.network"])
        #expect(networkd.calls == [FakeNetworkd.Call(member: "Reload", body: [], file: expected),
                                   FakeNetworkd.Call(member: "ReconfigureLink", body: [.int32(2)], file: expected)])
        try undo.undo()
        #expect(tree.contents == nil, "there was no file before: the undo removes it")
        #expect(Array(networkd.calls.dropFirst(2)) == [FakeNetworkd.Call(member: "Reload", body: [], file: nil),
                                                FakeNetworkd.Call(member: "ReconfigureLink", body: [.int32(2)], file: nil)])
    }

    @Test func undoPutsThePreviousBytesAndModeBack() throws {
        guard let bus = try PrivateBus() else { return }
        let tree = try Tree()
        let networkd = try FakeNetworkd(bus: bus, watching: tree.file)
        defer { networkd.stop() }
        let previous = "# an earlier hvagent file\n[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n"
        try previous.write(toFile: tree.file, atomically: false, encoding: .utf8)
        chmod(tree.file, 0o640)
        let undo = try NetworkdBackend(root: tree.root, busPath: bus.socketPath)
            .apply(try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0"), to: FileBackendFixture.eth0)
        #expect(tree.contents != previous)
        try undo.undo()
        #expect(tree.contents == previous)
        #expect(tree.mode == 0o640)
        #expect(networkd.members == ["Reload", "ReconfigureLink", "Reload", "ReconfigureLink"])
        #expect(networkd.calls.last?.file == previous, "networkd reloaded after the previous file was back")
    }

    /// networkd (or polkit for it) refuses the reconfiguration: the error carries the bus error's
    /// name and message, the previous file is back, and networkd was reloaded with it.
    @Test func anErrorReplyIsThrownWithItsNameAndTheFileRestored() throws {
        guard let bus = try PrivateBus() else { return }
        let tree = try Tree()
        let networkd = try FakeNetworkd(bus: bus, watching: tree.file) { call in
            call.member == "ReconfigureLink" && (call.file ?? "").contains("203.0.113.7")
                ? ("org.freedesktop.PolicyKit1.Error.NotAuthorized", "Interactive authentication required.") : nil
        }
        defer { networkd.stop() }
        let previous = "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n"
        try previous.write(toFile: tree.file, atomically: false, encoding: .utf8)
        #expect {
            _ = try NetworkdBackend(root: tree.root, busPath: bus.socketPath)
                .apply(try FileBackendFixture.configuration("203.0.113.7", "255.255.255.0"), to: FileBackendFixture.eth0)
        } throws: { error in
            error as? IPConfigurationError == .failed(
                "systemd-networkd: org.freedesktop.PolicyKit1.Error.NotAuthorized: Interactive authentication required.; "
                    + "previous 00-hvagent-eth0.network restored and networkd reloaded")
        }
        #expect(tree.contents == previous)
        #expect(networkd.members == ["Reload", "ReconfigureLink", "Reload", "ReconfigureLink"])
        #expect(networkd.calls.last?.file == previous)
    }

    /// networkd not running: the bus itself answers ServiceUnknown (nothing owns the name); no
    /// bus at all is a connection error. Either way the file is gone again.
    @Test func noNetworkdOrNoBusIsAnErrorAndTheFileRestored() throws {
        guard let bus = try PrivateBus() else { return }
        let tree = try Tree()
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0")
        #expect {
            _ = try NetworkdBackend(root: tree.root, busPath: bus.socketPath).apply(c, to: FileBackendFixture.eth0)
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("systemd-networkd: org.freedesktop.DBus.Error.ServiceUnknown")
                && message.contains("previous 00-hvagent-eth0.network restored, but reloading networkd again failed too")
        }
        #expect(tree.contents == nil)
        #expect {
            _ = try NetworkdBackend(root: tree.root, busPath: tree.root + "/no-bus", busTimeout: .milliseconds(300)).apply(c, to: FileBackendFixture.eth0)
        } throws: { "\($0)".hasPrefix("systemd-networkd: D-Bus: connect") }
        #expect(tree.contents == nil)
    }

    /// A networkd that never answers: the apply's reload and the restore's reload are each cut at
    /// the bus bound, so the host's reply is not held past it.
    @Test func aSilentNetworkdIsBoundedAndTheFileRestored() throws {
        guard let bus = try PrivateBus() else { return }
        let tree = try Tree()
        let silent = try DBusConnection(path: bus.socketPath)
        _ = try silent.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                            member: "RequestName", body: [.string("org.freedesktop.network1"), .uint32(4)])
        let start = ContinuousClock.now
        #expect {
            _ = try NetworkdBackend(root: tree.root, busPath: bus.socketPath, busTimeout: .milliseconds(300))
                .apply(try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0"), to: FileBackendFixture.eth0)
        } throws: { error in
            "\(error)".hasPrefix("systemd-networkd: D-Bus: no reply to org.freedesktop.network1.Manager.Reload in time; previous")
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(600) && elapsed < .seconds(3), "\(elapsed)")
        #expect(tree.contents == nil)
    }

    /// The file networkd applies today decides: one that sorts before hvagent's would still win,
    /// so nothing is written and networkd is not asked; a later one (netplan's, an installer's)
    /// or hvagent's own from an earlier request is replaced.
    @Test func anEarlierFileThatWouldStillWinIsRefused() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0")
        for (current, refused) in [("/etc/systemd/network/00-admin.network", true), ("/run/systemd/network/0-x.network", true),
                                   ("/run/systemd/network/10-netplan-eth0.network", false),
                                   ("/etc/systemd/network/00-hvagent-eth0.network", false),
                                   ("/lib/systemd/network/80-ethernet.network", false)] {
            // A bus each: the next fake can own the name without racing the last one's disconnect.
            guard let bus = try PrivateBus() else { return }
            let tree = try Tree()
            let networkd = try FakeNetworkd(bus: bus, watching: tree.file)
            try tree.write("# This is private data. Do not parse.\nADMIN_STATE=configured\nNETWORK_FILE=\(current)\n",
                           to: "/run/systemd/netif/links/2")
            let backend = NetworkdBackend(root: tree.root, busPath: bus.socketPath)
            if refused {
                #expect(throws: IPConfigurationError.failed(
                    "systemd-networkd configures eth0 from \(current), which sorts before 00-hvagent-eth0.network "
                        + "and would still win over it; not applying (docs/PROTOCOL.md §7.19)")) { _ = try backend.apply(c, to: FileBackendFixture.eth0) }
                #expect(tree.contents == nil)
                #expect(networkd.members == [])
            } else {
                _ = try backend.apply(c, to: FileBackendFixture.eth0)
                #expect(tree.contents == NetworkdBackend.network(c, for: FileBackendFixture.eth0))
                #expect(networkd.members == ["Reload", "ReconfigureLink"])
            }
            networkd.stop()
        }
    }

    @Test func oddNamesOrAMissingDirectoryChangeNothing() throws {
        guard let bus = try PrivateBus() else { return }
        let tree = try Tree()
        let networkd = try FakeNetworkd(bus: bus, watching: tree.file)
        defer { networkd.stop() }
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0")
        for odd in [InjectionInterface(name: "e\"th0", index: 2, mac: FileBackendFixture.eth0.mac), InjectionInterface(name: "eth*", index: 2, mac: FileBackendFixture.eth0.mac),
                    InjectionInterface(name: "../eth0", index: 2, mac: FileBackendFixture.eth0.mac),
                    InjectionInterface(name: "eth0", index: 2, mac: "00:15:5d:aa:bb"), InjectionInterface(name: "eth0", index: 2, mac: "00:15:5d:aa:bb:c\n")] {
            #expect(throws: IPConfigurationError.self) {
                _ = try NetworkdBackend(root: tree.root, busPath: bus.socketPath).apply(c, to: odd)
            }
        }
        #expect { _ = try NetworkdBackend(root: tree.root + "/nowhere", busPath: bus.socketPath).apply(c, to: FileBackendFixture.eth0) }
            throws: { "\($0)".contains("nowhere/etc/systemd/network") }
        #expect(networkd.members == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.networkDirectory) == [])
    }

    /// What systemd 252's networkd writes: the manager's state file once it runs, and per link
    /// `ADMIN_STATE=` with `NETWORK_FILE=` when a .network file matched (`link_save()`).
    @Test func managesOnlyLinksNetworkdConfigures() throws {
        let managerState = "# This is private data. Do not parse.\nOPER_STATE=routable\nCARRIER_STATE=carrier\n"
        let configured = "# This is private data. Do not parse.\nADMIN_STATE=configured\nOPER_STATE=routable\n"
            + "REQUIRED_FOR_ONLINE=yes\nNETWORK_FILE=/run/systemd/network/10-netplan-eth0.network\n"
        let unmanaged = "# This is private data. Do not parse.\nADMIN_STATE=unmanaged\nOPER_STATE=off\nCARRIER_STATE=off\n"
        // (files, whether networkd manages eth0 (ifindex 2))
        let trees: [([String: String], Bool)] = [
            ([:], false),
            (["/run/systemd/netif/links/2": configured], false), // the directories exist (tmpfiles.d) but networkd never ran
            (["/run/systemd/netif/state": managerState], false), // no state file for the link
            (["/run/systemd/netif/state": managerState, "/run/systemd/netif/links/2": configured], true),
            (["/run/systemd/netif/state": managerState, "/run/systemd/netif/links/2": unmanaged], false),
            (["/run/systemd/netif/state": managerState, "/run/systemd/netif/links/3": configured], false), // another link
            (["/run/systemd/netif/state": managerState,
              "/run/systemd/netif/links/2": "ADMIN_STATE=pending\nOPER_STATE=off\n"], false), // not decided yet
            (["/run/systemd/netif/state": managerState,
              "/run/systemd/netif/links/2": "ADMIN_STATE=configuring\nNETWORK_FILE=/etc/systemd/network/00-hvagent-eth0.network\n"], true),
            (["/run/systemd/netif/state": managerState, "/run/systemd/netif/links/2": "ADMIN_STATE=configured\nNETWORK_FILE=\n"], false),
        ]
        for (files, expected) in trees {
            let tree = try Tree()
            for (path, text) in files { try tree.write(text, to: path) }
            #expect(NetworkdBackend.manages(FileBackendFixture.eth0, root: tree.root) == expected, "\(files)")
        }
    }
}
