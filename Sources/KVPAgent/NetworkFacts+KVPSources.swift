import NetInfo

// NetInfo's live network facts are the engine's auto pool and GET_IP_INFO sources: NetInfo owns
// the data (netlink, os-release, resolver state), the engine owns the wire text.
extension NetworkFacts: AutoPoolSource {}

extension NetworkFacts: IPInfoSource {
    public func ipInfo(adapterID: String) -> IPInfo? {
        adapterIPConfig(adapterID: adapterID).map { c in
            IPInfo(addresses: c.addresses.map { .init(address: $0.text, prefixLength: $0.prefixLength) },
                   gateways: c.gateways, dnsServers: c.dnsServers, dhcpEnabled: c.dhcpEnabled)
        }
    }
}
