import CNetlink
import HVSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Interfaces, addresses and default gateways from rtnetlink, kept current from netlink
/// notifications through libnl-route-3's cache manager.
///
/// One dump at start-up; after that only the multicast notifications the caller drains with
/// `processPendingEvents()` when `fileDescriptor` is readable. Nothing runs in between: no
/// thread, no timer, so an idle system costs no wake-ups. Readers take `snapshot()` from any
/// thread and never touch a socket, so a host request never waits on netlink.
///
/// Routes are the exception to pure incremental updates: the kernel flushes IPv4 routes, and
/// marks multipath next hops dead or alive again, without any notification when addresses or
/// links come and go. So a batch of events that touches a link or an address re-reads the (small)
/// route table once, inside `processPendingEvents()` — never on a request.
public final class AddressTracker: @unchecked Sendable {
    // @unchecked: the libnl pointers and `model` are touched only while `io` is held; readers
    // see only `published`.
    private let manager: OpaquePointer
    private let syncSocket: OpaquePointer
    private let linkCache: OpaquePointer
    private let addressCache: OpaquePointer
    private let routeCache: OpaquePointer
    private let model: TrackerModel
    private let io = Mutex(())
    private let published = Mutex(NetworkSnapshot())
    private var resyncs = 0
    /// Full re-dumps after a broken notification stream (tests and diagnostics).
    public var resyncCount: Int { io.withLock { _ in resyncs } }

    /// The netlink socket the notifications arrive on (non-blocking). Poll it for POLLIN.
    public let fileDescriptor: Int32

    public init() throws(NetlinkError) {
        let model = TrackerModel()
        let context = Unmanaged.passUnretained(model).toOpaque()
        var mngr: OpaquePointer?
        try AddressTracker.check("nl_cache_mngr_alloc", nl_cache_mngr_alloc(nil, NETLINK_ROUTE, cnl_auto_provide(), &mngr))
        guard let mngr else { throw NetlinkError(operation: "nl_cache_mngr_alloc", code: 0, message: "no manager") }
        guard let sync = nl_socket_alloc() else {
            nl_cache_mngr_free(mngr)
            throw NetlinkError(operation: "nl_socket_alloc", code: 0, message: "out of memory")
        }
        var link: OpaquePointer?, addr: OpaquePointer?, route: OpaquePointer?
        do {
            try AddressTracker.check("nl_connect", nl_connect(sync, NETLINK_ROUTE))
            try AddressTracker.check("nl_cache_mngr_add route/link", nl_cache_mngr_add(mngr, "route/link", linkChanged, context, &link))
            try AddressTracker.check("nl_cache_mngr_add route/addr", nl_cache_mngr_add(mngr, "route/addr", addressChanged, context, &addr))
            try AddressTracker.check("nl_cache_mngr_add route/route", nl_cache_mngr_add(mngr, "route/route", routeChanged, context, &route))
        } catch {
            nl_cache_mngr_free(mngr)
            nl_socket_free(sync)
            throw error
        }
        guard let link, let addr, let route else {
            nl_cache_mngr_free(mngr)
            nl_socket_free(sync)
            throw NetlinkError(operation: "nl_cache_mngr_add", code: 0, message: "no cache")
        }
        manager = mngr
        syncSocket = sync
        linkCache = link
        addressCache = addr
        routeCache = route
        self.model = model
        fileDescriptor = nl_cache_mngr_get_fd(mngr)
        // Bursts (a container host starting 100 veths) must not overrun the socket; an overrun
        // still recovers through a full resync, it is just more work.
        var size: Int32 = 4 << 20
        _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        io.withLock { _ in
            reloadModelFromCaches()
            publish()
        }
    }

    deinit {
        nl_cache_mngr_free(manager)
        nl_socket_free(syncSocket)
    }

    /// The current view. Never blocks on the network.
    public func snapshot() -> NetworkSnapshot {
        published.withLock { $0 }
    }

    /// Applies every notification waiting on `fileDescriptor` (non-blocking; returns at once
    /// when there is none). Returns whether the snapshot changed. On a socket overrun (ENOBUFS)
    /// it re-dumps everything, so the view is never left stale.
    @discardableResult
    public func processPendingEvents() throws(NetlinkError) -> Bool {
        try io.withLock { _ throws(NetlinkError) -> Bool in
            model.changed = false
            let result = nl_cache_mngr_data_ready(manager)
            if result < 0 {
                resyncs += 1
                try resync()
                return true
            }
            if model.routesNeedRefill {
                try AddressTracker.check("nl_cache_refill route/route", nl_cache_refill(syncSocket, routeCache))
                model.routesNeedRefill = false
                model.routesDirty = true
            }
            if model.routesDirty {
                model.gateways = AddressTracker.gateways(in: routeCache)
                model.routesDirty = false
                model.changed = true
            }
            guard model.changed else { return false }
            publish()
            return true
        }
    }

    /// Full re-dump after the notification stream broke (socket overrun). What is still queued
    /// predates the gap and is discarded first: applied after the dump it could resurrect an
    /// address deleted during the gap. Notifications after the dump are idempotent against it.
    private func resync() throws(NetlinkError) {
        var scratch = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = scratch.withUnsafeMutableBytes { raw in
                retryingOnInterrupt { recv(fileDescriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT)) }
            }
            // ENOBUFS: the overrun itself, reported once; the queue behind it is still to drain.
            if n > 0 || (n < 0 && Errno.current == .noBufferSpace) { continue }
            break
        }
        try AddressTracker.check("nl_cache_refill route/link", nl_cache_refill(syncSocket, linkCache))
        try AddressTracker.check("nl_cache_refill route/addr", nl_cache_refill(syncSocket, addressCache))
        try AddressTracker.check("nl_cache_refill route/route", nl_cache_refill(syncSocket, routeCache))
        reloadModelFromCaches()
        publish()
    }

    /// Rebuilds the Swift model from the libnl caches, taking their order as the dump order.
    private func reloadModelFromCaches() {
        model.links = [:]
        model.addresses = [:]
        model.order.reset()
        let context = Unmanaged.passUnretained(model).toOpaque()
        nl_cache_foreach(linkCache, { object, data in
            guard let object, let data else { return }
            let model = Unmanaged<TrackerModel>.fromOpaque(data).takeUnretainedValue()
            if let link = AddressTracker.interface(from: object) { model.links[link.index] = link }
        }, context)
        nl_cache_foreach(addressCache, { object, data in
            guard let object, let data else { return }
            let model = Unmanaged<TrackerModel>.fromOpaque(data).takeUnretainedValue()
            if let a = AddressTracker.address(from: object) {
                model.addresses[AddressOrder.identity(a)] = a
                model.order.noteDumped(a)
            }
        }, context)
        model.gateways = AddressTracker.gateways(in: routeCache)
    }

    private func publish() {
        let snapshot = NetworkSnapshot(
            interfaces: model.links,
            addresses: model.order.sorted(Array(model.addresses.values)),
            gateways: model.gateways
        )
        published.withLock { $0 = snapshot }
    }

    static func check(_ operation: String, _ code: Int32) throws(NetlinkError) {
        guard code < 0 else { return }
        let text = nl_geterror(code).map { String(cString: $0) } ?? "unknown"
        throw NetlinkError(operation: operation, code: code, message: text)
    }

    static func bytes(of address: OpaquePointer?) -> [UInt8] {
        guard let address, let raw = nl_addr_get_binary_addr(address) else { return [] }
        let length = Int(nl_addr_get_len(address))
        guard length > 0, length <= 32 else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: length))
    }

    static func address(from object: OpaquePointer) -> InterfaceAddress? {
        let family: InterfaceAddress.Family
        switch rtnl_addr_get_family(object) {
        case AF_INET: family = .ipv4
        case AF_INET6: family = .ipv6
        default: return nil
        }
        let bytes = AddressTracker.bytes(of: rtnl_addr_get_local(object))
        guard bytes.count == (family == .ipv4 ? 4 : 16) else { return nil }
        return InterfaceAddress(
            interfaceIndex: rtnl_addr_get_ifindex(object),
            family: family,
            bytes: bytes,
            prefixLength: Int(rtnl_addr_get_prefixlen(object)),
            scope: UInt8(truncatingIfNeeded: rtnl_addr_get_scope(object)),
            flags: rtnl_addr_get_flags(object)
        )
    }

    static func interface(from object: OpaquePointer) -> NetworkInterface? {
        let index = rtnl_link_get_ifindex(object)
        guard index > 0, let name = rtnl_link_get_name(object) else { return nil }
        return NetworkInterface(
            index: index,
            name: String(cString: name),
            flags: rtnl_link_get_flags(object),
            hardwareAddress: AddressTracker.bytes(of: rtnl_link_get_addr(object))
        )
    }

    /// Default routes of the main table: every live next hop with a gateway (multipath routes
    /// give one per hop), IPv4 first, then by metric, then table order.
    static func gateways(in cache: OpaquePointer) -> [DefaultGateway] {
        let live = DefaultRouteHop.all(in: cache).enumerated().filter { !$0.element.dead }
        return live.sorted { l, r in
            let lf = l.element.gateway.family == .ipv4 ? 0 : 1, rf = r.element.gateway.family == .ipv4 ? 0 : 1
            return (lf, l.element.metric, l.offset) < (rf, r.element.metric, r.offset)
        }.map(\.element.gateway)
    }
}

/// The tracker's mutable state, written by the libnl change callbacks (which only get a raw
/// context pointer) while `AddressTracker.io` is held.
final class TrackerModel {
    var links: [Int32: NetworkInterface] = [:]
    var addresses: [AddressOrder.Identity: InterfaceAddress] = [:]
    var order = AddressOrder()
    var gateways: [DefaultGateway] = []
    var changed = false
    var routesDirty = false
    var routesNeedRefill = false
}

private let linkChanged: change_func_t = { _, object, action, data in
    guard let object, let data else { return }
    let model = Unmanaged<TrackerModel>.fromOpaque(data).takeUnretainedValue()
    let index = rtnl_link_get_ifindex(object)
    if action == cnl_act_del() {
        model.links[index] = nil
    } else if let link = AddressTracker.interface(from: object) {
        model.links[link.index] = link
    }
    model.changed = true
    model.routesNeedRefill = true
}

private let addressChanged: change_func_t = { _, object, action, data in
    guard let object, let data, let a = AddressTracker.address(from: object) else { return }
    let model = Unmanaged<TrackerModel>.fromOpaque(data).takeUnretainedValue()
    let id = AddressOrder.identity(a)
    if action == cnl_act_del() {
        model.addresses[id] = nil
        model.order.noteRemoved(a)
        model.routesNeedRefill = true
    } else {
        model.addresses[id] = a
        model.order.noteAdded(a)
        model.routesNeedRefill = true
    }
    model.changed = true
}

private let routeChanged: change_func_t = { _, _, _, data in
    guard let data else { return }
    Unmanaged<TrackerModel>.fromOpaque(data).takeUnretainedValue().routesDirty = true
}
