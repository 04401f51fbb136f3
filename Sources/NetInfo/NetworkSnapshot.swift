/// An immutable view of the interfaces, addresses and default gateways the tracker knows,
/// taken at one instant. Cheap to copy; safe to hand to any thread.
public struct NetworkSnapshot: Sendable, Equatable {
    /// By interface index.
    public var interfaces: [Int32: NetworkInterface]
    /// Every IPv4 and IPv6 address, in kernel dump order (IPv4 first, by interface index, then
    /// each interface's own list order).
    public var addresses: [InterfaceAddress]
    /// Default-route gateways, IPv4 first, in route-table order.
    public var gateways: [DefaultGateway]

    public init(interfaces: [Int32: NetworkInterface] = [:], addresses: [InterfaceAddress] = [], gateways: [DefaultGateway] = []) {
        self.interfaces = interfaces
        self.addresses = addresses
        self.gateways = gateways
    }

    /// The auto pool list for one family: addresses of admitted interfaces, in dump order.
    /// Addresses whose interface is unknown (a notification race) are left out.
    public func autoPoolAddresses(_ family: InterfaceAddress.Family, rules: InterfaceRules) -> [InterfaceAddress] {
        addresses.filter { a in
            guard a.family == family, let link = interfaces[a.interfaceIndex] else { return false }
            return rules.admits(link) && rules.admits(a)
        }
    }

    /// Interfaces whose hardware address equals `mac`, by interface index.
    public func interfaces(withHardwareAddress mac: [UInt8]) -> [NetworkInterface] {
        interfaces.values.filter { $0.hardwareAddress == mac }.sorted { $0.index < $1.index }
    }

    public func addresses(onInterface index: Int32) -> [InterfaceAddress] {
        addresses.filter { $0.interfaceIndex == index }
    }

    public func gateways(onInterface index: Int32) -> [DefaultGateway] {
        gateways.filter { $0.interfaceIndex == index }
    }
}
