import SystemBus

/// Applies a configuration through NetworkManager's D-Bus API — no `nmcli`, no shell, no file
/// written by hvagent: NetworkManager stores the profile itself (docs/PROTOCOL.md §7.19,
/// "NetworkManager"; docs/ARCHITECTURE.md "IP injection").
///
/// hvagent's own profile `hvagent-<if>` (``NetworkManagerSettings``) is added, or updated when an
/// earlier SET_IP_INFO made it, and activated on the interface's device. The undo brings back
/// exactly what was there: the earlier settings of hvagent's profile (or no such profile), and
/// the profile that was active on the device before (or none, by disconnecting it).
///
/// NetworkManager lets root do all of this without polkit (its own rule for uid 0), so the agent
/// needs no capability for it — only the system bus socket.
public struct NetworkManagerBackend: IPConfigurationBackend {
    public var name: String { "NetworkManager" }
    private let busPath: String
    private let timeout: Duration

    static let service = "org.freedesktop.NetworkManager"
    static let managerPath = "/org/freedesktop/NetworkManager"
    static let settingsPath = "/org/freedesktop/NetworkManager/Settings"
    static let deviceInterface = "org.freedesktop.NetworkManager.Device"
    static let settingsInterface = "org.freedesktop.NetworkManager.Settings"
    static let connectionInterface = "org.freedesktop.NetworkManager.Settings.Connection"

    /// - Parameters:
    ///   - busPath: the system bus socket (tests: a private bus).
    ///   - timeout: for each call; NetworkManager answers in milliseconds, activation itself is
    ///     asynchronous and verified by ``IPInjector`` through netlink.
    public init(busPath: String = DBusConnection.systemBusPath, timeout: Duration = .seconds(5)) {
        self.busPath = busPath
        self.timeout = timeout
    }

    /// Whether NetworkManager runs and manages `interface` (its device's `Managed` property). A
    /// bus without NetworkManager on it is not asked to start it (NameHasOwner first).
    public static func manages(_ interface: InjectionInterface, busPath: String = DBusConnection.systemBusPath) -> Bool {
        do throws(DBusError) {
            let bus = try DBusConnection(path: busPath, timeout: .seconds(2))
            let owned = try bus.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                                     member: "NameHasOwner", body: [.string(service)], timeout: .seconds(2))
            guard owned.first?.boolValue == true else { return false }
            let device = try NetworkManagerSession(bus: bus, timeout: .seconds(2)).device(named: interface.name)
            return try bus.property(destination: service, path: device, interface: deviceInterface, name: "Managed",
                                    timeout: .seconds(2)).boolValue == true
        } catch {
            return false
        }
    }

    struct Undo: IPConfigurationUndo {
        let backend: NetworkManagerBackend
        let interfaceName: String
        /// hvagent's profile, and its settings before (nil: apply added it).
        let profile: String
        let previousSettings: DBusValue?
        /// The profile active on the device before, if any (hvagent's own, from an earlier request,
        /// is activated again with its earlier settings).
        let previouslyActive: String?

        func undo() throws(IPConfigurationError) {
            try backend.session { nm throws(DBusError) in
                let device = try nm.device(named: interfaceName)
                if let previousSettings {
                    try nm.call(profile, NetworkManagerBackend.connectionInterface, "Update", [previousSettings])
                }
                if let previouslyActive {
                    try nm.activate(previouslyActive, on: device)
                } else {
                    do throws(DBusError) {
                        try nm.call(device, NetworkManagerBackend.deviceInterface, "Disconnect")
                    } catch let error where error.isRemote("org.freedesktop.NetworkManager.Device.NotActive") {
                        // Already down: what it was before.
                    }
                }
                if previousSettings == nil {
                    try nm.call(profile, NetworkManagerBackend.connectionInterface, "Delete")
                }
            }
        }
    }

    public func apply(_ configuration: IPConfiguration, to interface: InjectionInterface) throws(IPConfigurationError)
        -> any IPConfigurationUndo {
        let settings = try NetworkManagerSettings.profile(configuration, for: interface)
        return try session { nm throws(DBusError) -> Undo in
            let device = try nm.device(named: interface.name)
            let active = try nm.property(device, NetworkManagerBackend.deviceInterface, "ActiveConnection").stringValue
            var previouslyActive: String?
            if let active, active != "/" {
                previouslyActive = try nm.property(active, "org.freedesktop.NetworkManager.Connection.Active", "Connection").stringValue
            }
            let uuid = NetworkManagerSettings.profileUUID(interface)
            var profile: String
            var previousSettings: DBusValue?
            do throws(DBusError) {
                profile = try nm.call(NetworkManagerBackend.settingsPath, NetworkManagerBackend.settingsInterface,
                                      "GetConnectionByUuid", [.string(uuid)]).first?.stringValue ?? ""
                previousSettings = try nm.call(profile, NetworkManagerBackend.connectionInterface, "GetSettings").first
                try nm.call(profile, NetworkManagerBackend.connectionInterface, "Update", [settings])
            } catch let error where error.isRemote("org.freedesktop.NetworkManager.Settings.InvalidConnection") {
                // No profile with that UUID yet.
                profile = try nm.call(NetworkManagerBackend.settingsPath, NetworkManagerBackend.settingsInterface,
                                      "AddConnection", [settings]).first?.stringValue ?? ""
                previousSettings = nil
            }
            guard profile.hasPrefix("/") else { throw DBusError.invalid("NetworkManager returned no profile path") }
            let undo = Undo(backend: self, interfaceName: interface.name, profile: profile,
                            previousSettings: previousSettings, previouslyActive: previouslyActive)
            do throws(DBusError) {
                try nm.activate(profile, on: device)
            } catch {
                // Refused at once (a bad profile, the device gone): nothing is left half-applied.
                try? undo.undo()
                throw error
            }
            return undo
        }
    }

    /// Runs `body` on a fresh connection; D-Bus failures become ``IPConfigurationError/failed(_:)``
    /// with NetworkManager's own error name and message.
    func session<T>(_ body: (NetworkManagerSession) throws(DBusError) -> T) throws(IPConfigurationError) -> T {
        do throws(DBusError) {
            let bus = try DBusConnection(path: busPath, timeout: timeout)
            return try body(NetworkManagerSession(bus: bus, timeout: timeout))
        } catch {
            throw .failed("NetworkManager: \(error)")
        }
    }
}

/// NetworkManager's calls on one bus connection.
struct NetworkManagerSession {
    let bus: DBusConnection
    let timeout: Duration

    @discardableResult
    func call(_ path: String, _ interface: String, _ member: String, _ body: [DBusValue] = []) throws(DBusError) -> [DBusValue] {
        try bus.call(destination: NetworkManagerBackend.service, path: path, interface: interface, member: member, body: body, timeout: timeout)
    }

    func property(_ path: String, _ interface: String, _ name: String) throws(DBusError) -> DBusValue {
        try bus.property(destination: NetworkManagerBackend.service, path: path, interface: interface, name: name, timeout: timeout)
    }

    /// The device object of an interface name (`GetDeviceByIpIface`).
    func device(named name: String) throws(DBusError) -> String {
        guard let path = try call(NetworkManagerBackend.managerPath, NetworkManagerBackend.service, "GetDeviceByIpIface",
                                  [.string(name)]).first?.stringValue else {
            throw .invalid("NetworkManager returned no device for \(name)")
        }
        return path
    }

    func activate(_ profile: String, on device: String) throws(DBusError) {
        try call(NetworkManagerBackend.managerPath, NetworkManagerBackend.service, "ActivateConnection",
                 [.objectPath(profile), .objectPath(device), .objectPath("/")])
    }
}

extension DBusError {
    func isRemote(_ name: String) -> Bool {
        if case let .remote(n, _) = self { return n == name }
        return false
    }
}
