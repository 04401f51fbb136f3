import Testing
import HVProtocol
@testable import IPInjection

@Suite struct IPConfigurationTests {
    @Test func tokens() {
        #expect(HostIPList.tokens("") == [])
        #expect(HostIPList.tokens("a;b") == ["a", "b"])
        #expect(HostIPList.tokens("a;b;") == ["a", "b"])
        #expect(HostIPList.tokens(";a") == [])
        #expect(HostIPList.tokens("  a ; b") == ["a ", "b"])
        #expect(HostIPList.tokens("a;   ;b") == ["a", "", "b"])
        // Split on the byte ';' even where a combining mark follows it.
        #expect(HostIPList.tokens("a;\u{301}b") == ["a", "\u{301}b"])
    }

    @Test func literals() throws {
        #expect(IPLiteral("10.0.0.1")?.family == .ipv4)
        #expect(IPLiteral("::ffff:10.0.0.1")?.family == .ipv6)
        for bad in ["", "10.0.0", "10.0.0.01", "10.0.0.1 ", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "x",
                    String(repeating: "0", count: 46)] {
            #expect(IPLiteral(bad) == nil, "\(bad)")
        }
        #expect(IPLiteral("2001:DB8::1")?.description == "2001:db8::1")
        #expect(IPLiteral("::1")?.expanded == "0000:0000:0000:0000:0000:0000:0000:0001")
        #expect(IPLiteral("255.255.255.0")?.contiguousMaskLength == 24)
        #expect(IPLiteral("255.255.255.255")?.contiguousMaskLength == 32)
        #expect(IPLiteral("0.0.0.0")?.contiguousMaskLength == 0)
        #expect(IPLiteral("255.0.255.0")?.contiguousMaskLength == nil)
        #expect(IPLiteral("255.0.255.0")?.leadingOnes == 8)
    }

    @Test func parsesTheHostsLists() throws {
        let c = try IPConfiguration(parsing: HostIPSettings(
            adapterID: "{x}", dhcpEnabled: false, addresses: "10.0.0.5;2001:db8::5", subnets: "255.255.255.0;64",
            gateways: "10.0.0.1;2001:db8::1", dnsServers: "10.0.0.2"))
        #expect(c.ipv4Addresses.map(\.description) == ["10.0.0.5/24"])
        #expect(c.ipv6Addresses.map(\.description) == ["2001:db8::5/64"])
        #expect(c.gateways.map(\.description) == ["10.0.0.1", "2001:db8::1"])
        #expect(c.dnsServers.map(\.description) == ["10.0.0.2"])
        #expect(!c.dhcpV4)
        let dhcp = try IPConfiguration(parsing: HostIPSettings(adapterID: "{x}", dhcpEnabled: true))
        #expect(dhcp == IPConfiguration(dhcpV4: true))
    }

    @Test func refusesWhatItCannotApplyAsSent() {
        let cases: [(HostIPSettings, String)] = [
            (HostIPSettings(adapterID: "{x}", addresses: "10.0.0.5", subnets: ""), "addresses but"),
            (HostIPSettings(adapterID: "{x}", addresses: "10.0.0.5", subnets: "255.255.255.0;255.0.0.0"), "addresses but"),
            (HostIPSettings(adapterID: "{x}", addresses: "10.0.0.5", subnets: "255.0.255.0"), "contiguous"),
            (HostIPSettings(adapterID: "{x}", addresses: "2001:db8::5", subnets: "129"), "0 to 128"),
            (HostIPSettings(adapterID: "{x}", addresses: "2001:db8::5", subnets: "/64"), "0 to 128"),
            (HostIPSettings(adapterID: "{x}", addresses: "2001:db8::5", subnets: "0064"), "0 to 128"),
            (HostIPSettings(adapterID: "{x}", addresses: "host", subnets: "24"), "not an IP address"),
            (HostIPSettings(adapterID: "{x}", gateways: "10.0.0.1;x"), "gateway \"x\""),
            (HostIPSettings(adapterID: "{x}", dnsServers: "fe80::1%eth0"), "DNS server"),
        ]
        for (settings, reason) in cases {
            do {
                _ = try IPConfiguration(parsing: settings)
                Issue.record("accepted \(settings)")
            } catch {
                #expect(error.status == .invalidArgument)
                #expect(error.description.contains(reason), "\(error)")
            }
        }
    }
}
