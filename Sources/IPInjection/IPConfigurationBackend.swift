/// What applies an ``IPConfiguration`` to an interface (blocking; ``IPInjector`` runs off the
/// agent's loop): the system's own network manager
/// (NetworkManager, systemd-networkd, netplan, the ifcfg layout) or, where none manages the
/// interface, the kernel directly over rtnetlink (docs/ARCHITECTURE.md, "IP injection").
///
/// A backend only applies and undoes; checking that the kernel then has what the host asked for is
/// ``IPInjector``'s job, the same for every backend, so a backend that reports success without
/// effect is caught and rolled back.
public protocol IPConfigurationBackend: Sendable {
    /// For logs and status lines.
    var name: String { get }
    /// Applies `configuration` to `interface`, replacing what the backend had configured there,
    /// and returns how to put the previous configuration back. Throws (``IPConfigurationError/failed(_:)``)
    /// when the backend refuses; it must then have changed nothing, or undone it itself.
    func apply(_ configuration: IPConfiguration, to interface: InjectionInterface) throws(IPConfigurationError)
        -> any IPConfigurationUndo
    /// The longest verification that still lets this backend's apply, the verification and its
    /// undo fit in hv_utils' 30 s transaction timeout together; nil when the backend's own steps
    /// take no noticeable time. ``IPInjector`` waits no longer than this.
    var longestVerification: Duration? { get }
}

extension IPConfigurationBackend {
    public var longestVerification: Duration? { nil }
}

/// Puts back what one ``IPConfigurationBackend/apply(_:to:)`` replaced.
public protocol IPConfigurationUndo: Sendable {
    func undo() throws(IPConfigurationError)
}

/// The interface a SET_IP_INFO names, as found in sysfs (docs/PROTOCOL.md §7.19).
public struct InjectionInterface: Equatable, Hashable, Sendable {
    /// `eth0`.
    public var name: String
    /// `/sys/class/net/<if>/ifindex`.
    public var index: Int32
    /// `/sys/class/net/<if>/address` without the newline, as the kernel prints it (lower-case).
    public var mac: String

    public init(name: String, index: Int32, mac: String) {
        self.name = name
        self.index = index
        self.mac = mac
    }
}

/// The backends there are, for configuration (`[kvp] ip_injection`).
public enum IPInjectionBackendKind: Sendable, Hashable {
    /// Chosen per request by what manages the interface (``BackendSelector``).
    case automatic
    case networkManager
    case networkd
    case netplan
    case ifcfg
    case netlink
}
