import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// One next hop with a gateway of a default route (`0.0.0.0/0` or `::/0`) in the main table, with
/// what it takes to put the route back exactly: the tracker reports the live ones' gateways
/// (GET_IP_INFO), IP injection's netlink backend replaces and restores them.
public struct DefaultRouteHop: Sendable, Hashable {
    public var gateway: DefaultGateway
    /// The route's metric (`RTA_PRIORITY`).
    public var metric: UInt32
    /// `rtm_protocol`: who added it (boot, static, dhcp, ...).
    public var protocolID: UInt8
    /// RTNH_F_DEAD: the kernel keeps the hop but does not use it.
    public var dead: Bool

    /// Every such hop in a libnl route cache, in table order (multipath routes give one per hop).
    static func all(in cache: OpaquePointer) -> [DefaultRouteHop] {
        final class Collector { var found: [DefaultRouteHop] = [] }
        let collector = Collector()
        nl_cache_foreach(cache, { object, data in
            guard let route = object, let data else { return }
            let collector = Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue()
            guard rtnl_route_get_table(route) == UInt32(RT_TABLE_MAIN.rawValue),
                  rtnl_route_get_type(route) == UInt8(RTN_UNICAST),
                  let dst = rtnl_route_get_dst(route), nl_addr_get_prefixlen(dst) == 0
            else { return }
            let family: InterfaceAddress.Family
            switch Int32(rtnl_route_get_family(route)) {
            case AF_INET: family = .ipv4
            case AF_INET6: family = .ipv6
            default: return
            }
            for i in 0..<max(rtnl_route_get_nnexthops(route), 0) {
                guard let hop = rtnl_route_nexthop_n(route, i) else { continue }
                let bytes = AddressTracker.bytes(of: rtnl_route_nh_get_gateway(hop))
                guard bytes.count == (family == .ipv4 ? 4 : 16) else { continue }
                collector.found.append(DefaultRouteHop(
                    gateway: DefaultGateway(interfaceIndex: rtnl_route_nh_get_ifindex(hop), family: family, bytes: bytes),
                    metric: rtnl_route_get_priority(route), protocolID: rtnl_route_get_protocol(route),
                    dead: rtnl_route_nh_get_flags(hop) & 1 != 0))
            }
        }, Unmanaged.passUnretained(collector).toOpaque())
        return collector.found
    }

    /// A fresh dump of the kernel's route table (not the tracker's view, which keeps no metrics).
    public static func dump() throws(NetlinkError) -> [DefaultRouteHop] {
        guard let socket = nl_socket_alloc() else { throw NetlinkError(operation: "nl_socket_alloc", code: 0, message: "out of memory") }
        defer { nl_socket_free(socket) }
        try AddressTracker.check("nl_connect", nl_connect(socket, NETLINK_ROUTE))
        var cache: OpaquePointer?
        try AddressTracker.check("rtnl_route_alloc_cache", rtnl_route_alloc_cache(socket, AF_UNSPEC, 0, &cache))
        guard let cache else { throw NetlinkError(operation: "rtnl_route_alloc_cache", code: 0, message: "no cache") }
        defer { nl_cache_free(cache) }
        return all(in: cache)
    }
}
