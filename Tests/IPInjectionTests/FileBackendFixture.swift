import HVProtocol
@testable import IPInjection
import TestSupport

/// The interface and the request builder the file backends' tests (netplan, ifcfg, networkd) share.
enum FileBackendFixture {
    static let eth0 = InjectionInterface(name: "eth0", index: 2, mac: "00:15:5d:aa:bb:cc")

    static func configuration(dhcp: Bool = false, _ addresses: String = "", _ subnets: String = "",
                              gateways: String = "", dns: String = "") throws -> IPConfiguration {
        try IPConfiguration(parsing: HostIPSettings(adapterID: FakeAdapterSysfs.guid, dhcpEnabled: dhcp, addresses: addresses,
                                                    subnets: subnets, gateways: gateways, dnsServers: dns))
    }
}
