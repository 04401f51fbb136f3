/// Reproduces the order in which the kernel lists an interface's addresses, so that the auto
/// pool's lists come out exactly as hv_kvp_daemon's getifaddrs() walk (a fresh dump) would
/// print them, even though the tracker learns about addresses one notification at a time.
///
/// Kernel rules (net/ipv4/devinet.c `__inet_insert_ifa`, net/ipv6/addrconf.c
/// `ipv6_link_dev_addr`):
/// * IPv4: primaries first, ordered by scope from host to universe, in arrival order within a
///   scope; secondaries after all primaries, in arrival order.
/// * IPv6: ordered by scope from global to host; within a scope the newest address comes first.
/// Across interfaces the dump runs by interface index, IPv4 before IPv6.
struct AddressOrder {
    struct Identity: Hashable {
        var family: InterfaceAddress.Family
        var interfaceIndex: Int32
        var bytes: [UInt8]
        var prefixLength: Int
    }

    /// Arrival rank per address: dump positions are 0, 1, 2...; IPv4 arrivals after the dump
    /// continue upwards, IPv6 arrivals count downwards (newest first).
    private var rank: [Identity: Int] = [:]
    private var nextAppend = 0
    private var nextPrepend = -1

    static func identity(_ a: InterfaceAddress) -> Identity {
        Identity(family: a.family, interfaceIndex: a.interfaceIndex, bytes: a.bytes, prefixLength: a.prefixLength)
    }

    /// Forget everything; the next `noteDumped` calls describe a fresh dump in kernel order.
    mutating func reset() {
        rank = [:]
        nextAppend = 0
        nextPrepend = -1
    }

    /// An address seen in a dump (called in dump order).
    mutating func noteDumped(_ a: InterfaceAddress) {
        let id = AddressOrder.identity(a)
        guard rank[id] == nil else { return }
        rank[id] = nextAppend
        nextAppend += 1
    }

    /// An address announced by RTM_NEWADDR after the dump. Updates keep their place.
    mutating func noteAdded(_ a: InterfaceAddress) {
        let id = AddressOrder.identity(a)
        guard rank[id] == nil else { return }
        switch a.family {
        case .ipv4:
            rank[id] = nextAppend
            nextAppend += 1
        case .ipv6:
            rank[id] = nextPrepend
            nextPrepend -= 1
        }
    }

    mutating func noteRemoved(_ a: InterfaceAddress) {
        rank[AddressOrder.identity(a)] = nil
    }

    /// The addresses in kernel dump order.
    func sorted(_ addresses: [InterfaceAddress]) -> [InterfaceAddress] {
        addresses.sorted { lhs, rhs in key(lhs).lexicographicallyPrecedes(key(rhs)) }
    }

    private func key(_ a: InterfaceAddress) -> [Int] {
        let r = rank[AddressOrder.identity(a)] ?? Int.max
        switch a.family {
        case .ipv4:
            let group = a.isSecondary ? 1 : 0
            let scope = a.isSecondary ? 0 : 255 - Int(a.scope)
            return [0, Int(a.interfaceIndex), group, scope, r]
        case .ipv6:
            return [1, Int(a.interfaceIndex), Int(a.scope), 0, r]
        }
    }
}
