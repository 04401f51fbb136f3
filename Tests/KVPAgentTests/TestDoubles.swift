@testable import KVPAgent

/// Fixed auto-pool entries in hv_kvp_daemon's order.
struct FixedAutoPool: AutoPoolSource {
    var entries: [(key: String, value: String)] = [
        ("FullyQualifiedDomainName", "vm.example.com"),
        ("IntegrationServicesVersion", "placeholder"),
        ("NetworkAddressIPv4", "192.0.2.2"),
        ("NetworkAddressIPv6", "fd00::2;fe80::fc:ff:fe00:1"),
        ("OSBuildNumber", "6.1.0-13-amd64"),
        ("OSName", "Debian GNU/Linux"),
        ("OSMajorVersion", "12"),
        ("OSMinorVersion", ""),
        ("OSVersion", "6.1.0"),
        ("ProcessorArchitecture", "x86_64"),
    ]
    func autoPoolEntries() -> [(key: String, value: String)] { entries }
}

/// One adapter with a MAC and a GUID.
struct FixedIPInfo: IPInfoSource {
    var mac = "02:FC:00:00:00:01"
    var guid = "{11111111-2222-3333-4444-555555555555}"
    var info = IPInfo(
        addresses: [.init(address: "192.0.2.2", prefixLength: 24),
                    .init(address: "fd00::2", prefixLength: 64),
                    .init(address: "fe80::fc:ff:fe00:1", prefixLength: 64)],
        gateways: ["192.0.2.1", "fd00::1"], dnsServers: ["10.255.255.53"], dhcpEnabled: true)
    func ipInfo(adapterID: String) -> IPInfo? { adapterID == mac ? info : nil }
    func interfaceName(forAdapterGUID adapterID: String) -> String? { adapterID == guid ? "eth0" : nil }
}
