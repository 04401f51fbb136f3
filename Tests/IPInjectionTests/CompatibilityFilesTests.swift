import Testing
@testable import IPInjection

/// The two files, checked against the bytes Linux 6.12's hv_kvp_daemon writes for the same request
/// (`kvp_set_ip_info()`; the same cases run against that daemon in Tests/kvp-setip).
@Suite struct CompatibilityFilesTests {
    let mac = "00:15:5d:01:02:03"

    @Test func staticIPv4WithGatewayAndDNS() throws {
        let s = HostIPSettings(adapterID: "{x}", addresses: "10.0.0.5;10.0.0.6", subnets: "255.255.255.0;255.255.0.0",
                               gateways: "10.0.0.1", dnsServers: "10.0.0.2;10.0.0.3")
        let files = try CompatibilityFiles(interface: "eth0", mac: mac, settings: s)
        #expect(files.ifcfg == """
            HWADDR=00:15:5D:01:02:03
            DEVICE=eth0
            BOOTPROTO=none
            IPADDR0=10.0.0.5
            IPADDR1=10.0.0.6
            NETMASK0=255.255.255.0
            NETMASK1=255.255.0.0
            GATEWAY=10.0.0.1
            DNS1=10.0.0.2
            DNS2=10.0.0.3

            """)
        #expect(files.keyfile == """

            [connection]
            interface-name=eth0

            [ethernet]
            mac-address=00:15:5D:01:02:03

            [ipv4]
            address1=10.0.0.5/24
            address2=10.0.0.6/16
            method=manual
            gateway=10.0.0.1
            dns=10.0.0.2,10.0.0.3

            [ipv6]
            method=auto

            """)
    }

    @Test func mixedFamiliesCountSeparatelyAndIPv6IsExpandedInIfcfgOnly() throws {
        let s = HostIPSettings(adapterID: "{x}", addresses: "2001:db8::5;10.0.0.5;fe80::1",
                               subnets: "64;255.255.255.128;10",
                               gateways: "10.0.0.1;2001:db8::1;10.0.0.254;fe80::9",
                               dnsServers: "2001:db8::53;10.0.0.2")
        let files = try CompatibilityFiles(interface: "eth1", mac: mac, settings: s)
        #expect(files.ifcfg == """
            HWADDR=00:15:5D:01:02:03
            DEVICE=eth1
            BOOTPROTO=none
            IPV6ADDR=2001:0db8:0000:0000:0000:0000:0000:0005
            IPADDR0=10.0.0.5
            IPV6ADDR_1=fe80:0000:0000:0000:0000:0000:0000:0001
            IPV6NETMASK=64
            NETMASK0=255.255.255.128
            IPV6NETMASK_1=10
            GATEWAY=10.0.0.1
            IPV6_DEFAULTGW=2001:0db8:0000:0000:0000:0000:0000:0001
            GATEWAY1=10.0.0.254
            IPV6_DEFAULTGW_1=fe80:0000:0000:0000:0000:0000:0000:0009
            DNS1=2001:0db8:0000:0000:0000:0000:0000:0053
            DNS2=10.0.0.2

            """)
        #expect(files.keyfile.hasSuffix("""

            [ipv4]
            address1=10.0.0.5/25
            method=manual
            gateway=10.0.0.1,10.0.0.254
            dns=10.0.0.2

            [ipv6]
            address1=2001:db8::5/64
            address2=fe80::1/10
            method=manual
            gateway=2001:db8::1,fe80::9
            dns=2001:db8::53

            """))
    }

    @Test func dhcpWithoutAddresses() throws {
        let files = try CompatibilityFiles(interface: "eth0", mac: mac, settings: HostIPSettings(adapterID: "{x}", dhcpEnabled: true))
        #expect(files.ifcfg == "HWADDR=00:15:5D:01:02:03\nDEVICE=eth0\nBOOTPROTO=dhcp\n")
        #expect(files.keyfile.hasSuffix("\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n"))
    }

    @Test func noDHCPAndNoIPv4IsDisabled() throws {
        let s = HostIPSettings(adapterID: "{x}", addresses: "2001:db8::5", subnets: "64")
        let files = try CompatibilityFiles(interface: "eth0", mac: mac, settings: s)
        #expect(files.keyfile.hasSuffix("\n[ipv4]\nmethod=disabled\n\n[ipv6]\naddress1=2001:db8::5/64\nmethod=manual\n"))
    }

    @Test func upstreamTokenRules() throws {
        // Leading spaces dropped; an empty token ends the list (the third address is never read).
        let s = HostIPSettings(adapterID: "{x}", addresses: "  10.0.0.5;;10.0.0.7", subnets: " 255.255.255.0",
                               gateways: "", dnsServers: "10.0.0.2;")
        let files = try CompatibilityFiles(interface: "eth0", mac: mac, settings: s)
        #expect(files.ifcfg.contains("IPADDR0=10.0.0.5\nNETMASK0=255.255.255.0\nDNS1=10.0.0.2\n"))
        #expect(!files.ifcfg.contains("10.0.0.7"))
        #expect(files.keyfile.contains("address1=10.0.0.5/24\nmethod=manual\ndns=10.0.0.2\n"))
    }

    @Test func upstreamLenienciesKeptInTheBytes() throws {
        // A non-contiguous mask counts its leading ones; an IPv6 prefix is atoi()'d; an address
        // without a subnet entry is left out of the keyfile (the shorter list ends the pairing).
        let s = HostIPSettings(adapterID: "{x}", addresses: "10.0.0.5;2001:db8::5;10.0.0.9",
                               subnets: "255.0.255.0;/64")
        let files = try CompatibilityFiles(interface: "eth0", mac: mac, settings: s)
        #expect(files.keyfile.contains("address1=10.0.0.5/8\nmethod=manual\n"))
        #expect(files.keyfile.contains("address1=2001:db8::5/0\n"))
        #expect(files.ifcfg.contains("IPV6NETMASK=/64\n"))
        // ...which is why ``IPConfiguration`` refuses such a request before anything is written.
        #expect(throws: IPConfigurationError.self) { try IPConfiguration(parsing: s) }
    }

    @Test func invalidTokensAreHVInvalidArg() {
        for bad in [HostIPSettings(adapterID: "{x}", addresses: "10.0.0.300", subnets: "255.255.255.0"),
                    HostIPSettings(adapterID: "{x}", gateways: "gateway"),
                    HostIPSettings(adapterID: "{x}", dnsServers: "10.0.0.2 "),
                    HostIPSettings(adapterID: "{x}", addresses: "10.0.0.5", subnets: "64")] {
            #expect(throws: IPConfigurationError.self) { try CompatibilityFiles(interface: "eth0", mac: mac, settings: bad) }
            #expect((try? IPConfiguration(parsing: bad)) == nil)
        }
    }
}
