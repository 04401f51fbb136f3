import NetInfo
import SystemBus

/// Chooses the backend for an interface, at the time of the request, by what manages it
/// (docs/ARCHITECTURE.md "IP injection"):
///
/// 1. netplan, where netplan generates the interface's configuration — its YAML is the source
///    NetworkManager's or networkd's files are made from, so that is where the change belongs;
/// 2. NetworkManager, when it runs and its device for the interface is managed;
/// 3. systemd-networkd, when it runs and manages the link;
/// 4. the RHEL ifcfg layout (`/etc/sysconfig/network-scripts` exists) when neither manages it,
///    applied live over netlink;
/// 5. netlink alone (not persistent), for an interface nothing manages (e.g. Debian's ifupdown).
///
/// A forced kind (`[kvp] ip_injection = networkmanager`, …) skips the detection: the backend then
/// fails the request if its manager does not manage the interface, rather than another one
/// applying it.
public struct BackendSelector: Sendable {
    public let kind: IPInjectionBackendKind
    private let tracker: AddressTracker
    private let root: String
    private let busPath: String

    /// - Parameters:
    ///   - root: prefix for the files the detection and the file backends read and write ("" live).
    ///   - busPath: the system bus socket.
    public init(kind: IPInjectionBackendKind, tracker: AddressTracker, root: String = "",
                busPath: String = DBusConnection.systemBusPath) {
        self.kind = kind
        self.tracker = tracker
        self.root = root
        self.busPath = busPath
    }

    public func backend(for interface: InjectionInterface) -> any IPConfigurationBackend {
        make(kind == .automatic ? detect(interface) : kind)
    }

    /// What manages `interface` now, in the order above.
    public func detect(_ interface: InjectionInterface) -> IPInjectionBackendKind {
        if NetplanBackend.generates(interface, root: root) { return .netplan }
        if NetworkManagerBackend.manages(interface, busPath: busPath) { return .networkManager }
        if NetworkdBackend.manages(interface, root: root) { return .networkd }
        if IfcfgBackend.applies(root: root) { return .ifcfg }
        return .netlink
    }

    private func make(_ kind: IPInjectionBackendKind) -> any IPConfigurationBackend {
        switch kind {
        case .automatic, .netlink: NetlinkBackend(tracker: tracker)
        case .networkManager: NetworkManagerBackend(busPath: busPath)
        case .networkd: NetworkdBackend(root: root, busPath: busPath)
        case .netplan: NetplanBackend(root: root)
        case .ifcfg: IfcfgBackend(live: NetlinkBackend(tracker: tracker), root: root)
        }
    }
}
