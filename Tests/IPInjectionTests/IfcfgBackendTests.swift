import Foundation
import Testing
import HVProtocol
import TestSupport
@testable import IPInjection

/// ``IfcfgBackend`` on a temporary root with a fake live backend: the exact `ifcfg-<if>` bytes,
/// the file's undo and its restore when the live backend refuses, and the layout's detection.
/// (Applied to a real interface: IfcfgBackendNamespaceTests.)
@Suite struct IfcfgBackendTests {

    static let header = """
        # Written by hvagent for the Hyper-V host's SET_IP_INFO; replaced by the next one.
        DEVICE=eth0
        HWADDR=00:15:5D:AA:BB:CC
        TYPE=Ethernet
        ONBOOT=yes

        """

    @Test func staticIPv4() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1", dns: "10.1.2.53")
        #expect(IfcfgBackend.ifcfg(c, for: FileBackendFixture.eth0) == Self.header + """
            BOOTPROTO=none
            IPADDR0=10.1.2.3
            PREFIX0=24
            GATEWAY=10.1.2.1
            IPV6INIT=yes
            DNS1=10.1.2.53

            """)
    }

    @Test func staticIPv6() throws {
        let c = try FileBackendFixture.configuration("2001:DB8::3;2001:db8::4;2001:db8::5", "64;128;48", gateways: "2001:db8::1",
                                       dns: "2001:db8::53")
        #expect(IfcfgBackend.ifcfg(c, for: FileBackendFixture.eth0) == Self.header + """
            BOOTPROTO=none
            IPV6INIT=yes
            IPV6_AUTOCONF=no
            IPV6ADDR=2001:db8::3/64
            IPV6ADDR_SECONDARIES="2001:db8::4/128 2001:db8::5/48"
            IPV6_DEFAULTGW=2001:db8::1
            DNS1=2001:db8::53

            """)
    }

    /// Both families; the first gateway of each family is the file's (the format has one per
    /// family), DNS servers of both families numbered in the host's order.
    @Test func bothFamiliesSeveralGatewaysAndDNS() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3;2001:db8::3;10.1.3.3;2001:db8::4", "255.255.255.0;64;255.255.0.0;128",
                                       gateways: "2001:db8::1;10.1.2.1;10.1.2.2;2001:db8::2",
                                       dns: "10.1.2.53;2001:db8::53;10.1.2.54")
        #expect(IfcfgBackend.ifcfg(c, for: FileBackendFixture.eth0) == Self.header + """
            BOOTPROTO=none
            IPADDR0=10.1.2.3
            PREFIX0=24
            IPADDR1=10.1.3.3
            PREFIX1=16
            GATEWAY=10.1.2.1
            IPV6INIT=yes
            IPV6_AUTOCONF=no
            IPV6ADDR=2001:db8::3/64
            IPV6ADDR_SECONDARIES="2001:db8::4/128"
            IPV6_DEFAULTGW=2001:db8::1
            DNS1=10.1.2.53
            DNS2=2001:db8::53
            DNS3=10.1.2.54

            """)
    }

    /// initscripts sources the file with a shell: every line must be an assignment that gives the
    /// value written (the quoted secondaries one value with its spaces), and nothing else runs.
    @Test func aShellSourcingTheFileGetsTheValues() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3;2001:db8::3;2001:db8::4;2001:db8::5", "255.255.255.0;64;128;48",
                                       gateways: "10.1.2.1;2001:db8::1", dns: "10.1.2.53;2001:db8::53")
        let tree = try Tree()
        try IfcfgBackend.ifcfg(c, for: FileBackendFixture.eth0).write(toFile: tree.file, atomically: false, encoding: .utf8)
        let names = ["DEVICE", "HWADDR", "TYPE", "ONBOOT", "BOOTPROTO", "IPADDR0", "PREFIX0", "GATEWAY", "IPV6INIT",
                     "IPV6_AUTOCONF", "IPV6ADDR", "IPV6ADDR_SECONDARIES", "IPV6_DEFAULTGW", "DNS1", "DNS2"]
        let script = tree.root + "/print.sh"
        try (["set -eu", ". '\(tree.file)'"] + names.map { "printf '%s=[%s]\\n' \($0) \"$\($0)\"" })
            .joined(separator: "\n").write(toFile: script, atomically: false, encoding: .utf8)
        let result = Shell.run("env -i /bin/sh '\(script)'")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output == """
            DEVICE=[eth0]
            HWADDR=[00:15:5D:AA:BB:CC]
            TYPE=[Ethernet]
            ONBOOT=[yes]
            BOOTPROTO=[none]
            IPADDR0=[10.1.2.3]
            PREFIX0=[24]
            GATEWAY=[10.1.2.1]
            IPV6INIT=[yes]
            IPV6_AUTOCONF=[no]
            IPV6ADDR=[2001:db8::3/64]
            IPV6ADDR_SECONDARIES=[2001:db8::4/128 2001:db8::5/48]
            IPV6_DEFAULTGW=[2001:db8::1]
            DNS1=[10.1.2.53]
            DNS2=[2001:db8::53]

            """)
    }

    @Test func dhcpAloneAndWithStaticAddresses() throws {
        #expect(IfcfgBackend.ifcfg(try FileBackendFixture.configuration(dhcp: true), for: FileBackendFixture.eth0) == Self.header + """
            BOOTPROTO=dhcp
            IPV6INIT=yes

            """)
        let c = try FileBackendFixture.configuration(dhcp: true, "10.1.2.3", "255.255.255.0", dns: "10.1.2.53")
        #expect(IfcfgBackend.ifcfg(c, for: FileBackendFixture.eth0) == Self.header + """
            BOOTPROTO=dhcp
            IPADDR0=10.1.2.3
            PREFIX0=24
            IPV6INIT=yes
            DNS1=10.1.2.53

            """)
    }

    /// A root with /etc/sysconfig/network-scripts, removed at deinit.
    final class Tree {
        let root = NSTemporaryDirectory() + "ifcfg-backend-\(getpid())-\(UUID().uuidString)"
        var directory: String { root + "/etc/sysconfig/network-scripts" }
        var file: String { directory + "/ifcfg-eth0" }

        init(layout: Bool = true) throws {
            try FileManager.default.createDirectory(atPath: layout ? directory : root, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        var contents: String? { try? String(contentsOfFile: file, encoding: .utf8) }
        var mode: mode_t? {
            var st = stat()
            return stat(file, &st) == 0 ? st.st_mode & 0o7777 : nil
        }
    }

    @Test func appliesTheFileAndTheLiveConfigurationUndoPutsBothBack() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0", gateways: "10.1.2.1")
        for previous in [nil, "DEVICE=eth0\nBOOTPROTO=dhcp\nMTU=9000\n"] {
            let tree = try Tree(), kernel = FakeIPKernel(), live = FakeIPBackend(kernel, .works)
            if let previous {
                try previous.write(toFile: tree.file, atomically: false, encoding: .utf8)
                chmod(tree.file, 0o600)
            }
            let undo = try IfcfgBackend(live: live, root: tree.root).apply(c, to: FileBackendFixture.eth0)
            #expect(tree.contents == IfcfgBackend.ifcfg(c, for: FileBackendFixture.eth0))
            #expect(tree.mode == 0o644)
            #expect(live.applied.count == 1)
            #expect(kernel.current.addresses == Set(c.addresses))
            try undo.undo()
            #expect(live.undone == 1)
            #expect(kernel.current == ObservedIPState())
            #expect(tree.contents == previous)
            #expect(tree.mode == (previous == nil ? nil : 0o600))
            #expect(try FileManager.default.contentsOfDirectory(atPath: tree.directory) == (previous == nil ? [] : ["ifcfg-eth0"]))
        }
    }

    @Test func whenTheLiveBackendRefusesTheFileIsPutBack() throws {
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0")
        for previous in [nil, "DEVICE=eth0\nBOOTPROTO=dhcp\n"] {
            let tree = try Tree(), kernel = FakeIPKernel()
            if let previous { try previous.write(toFile: tree.file, atomically: false, encoding: .utf8) }
            #expect(throws: IPConfigurationError.failed("fake backend refused")) {
                _ = try IfcfgBackend(live: FakeIPBackend(kernel, .refuses), root: tree.root).apply(c, to: FileBackendFixture.eth0)
            }
            #expect(tree.contents == previous)
        }
    }

    @Test func refusesWhatItCouldNotPutBackOrCarry() throws {
        let tree = try Tree(), kernel = FakeIPKernel(), live = FakeIPBackend(kernel, .works)
        let c = try FileBackendFixture.configuration("10.1.2.3", "255.255.255.0")
        let backend = IfcfgBackend(live: live, root: tree.root)
        // A symbolic link (replacing it would turn it into a plain file) and a directory.
        try FileManager.default.createSymbolicLink(atPath: tree.file, withDestinationPath: "/etc/hostname")
        #expect { _ = try backend.apply(c, to: FileBackendFixture.eth0) } throws: { "\($0)".contains("is a symbolic link") }
        try FileManager.default.removeItem(atPath: tree.file)
        try FileManager.default.createDirectory(atPath: tree.file, withIntermediateDirectories: false)
        #expect { _ = try backend.apply(c, to: FileBackendFixture.eth0) } throws: { "\($0)".contains("not a plain file") }
        try FileManager.default.removeItem(atPath: tree.file)
        // A name a sourced shell file must not carry.
        #expect { _ = try backend.apply(c, to: InjectionInterface(name: "eth0$(x)", index: 2, mac: FileBackendFixture.eth0.mac)) }
            throws: { "\($0)".contains("is not one a configuration file can carry") }
        #expect(live.applied.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.directory) == [])
    }

    @Test func appliesWhereTheNetworkScriptsDirectoryExists() throws {
        let tree = try Tree()
        #expect(IfcfgBackend.applies(root: tree.root))
        let bare = try Tree(layout: false)
        #expect(!IfcfgBackend.applies(root: bare.root))
        try FileManager.default.createDirectory(atPath: bare.root + "/etc/sysconfig", withIntermediateDirectories: true)
        try "".write(toFile: bare.directory, atomically: false, encoding: .utf8)
        #expect(!IfcfgBackend.applies(root: bare.root), "a plain file of that name is not the layout")
    }
}
