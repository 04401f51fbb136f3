import CNetlink
import NetInfo
#if canImport(Glibc)
import Glibc
#endif

/// Applies a configuration straight to the kernel over rtnetlink (libnl-route): for an interface
/// no network manager looks after, and for tests in a network namespace. Not persistent across a
/// reboot — that is what the manager backends are for (docs/ARCHITECTURE.md, "IP injection").
///
/// Replaces the interface's static configuration: permanent global addresses the host did not
/// list are removed (link-local and SLAAC/DHCP addresses stay), and so are default routes through
/// the interface via other gateways; the host's addresses and gateways are added. The undo
/// reverses exactly those changes. DHCP cannot be run from here: a request with DHCP on is refused.
public struct NetlinkBackend: IPConfigurationBackend {
    public var name: String { "netlink" }
    private let tracker: AddressTracker

    public init(tracker: AddressTracker) {
        self.tracker = tracker
    }

    /// A default route through the interface: the gateway, and what the undo needs to put it back
    /// exactly (metric, who added it).
    struct DefaultRoute: Sendable, Equatable {
        var gateway: IPLiteral
        var metric: UInt32
        var protocolID: UInt8
    }

    /// One change to the kernel, with its inverse.
    enum Change: Sendable, Equatable {
        case addAddress(IPConfiguration.Address)
        case removeAddress(IPConfiguration.Address)
        case addDefaultRoute(DefaultRoute)
        case removeDefaultRoute(DefaultRoute)

        var inverse: Change {
            switch self {
            case let .addAddress(a): .removeAddress(a)
            case let .removeAddress(a): .addAddress(a)
            case let .addDefaultRoute(r): .removeDefaultRoute(r)
            case let .removeDefaultRoute(r): .addDefaultRoute(r)
            }
        }
    }

    struct Undo: IPConfigurationUndo {
        let interface: InjectionInterface
        let done: [Change]
        func undo() throws(IPConfigurationError) {
            try NetlinkBackend.perform(done.reversed().map(\.inverse), on: interface)
        }
    }

    public func apply(_ configuration: IPConfiguration, to interface: InjectionInterface) throws(IPConfigurationError)
        -> any IPConfigurationUndo {
        guard !configuration.dhcpV4 else {
            throw .failed("the netlink backend cannot run DHCP; a network manager must manage \(interface.name) for that")
        }
        _ = try? tracker.processPendingEvents()
        let snapshot = tracker.snapshot()
        // Permanent global addresses: configured, not from SLAAC or a DHCP client's lifetime.
        let permanent = snapshot.addresses(onInterface: interface.index).filter { $0.scope == 0 && $0.isPermanent }
            .compactMap(IPConfiguration.Address.init)
        let routes = try Self.defaultRoutes(on: interface)
        let wanted = Set(configuration.addresses), wantedGateways = Set(configuration.gateways)
        // The host's gateways in its order: metric 0, 1, ... for IPv4 and 1024, 1025, ... (the
        // kernel's default) for IPv6, so a second gateway is a fallback, never a duplicate route.
        var added: [DefaultRoute] = []
        for family in [IPLiteral.Family.ipv4, .ipv6] {
            for (n, gateway) in configuration.gateways.filter({ $0.family == family }).enumerated()
            where !routes.contains(where: { $0.gateway == gateway }) {
                added.append(DefaultRoute(gateway: gateway, metric: UInt32(family == .ipv4 ? n : 1024 + n), protocolID: UInt8(RTPROT_STATIC)))
            }
        }
        // When the interface's last IPv4 address goes, the kernel drops every route through it,
        // and a removed primary takes its secondaries along unless promote_secondaries is set
        // (docs/PROTOCOL.md §7.19): a default route
        // kept across an address change of its family could vanish behind the backend's back, and
        // the undo would not bring it back. So such a route is removed first and added back last,
        // both as recorded changes.
        let removedAddresses = permanent.filter { !wanted.contains($0) }
        let changedFamilies = Set(removedAddresses.map(\.address.family))
        let kept = routes.filter { wantedGateways.contains($0.gateway) && changedFamilies.contains($0.gateway.family) }
        let changes = routes.filter { !wantedGateways.contains($0.gateway) }.map(Change.removeDefaultRoute)
            + kept.map(Change.removeDefaultRoute)
            + removedAddresses.map(Change.removeAddress)
            + configuration.addresses.filter { !permanent.contains($0) }.map(Change.addAddress)
            + (kept + added).map(Change.addDefaultRoute)
        var done: [Change] = []
        do {
            for change in changes {
                try Self.perform([change], on: interface)
                done.append(change)
            }
        } catch {
            try? Self.perform(done.reversed().map(\.inverse), on: interface)
            throw error
        }
        return Undo(interface: interface, done: done)
    }

    static func perform(_ changes: [Change], on interface: InjectionInterface) throws(IPConfigurationError) {
        guard !changes.isEmpty else { return }
        guard let socket = nl_socket_alloc() else { throw .failed("netlink: out of memory") }
        defer { nl_socket_free(socket) }
        guard nl_connect(socket, NETLINK_ROUTE) == 0 else { throw .failed("netlink: cannot connect") }
        for change in changes {
            let (what, code) = switch change {
            case let .addAddress(a): ("add address \(a)", address(a, interface, socket, add: true))
            case let .removeAddress(a): ("remove address \(a)", address(a, interface, socket, add: false))
            case let .addDefaultRoute(r): ("add default route via \(r.gateway)", route(r, interface, socket, add: true))
            case let .removeDefaultRoute(r): ("remove default route via \(r.gateway)", route(r, interface, socket, add: false))
            }
            guard code >= 0 else {
                throw .failed("netlink: \(what) on \(interface.name): \(String(cString: nl_geterror(code)))")
            }
        }
    }

    private static func nlAddress(_ literal: IPLiteral, prefixLength: Int) -> OpaquePointer? {
        let a = literal.bytes.withUnsafeBytes { nl_addr_build(literal.family == .ipv4 ? AF_INET : AF_INET6, $0.baseAddress, $0.count) }
        if let a { nl_addr_set_prefixlen(a, Int32(prefixLength)) }
        return a
    }

    private static func address(_ a: IPConfiguration.Address, _ interface: InjectionInterface, _ socket: OpaquePointer, add: Bool) -> Int32 {
        guard let object = rtnl_addr_alloc() else { return -Int32(NLE_NOMEM) }
        defer { rtnl_addr_put(object) }
        guard let local = nlAddress(a.address, prefixLength: a.prefixLength) else { return -Int32(NLE_NOMEM) }
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(object, interface.index)
        let set = rtnl_addr_set_local(object, local)
        guard set >= 0 else { return set }
        rtnl_addr_set_prefixlen(object, Int32(a.prefixLength))
        return add ? rtnl_addr_add(socket, object, NLM_F_CREATE | NLM_F_EXCL) : rtnl_addr_delete(socket, object, 0)
    }

    private static func route(_ r: DefaultRoute, _ interface: InjectionInterface, _ socket: OpaquePointer, add: Bool) -> Int32 {
        let gateway = r.gateway
        let family = gateway.family == .ipv4 ? AF_INET : AF_INET6
        guard let route = rtnl_route_alloc(), let hop = rtnl_route_nh_alloc() else { return -Int32(NLE_NOMEM) }
        defer { rtnl_route_put(route) }
        guard let destination = nlAddress(IPLiteral(bytes: [UInt8](repeating: 0, count: gateway.bytes.count)) ?? gateway, prefixLength: 0),
              let via = nlAddress(gateway, prefixLength: family == AF_INET ? 32 : 128) else {
            rtnl_route_nh_free(hop)
            return -Int32(NLE_NOMEM)
        }
        defer { nl_addr_put(destination); nl_addr_put(via) }
        _ = rtnl_route_set_family(route, UInt8(family))
        _ = rtnl_route_set_dst(route, destination)
        rtnl_route_set_table(route, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_nh_set_ifindex(hop, interface.index)
        rtnl_route_nh_set_gateway(hop, via)
        rtnl_route_add_nexthop(route, hop)   // the route owns the hop now
        rtnl_route_set_priority(route, r.metric)
        if add {
            rtnl_route_set_protocol(route, r.protocolID)
            rtnl_route_set_scope(route, UInt8(RT_SCOPE_UNIVERSE.rawValue))
            // APPEND: a default route of another interface with the same metric stays beside it
            // instead of failing with EEXIST or being replaced.
            return rtnl_route_add(socket, route, NLM_F_CREATE | NLM_F_APPEND)
        }
        // libnl presets RTPROT_STATIC; 0 matches the route whoever added it (a boot-time one too).
        rtnl_route_set_protocol(route, 0)
        return rtnl_route_delete(socket, route, 0)
    }

    /// The main table's default routes through the interface, from a fresh dump (the tracker's
    /// view has no metrics, which the undo needs).
    static func defaultRoutes(on interface: InjectionInterface) throws(IPConfigurationError) -> [DefaultRoute] {
        let hops: [DefaultRouteHop]
        do {
            hops = try DefaultRouteHop.dump()
        } catch {
            throw .failed("netlink: cannot read the route table: \(error)")
        }
        return hops.filter { $0.gateway.interfaceIndex == interface.index }.compactMap { hop in
            IPLiteral(bytes: hop.gateway.bytes).map { DefaultRoute(gateway: $0, metric: hop.metric, protocolID: hop.protocolID) }
        }
    }
}
