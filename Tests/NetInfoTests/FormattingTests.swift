import XCTest
@testable import NetInfo

/// Pure formatting: addresses, masks, MAC text, auto pool records, GET_IP_INFO fields.
final class FormattingTests: XCTestCase {
    func testAddressTextForms() throws {
        let v4 = try XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "192.0.2.2", prefixLength: 24))
        XCTAssertEqual(v4.family, .ipv4)
        XCTAssertEqual(v4.text, "192.0.2.2")
        let v6 = try XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "FD00:0:0:0::0002", prefixLength: 64))
        XCTAssertEqual(v6.text, "fd00::2", "inet_ntop compressed lower-case form")
        XCTAssertFalse(v6.isIPv6LinkLocal)
        XCTAssertTrue(InterfaceAddress(interfaceIndex: 2, text: "fe80::fc:ff:fe00:1", prefixLength: 64)?.isIPv6LinkLocal ?? false)
        XCTAssertTrue(InterfaceAddress(interfaceIndex: 2, text: "febf::1", prefixLength: 64)?.isIPv6LinkLocal ?? false)
        XCTAssertFalse(InterfaceAddress(interfaceIndex: 2, text: "fec0::1", prefixLength: 64)?.isIPv6LinkLocal ?? true)
        XCTAssertNil(InterfaceAddress(interfaceIndex: 2, text: "not-an-ip", prefixLength: 1))
        XCTAssertEqual(InterfaceAddress(interfaceIndex: 1, family: .ipv4, bytes: [1, 2, 3], prefixLength: 8).text, "", "wrong length never reads out of bounds")
    }

    func testMACParsingAcceptsHostFormsOnly() {
        let mac: [UInt8] = [0x00, 0x15, 0x5D, 0x0A, 0x0B, 0xFC]
        XCTAssertEqual(MACAddress.parse("00:15:5D:0A:0B:FC"), mac)
        XCTAssertEqual(MACAddress.parse("00:15:5d:0a:0b:fc"), mac)
        XCTAssertEqual(MACAddress.parse("00-15-5D-0A-0B-FC"), mac)
        XCTAssertEqual(MACAddress.parse("00155D0A0BFC"), mac)
        XCTAssertEqual(MACAddress.parse("00:15:5D:0A:0B:FC\0\0\0"), mac)
        XCTAssertNil(MACAddress.parse("00:15:5D:0A:0B"))
        XCTAssertNil(MACAddress.parse("00:15-5D:0A:0B:FC"))
        XCTAssertNil(MACAddress.parse("0:015:5D:0A:0B:FC"))
        XCTAssertNil(MACAddress.parse("00:15:5D:0A:0B:FG"))
        XCTAssertNil(MACAddress.parse(""))
        XCTAssertNil(MACAddress.parse(String(repeating: "A", count: 5000)))
        XCTAssertEqual(MACAddress.format(mac), "00:15:5D:0A:0B:FC")
    }

    func testAutoPoolRecordsInUpstreamIndexOrder() {
        let os = OSInfo(name: "Debian GNU/Linux", majorVersion: "12", minorVersion: "", buildNumber: "6.18.44-fc-v595", version: "6.18.44", architecture: "x86_64")
        let entries = AutoPoolFormat.entries(fqdn: "vm.example", integrationServicesVersion: "3.1", ipv4: ["192.0.2.2", "10.0.0.4"], ipv6: ["fd00::2"], os: os)
        XCTAssertEqual(entries.map(\.key), [
            "FullyQualifiedDomainName", "IntegrationServicesVersion", "NetworkAddressIPv4", "NetworkAddressIPv6",
            "OSBuildNumber", "OSName", "OSMajorVersion", "OSMinorVersion", "OSVersion", "ProcessorArchitecture",
        ])
        XCTAssertEqual(entries.map(\.value), [
            "vm.example", "3.1", "192.0.2.2;10.0.0.4", "fd00::2", "6.18.44-fc-v595", "Debian GNU/Linux", "12", "", "6.18.44", "x86_64",
        ])
        XCTAssertEqual(AutoPoolFormat.unknownIntegrationServicesVersion, "Unknown version")
    }

    func testAddressListIsCutAtAnAddressBoundaryWithinTheHostLimit() {
        XCTAssertEqual(AutoPoolFormat.addressList([]), "")
        XCTAssertEqual(AutoPoolFormat.addressList(["1.2.3.4"]), "1.2.3.4")
        let many = (0..<200).map { "10.0.\($0 / 250).\($0 % 250)" }
        let value = AutoPoolFormat.addressList(many)
        XCTAssertLessThanOrEqual(value.utf16.count, 1022)
        let parts = value.split(separator: ";").map(String.init)
        XCTAssertEqual(parts, Array(many.prefix(parts.count)), "whole addresses, in order")
        XCTAssertGreaterThan((value + ";" + many[parts.count]).utf16.count, 1022, "no further whole address would fit")
        XCTAssertEqual(AutoPoolFormat.addressList(["aaaa", "bbbb", "cc"], limit: 9), "aaaa;bbbb")
        XCTAssertEqual(AutoPoolFormat.addressList(["aaaa", "bbbb"], limit: 8), "aaaa")
    }

    /// The facts behind the GET_IP_INFO reply the real hv_kvp_daemon gave for eth0 in the peer
    /// study (docs/COMPATIBILITY.md P3: ip `192.0.2.2;fd00::2;
    /// fe80::fc:ff:fe00:1`, gateway `192.0.2.1;fd00::1;`, dns `10.255.255.53;`), selected from
    /// whole-system lists with upstream's inclusion of link-local addresses.
    func testAdapterConfigSelectsThisInterfaceInUpstreamOrder() throws {
        let eth0 = NetworkInterface(index: 2, name: "eth0", hardwareAddress: [0x02, 0xFC, 0, 0, 0, 1])
        let addresses = try [
            XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "fd00::2", prefixLength: 64)),
            XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "fe80::fc:ff:fe00:1", prefixLength: 64, scope: 253)),
            XCTUnwrap(InterfaceAddress(interfaceIndex: 2, text: "192.0.2.2", prefixLength: 24)),
            XCTUnwrap(InterfaceAddress(interfaceIndex: 3, text: "10.9.9.9", prefixLength: 8)),
        ]
        let gateways = try [
            XCTUnwrap(DefaultGateway(interfaceIndex: 2, text: "192.0.2.1")),
            XCTUnwrap(DefaultGateway(interfaceIndex: 3, text: "10.0.0.1")),
            XCTUnwrap(DefaultGateway(interfaceIndex: 2, text: "fd00::1")),
            XCTUnwrap(DefaultGateway(interfaceIndex: 2, text: "fd00::1")),
        ]
        let config = AdapterIPConfig.make(interface: eth0, addresses: addresses, gateways: gateways, dnsServers: ["10.255.255.53", "10.255.255.53"], dhcpEnabled: false, rules: InterfaceRules(includeIPv6LinkLocal: true))
        XCTAssertEqual(config.interfaceName, "eth0")
        XCTAssertEqual(config.addresses.map(\.text).joined(separator: ";"), "192.0.2.2;fd00::2;fe80::fc:ff:fe00:1", "IPv4 first, then IPv6")
        XCTAssertEqual(config.addresses.map(\.prefixLength), [24, 64, 64])
        XCTAssertEqual(config.gateways, ["192.0.2.1", "fd00::1"], "only this interface's, each once")
        XCTAssertEqual(config.dnsServers, ["10.255.255.53"])
        XCTAssertFalse(config.dhcpEnabled)

        let defaults = AdapterIPConfig.make(interface: eth0, addresses: addresses, gateways: [], dnsServers: [], dhcpEnabled: true, rules: InterfaceRules())
        XCTAssertEqual(defaults.addresses.map(\.text), ["192.0.2.2", "fd00::2"], "link-local off by default")
        XCTAssertEqual(defaults.gateways, [])
        XCTAssertTrue(defaults.dhcpEnabled)
    }
}
