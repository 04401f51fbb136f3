import CNetlink
import HVSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The live system facts behind KVP: the auto pool (pool 2) and GET_IP_INFO answers.
///
/// Owns an `AddressTracker` (rtnetlink) and a `HostnameResolver`, and folds their two
/// notification sources into one epoll descriptor, `fileDescriptor`: the caller adds it to its
/// own poll set and calls `processPendingEvents()` when it is readable. Both query methods only
/// read in-memory state (plus, for GET_IP_INFO, two small files under /run and /etc), so they
/// never wait on netlink or on name resolution.
///
/// Method names match the KVP engine's seams: `AutoPoolSource.autoPoolEntries()` as is;
/// `IPInfoSource.ipInfo(adapterID:)` maps `adapterIPConfig(adapterID:)` into the engine's
/// `IPInfo`, and `IPInfoSource.interfaceName(forAdapterGUID:)` as is.
public final class NetworkFacts: @unchecked Sendable {
    // @unchecked: every stored property is immutable and itself thread-safe (the interface rules
    // sit behind a mutex).
    public struct Configuration: Sendable {
        public var rules: InterfaceRules
        /// Prefix for the files read (os-release, resolver and lease state); "/" in production.
        public var root: String

        public init(rules: InterfaceRules = InterfaceRules(), root: String = "/") {
            self.rules = rules
            self.root = root
        }
    }

    /// The configuration the facts were opened with; the interface rules in force are ``rules``.
    public let configuration: Configuration
    private let currentRules: Mutex<InterfaceRules>
    public let tracker: AddressTracker
    public let resolver: HostnameResolver
    /// OS facts are read once, like upstream: they change only with an upgrade and a restart.
    public let os: OSInfo
    private let epoll: Int32

    /// An epoll descriptor that is readable when netlink notifications or a host-name change
    /// wait to be processed.
    public var fileDescriptor: Int32 { epoll }

    public init(configuration: Configuration = Configuration(), resolver: HostnameResolver = HostnameResolver(), os: OSInfo? = nil) throws(NetlinkError) {
        self.configuration = configuration
        self.currentRules = Mutex(configuration.rules)
        self.tracker = try AddressTracker()
        self.resolver = resolver
        self.os = os ?? OSInfo.load(root: configuration.root)
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else {
            let failure = Errno.current
            throw NetlinkError(operation: "epoll_create1", code: -failure.rawValue, message: failure.description)
        }
        try add(tracker.fileDescriptor, events: EPOLLIN.rawValue)
        if resolver.fileDescriptor >= 0 {
            try add(resolver.fileDescriptor, events: EPOLLPRI.rawValue | EPOLLERR.rawValue)
        }
    }

    deinit {
        close(epoll)
    }

    private func add(_ fd: Int32, events: UInt32) throws(NetlinkError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
            let failure = Errno.current
            throw NetlinkError(operation: "epoll_ctl", code: -failure.rawValue, message: failure.description)
        }
    }

    /// Which interfaces and addresses the host is told about. Replaced by a configuration reload
    /// (`[network]`); the next ENUMERATE or GET_IP_INFO applies the new rules, since both filter
    /// the live snapshot when asked.
    public var rules: InterfaceRules {
        get { currentRules.withLock { $0 } }
        set { currentRules.withLock { $0 = newValue } }
    }

    /// Handles whatever is ready (non-blocking). Returns whether the network view changed.
    @discardableResult
    public func processPendingEvents() throws(NetlinkError) -> Bool {
        // Drains the epoll readiness, then asks both sources directly. The host-name file's
        // readiness is consumed by whoever polls it first — and a caller's poll() on this epoll
        // descriptor already polls it — so its event may be gone by now; re-reading the name
        // costs one uname(2) and only happens when the descriptor woke the caller.
        var events = [epoll_event](repeating: epoll_event(), count: 4)
        _ = epoll_wait(epoll, &events, Int32(events.count), 0)
        resolver.hostnameMayHaveChanged()
        return try tracker.processPendingEvents()
    }

    /// The ten auto-pool records in ENUMERATE index order (docs/PROTOCOL.md §7.17). IntegrationServicesVersion
    /// carries "Unknown version": only the front end learns the kernel's "3.1", and the engine
    /// substitutes it.
    public func autoPoolEntries() -> [(key: String, value: String)] {
        let snapshot = tracker.snapshot()
        let rules = self.rules
        return AutoPoolFormat.entries(
            fqdn: resolver.fqdn,
            integrationServicesVersion: AutoPoolFormat.unknownIntegrationServicesVersion,
            ipv4: snapshot.autoPoolAddresses(.ipv4, rules: rules).map(\.text),
            ipv6: snapshot.autoPoolAddresses(.ipv6, rules: rules).map(\.text),
            os: os
        )
    }

    /// GET_IP_INFO for the adapter whose MAC the host sent; nil when no interface has that MAC
    /// (the engine answers HV_E_FAIL). With several matches (an SR-IOV VF shares the synthetic
    /// NIC's MAC) the first, by interface index, that has an address wins, as upstream.
    public func adapterIPConfig(adapterID: String) -> AdapterIPConfig? {
        guard let mac = MACAddress.parse(adapterID) else { return nil }
        let snapshot = tracker.snapshot()
        let candidates = snapshot.interfaces(withHardwareAddress: mac)
        let rules = self.rules
        guard let chosen = candidates.first(where: { link in
            snapshot.addresses(onInterface: link.index).contains(where: rules.admits)
        }) ?? candidates.first else { return nil }
        let addresses = snapshot.addresses(onInterface: chosen.index)
        return AdapterIPConfig.make(
            interface: chosen,
            addresses: addresses,
            gateways: snapshot.gateways(onInterface: chosen.index),
            dnsServers: ResolverConfig(root: configuration.root).dnsServers(interfaceIndex: chosen.index),
            dhcpEnabled: DHCPState(root: configuration.root).isEnabled(interfaceIndex: chosen.index, addresses: addresses),
            rules: rules
        )
    }

    /// SET_IP_INFO's adapter lookup: the interface whose VMBus instance GUID is `adapterID`.
    public func interfaceName(forAdapterGUID adapterID: String) -> String? {
        VMBusAdapters(root: configuration.root).interfaceName(forAdapterGUID: adapterID)
    }
}
