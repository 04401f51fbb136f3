import Foundation
import Testing
import HVProtocol
import TestSupport
@testable import IPInjection

/// ``NetplanBackend`` on a temporary root: the exact YAML, netplan's own parser accepting it (when
/// netplan.io is installed), the apply / undo file handling with a stand-in `netplan` program, and
/// the detection of netplan-generated configuration on fake trees. Nothing here runs the real
/// `netplan apply` or touches /etc.
@Suite struct NetplanBackendTests {
    static let header = """
        # Written by hvagent for the Hyper-V host's SET_IP_INFO; replaced by the next one.
        network:
          version: 2
          ethernets:
            "eth0":
              match:
                macaddress: "00:15:5d:aa:bb:cc"

        """

    @Test func staticIPv4() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1", dns: "10.1.2.53")
        #expect(NetplanBackend.yaml(c, for: FileBackendFixture.eth0) == Self.header + """
                  dhcp4: false
                  addresses:
                    - "10.1.2.3/24"
                  routes:
                    - to: default
                      via: "10.1.2.1"
                  nameservers:
                    addresses:
                      - "10.1.2.53"

            """)
    }

    @Test func staticIPv6() throws {
        let c = try FileBackendFixture.configuration("2001:DB8::3;2001:db8:0:0::4", "64;128", gateways: "2001:db8::1", dns: "2001:db8::53")
        #expect(NetplanBackend.yaml(c, for: FileBackendFixture.eth0) == Self.header + """
                  dhcp4: false
                  addresses:
                    - "2001:db8::3/64"
                    - "2001:db8::4/128"
                  routes:
                    - to: default
                      via: "2001:db8::1"
                  nameservers:
                    addresses:
                      - "2001:db8::53"

            """)
    }

    /// Both families, gateways in the host's mixed order (IPv4 first in the file, each family's
    /// second one a fallback with a metric), several DNS servers in the host's order.
    @Test func bothFamiliesSeveralGatewaysAndDNS() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3;2001:db8::3;10.1.3.3", "255.255.255.0;64;255.255.0.0",
                                       gateways: "2001:db8::1;10.1.2.1;2001:db8::2;10.1.2.2;10.1.2.254",
                                       dns: "10.1.2.53;2001:db8::53;10.1.2.54")
        #expect(NetplanBackend.yaml(c, for: FileBackendFixture.eth0) == Self.header + """
                  dhcp4: false
                  addresses:
                    - "10.1.2.3/24"
                    - "2001:db8::3/64"
                    - "10.1.3.3/16"
                  routes:
                    - to: default
                      via: "10.1.2.1"
                    - to: default
                      via: "10.1.2.2"
                      metric: 1
                    - to: default
                      via: "10.1.2.254"
                      metric: 2
                    - to: default
                      via: "2001:db8::1"
                    - to: default
                      via: "2001:db8::2"
                      metric: 1025
                  nameservers:
                    addresses:
                      - "10.1.2.53"
                      - "2001:db8::53"
                      - "10.1.2.54"

            """)
    }

    @Test func dhcpAloneAndWithStaticAddresses() throws {
        #expect(NetplanBackend.yaml(try FileBackendFixture.configuration(dhcp: true), for: FileBackendFixture.eth0) == Self.header + """
                  dhcp4: true

            """)
        let c = try FileBackendFixture.configuration(dhcp: true, "10.1.2.3", "255.255.255.0", dns: "10.1.2.53")
        #expect(NetplanBackend.yaml(c, for: FileBackendFixture.eth0) == Self.header + """
                  dhcp4: true
                  addresses:
                    - "10.1.2.3/24"
                  nameservers:
                    addresses:
                      - "10.1.2.53"

            """)
    }

    /// A root with /etc/netplan and a stand-in `netplan` that logs each call, fails (with a message
    /// on stderr) while the file lists 203.0.113.7, and hangs while it lists 198.51.100.99.
    final class Tree {
        let root = NSTemporaryDirectory() + "netplan-backend-\(getpid())-\(UUID().uuidString)"
        var netplanDirectory: String { root + "/etc/netplan" }
        var file: String { netplanDirectory + "/90-hvagent-eth0.yaml" }
        var program: String { root + "/netplan" }

        init() throws {
            try FileManager.default.createDirectory(atPath: netplanDirectory, withIntermediateDirectories: true)
            try """
                #!/bin/sh
                echo "$*" >> '\(root)/calls'
                if grep -qs 203.0.113.7 '\(file)'; then echo "netplan: first line" >&2; echo "Error in network definition: bad gateway" >&2; exit 1; fi
                if grep -qs 198.51.100.99 '\(file)'; then exec sleep 30; fi
                exit 0

                """.write(toFile: program, atomically: false, encoding: .utf8)
            chmod(program, 0o755)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        var calls: [String] {
            ((try? String(contentsOfFile: root + "/calls", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        var contents: String? { try? String(contentsOfFile: file, encoding: .utf8) }
        var mode: mode_t? {
            var st = stat()
            return stat(file, &st) == 0 ? st.st_mode & 0o7777 : nil
        }

        func backend(timeout: Duration = .seconds(5)) -> NetplanBackend {
            NetplanBackend(root: root, netplan: program, applyTimeout: timeout)
        }
    }

    @Test func applyWritesTheFilePrivateAndRunsNetplanApplyUndoRemovesIt() throws {
        let tree = try Tree()
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1")
        let undo = try tree.backend().apply(c, to: FileBackendFixture.eth0)
        #expect(tree.contents == NetplanBackend.yaml(c, for: FileBackendFixture.eth0))
        #expect(tree.mode == 0o600)
        #expect(tree.calls == ["apply"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.netplanDirectory) == ["90-hvagent-eth0.yaml"])
        try undo.undo()
        #expect(tree.contents == nil, "there was no file before: the undo removes it")
        #expect(tree.calls == ["apply", "apply"])
    }

    @Test func undoPutsThePreviousBytesAndModeBack() throws {
        let tree = try Tree()
        let previous = "# an earlier hvagent file, or the admin's\nnetwork: {version: 2}\n"
        try previous.write(toFile: tree.file, atomically: false, encoding: .utf8)
        chmod(tree.file, 0o640)
        let undo = try tree.backend().apply(try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0"), to: FileBackendFixture.eth0)
        #expect(tree.contents != previous)
        try undo.undo()
        #expect(tree.contents == previous)
        #expect(tree.mode == 0o640)
        #expect(tree.calls == ["apply", "apply"])
    }

    @Test func applyFailureIsAnErrorWithNetplansWordsAndTheFileIsRestored() throws {
        let tree = try Tree()
        let previous = "network: {version: 2}\n"
        try previous.write(toFile: tree.file, atomically: false, encoding: .utf8)
        let c = try FileBackendFixture.configuration("203.0.113.7", "255.255.255.0")
        #expect {
            _ = try tree.backend().apply(c, to: FileBackendFixture.eth0)
        } throws: { error in
            let message = "\(error)"
            return message.contains("apply exited with status 1: netplan: first line / Error in network definition: bad gateway")
                && message.contains("previous 90-hvagent-eth0.yaml restored and applied")
        }
        #expect(tree.contents == previous)
        #expect(tree.calls == ["apply", "apply"], "applied again after the restore")
    }

    @Test func aHangingApplyIsKilledAtItsBoundAndTheFileRestored() throws {
        let tree = try Tree()
        let start = ContinuousClock.now
        #expect {
            _ = try tree.backend(timeout: .milliseconds(300)).apply(try FileBackendFixture.configuration("198.51.100.99", "255.255.255.0"), to: FileBackendFixture.eth0)
        } throws: { "\($0)".contains("apply did not finish within 0.3 seconds; killed") }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(tree.contents == nil)
    }

    @Test func missingProgramOrDirectoryOrOddNameChangesNothing() throws {
        let tree = try Tree()
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0")
        #expect { _ = try NetplanBackend(root: tree.root, netplan: tree.root + "/none").apply(c, to: FileBackendFixture.eth0) }
            throws: { "\($0)".contains("cannot run") }
        #expect(tree.contents == nil)
        #expect { _ = try NetplanBackend(root: tree.root + "/nowhere", netplan: tree.program).apply(c, to: FileBackendFixture.eth0) }
            throws: { "\($0)".contains("nowhere/etc/netplan") }
        for odd in [InjectionInterface(name: "e\"th0", index: 2, mac: FileBackendFixture.eth0.mac),
                    InjectionInterface(name: "eth0", index: 2, mac: "00:15:5d:aa:bb")] {
            #expect(throws: IPConfigurationError.self) { _ = try tree.backend().apply(c, to: odd) }
        }
        #expect(tree.calls == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.netplanDirectory) == [])
    }

    @Test func detectsWhatNetplanGenerates() throws {
        let eth1 = InjectionInterface(name: "eth1", index: 3, mac: "00:15:5d:00:00:01")
        let cloudInit = "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n"
        // (files, whether eth0's configuration is netplan's, whether eth1's is)
        let trees: [([String: String], Bool, Bool)] = [
            ([:], false, false),
            (["/run/systemd/network/10-netplan-eth0.network": "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n"], true, false),
            (["/run/systemd/network/10-netplan-id0.network": "[Match]\nPermanentMACAddress=00:15:5D:AA:BB:CC\n"], true, false),
            (["/run/systemd/network/10-netplan-all.network": "[Match]\nName=eth1 eth0\n"], true, true),
            // systemd-networkd configured by hand, NetworkManager's own profile: not netplan's.
            (["/run/systemd/network/20-wired.network": "[Match]\nName=eth0\n"], false, false),
            (["/run/NetworkManager/system-connections/eth0.nmconnection": "[connection]\ninterface-name=eth0\n"], false, false),
            (["/run/NetworkManager/system-connections/netplan-eth0.nmconnection": "[connection]\ninterface-name=eth0\n"], true, false),
            (["/run/NetworkManager/system-connections/netplan-id0.nmconnection": "[ethernet]\nmac-address=00:15:5D:AA:BB:CC\n"], true, false),
            (["/etc/netplan/50-cloud-init.yaml": cloudInit], true, false),
            (["/run/netplan/50-cloud-init.yaml": cloudInit], true, false),
            (["/lib/netplan/50-cloud-init.yaml": cloudInit], true, false),
            (["/etc/netplan/01-x.yaml": "network:\n  ethernets:\n    lan:\n      match: {macaddress: \"00:15:5D:AA:BB:CC\"}\n"], true, false),
            // eth01 and eth0.5 are other interfaces; a file not ending in .yaml is not netplan's.
            (["/etc/netplan/01-x.yaml": "network:\n  ethernets:\n    eth01: {dhcp4: true}\n  vlans:\n    eth0.5: {id: 5}\n",
              "/etc/netplan/eth0.yaml.bak": "eth0\n"], false, false),
        ]
        for (files, eth0Expected, eth1Expected) in trees {
            let root = NSTemporaryDirectory() + "netplan-generates-\(getpid())-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: root) }
            for (path, text) in files {
                try FileManager.default.createDirectory(atPath: root + (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try text.write(toFile: root + path, atomically: false, encoding: .utf8)
            }
            #expect(NetplanBackend.generates(FileBackendFixture.eth0, root: root) == eth0Expected, "\(files)")
            #expect(NetplanBackend.generates(eth1, root: root) == eth1Expected, "\(files)")
        }
    }

    static let netplanProgram = "/usr/sbin/netplan"
    static var netplanInstalled: Bool { FileManager.default.isExecutableFile(atPath: netplanProgram) }

    /// netplan's own parser (netplan.io 0.106 in Debian 12) takes each file and renders the
    /// addresses, gateways and name servers into the systemd-networkd file it generates.
    @Test(.enabled(if: netplanInstalled, "netplan.io is not installed (scripts/setup.sh installs it)"))
    func netplanGenerateAcceptsTheFiles() throws {
        let cases: [(IPConfiguration, [String])] = [
            (try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1", dns: "10.1.2.53"),
             ["Address=10.1.2.3/24", "Gateway=10.1.2.1", "DNS=10.1.2.53", "PermanentMACAddress=00:15:5d:aa:bb:cc"]),
            (try FileBackendFixture.configuration("2001:db8::3", "64", gateways: "2001:db8::1", dns: "2001:db8::53"),
             ["Address=2001:db8::3/64", "Destination=::/0\nGateway=2001:db8::1", "DNS=2001:db8::53"]),
            (try FileBackendFixture.configuration("10.1.2.3;2001:db8::3;10.1.3.3", "255.255.255.0;64;255.255.0.0",
                                    gateways: "2001:db8::1;10.1.2.1;2001:db8::2;10.1.2.2", dns: "10.1.2.53;2001:db8::53"),
             ["Address=10.1.2.3/24", "Address=2001:db8::3/64", "Address=10.1.3.3/16",
              "Destination=0.0.0.0/0\nGateway=10.1.2.1\n", "Gateway=10.1.2.2\nMetric=1\n",
              "Destination=::/0\nGateway=2001:db8::1\n", "Gateway=2001:db8::2\nMetric=1025\n",
              "DNS=10.1.2.53\nDNS=2001:db8::53"]),
            (try FileBackendFixture.configuration(dhcp: true, "10.1.2.3", "255.255.255.0"), ["DHCP=ipv4", "Address=10.1.2.3/24"]),
        ]
        for (c, expected) in cases {
            let (complaints, generated) = try Self.generate(["90-hvagent-eth0.yaml": NetplanBackend.yaml(c, for: FileBackendFixture.eth0)])
            #expect(complaints.isEmpty, "netplan complained (a warning, a deprecated key): \(complaints)")
            for line in expected {
                #expect(generated.contains(line), "\(line) missing from:\n\(generated)")
            }
            if !c.dhcpV4 { #expect(!generated.contains("DHCP="), "\(generated)") }
        }
    }

    /// Runs `netplan generate` on a temporary root holding `files` in /etc/netplan (0600): what it
    /// printed, and the one configuration it generated for eth0 — a systemd-networkd file, or with
    /// `renderer: NetworkManager` a keyfile (there must be exactly one, `<renderer's
    /// directory>/<expected>`). Also checks that ``NetplanBackend/generates(_:root:)`` sees it.
    static func generate(_ files: [String: String], expecting expected: String = "systemd/network/10-netplan-eth0.network")
        throws -> (complaints: String, generated: String) {
        let root = NSTemporaryDirectory() + "netplan-generate-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc/netplan", withIntermediateDirectories: true)
        for (name, text) in files {
            try ConfigurationFileWriter.write(text, directory: root + "/etc/netplan", name: name, mode: 0o600)
        }
        let result = Shell.run("'\(netplanProgram)' generate --root-dir '\(root)' 2>&1")
        guard result.status == 0 else { throw Shell.Failure(description: "netplan generate failed: \(result.output)") }
        let outputs = ["systemd/network", "NetworkManager/system-connections"].flatMap { directory in
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/run/" + directory)) ?? [])
                .filter { $0.hasSuffix(".network") || $0.hasSuffix(".nmconnection") }.map { directory + "/" + $0 }
        }
        #expect(outputs == [expected])
        #expect(NetplanBackend.generates(FileBackendFixture.eth0, root: root), "netplan's output must count as netplan generating eth0's configuration")
        return (result.output, try String(contentsOfFile: root + "/run/" + expected, encoding: .utf8))
    }

    /// With NetworkManager as netplan's renderer (Ubuntu desktops) the same file becomes a keyfile
    /// with the addresses, the default routes (the fallback with its metric) and the DNS server.
    @Test(.enabled(if: netplanInstalled, "netplan.io is not installed (scripts/setup.sh installs it)"))
    func netplanRendersTheFileForNetworkManagerToo() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3;2001:db8::3", "255.255.255.0;64", gateways: "10.1.2.1;2001:db8::1;10.1.2.2",
                                       dns: "10.1.2.53")
        let (complaints, generated) = try Self.generate(
            ["01-network-manager-all.yaml": "network:\n  version: 2\n  renderer: NetworkManager\n",
             NetplanBackend.fileName(FileBackendFixture.eth0): NetplanBackend.yaml(c, for: FileBackendFixture.eth0)],
            expecting: "NetworkManager/system-connections/netplan-eth0.nmconnection")
        #expect(complaints.isEmpty, "\(complaints)")
        for line in ["mac-address=00:15:5d:aa:bb:cc", "[ipv4]\nmethod=manual\naddress1=10.1.2.3/24\ndns=10.1.2.53;",
                     "route1=0.0.0.0/0,10.1.2.1\nroute2=0.0.0.0/0,10.1.2.2,1\n", "[ipv6]\nmethod=manual\naddress1=2001:db8::3/64",
                     "route1=::/0,2001:db8::1\n"] {
            #expect(generated.contains(line), "\(line) missing from:\n\(generated)")
        }
    }

    /// The usual Hyper-V guest: cloud-init's (or the installer's) DHCP definition under the
    /// interface's name. hvagent's file, read after it, turns its DHCP off and adds the static
    /// configuration in the one networkd file netplan generates for that interface.
    @Test(.enabled(if: netplanInstalled, "netplan.io is not installed (scripts/setup.sh installs it)"))
    func amendsTheInstallersDefinition() throws {
        let installers = """
            network:
              version: 2
              ethernets:
                eth0:
                  match:
                    macaddress: "00:15:5d:aa:bb:cc"
                  set-name: eth0
                  dhcp4: true

            """
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1", dns: "10.1.2.53")
        let (complaints, generated) = try Self.generate(["50-cloud-init.yaml": installers,
                                                         NetplanBackend.fileName(FileBackendFixture.eth0): NetplanBackend.yaml(c, for: FileBackendFixture.eth0)])
        #expect(complaints.isEmpty, "\(complaints)")
        for line in ["Name=eth0", "Address=10.1.2.3/24", "Gateway=10.1.2.1", "DNS=10.1.2.53"] {
            #expect(generated.contains(line), "\(line) missing from:\n\(generated)")
        }
        #expect(!generated.contains("DHCP="), "hvagent's dhcp4: false must win: \(generated)")
    }
}
