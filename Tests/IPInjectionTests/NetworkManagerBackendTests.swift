import Synchronization
import Testing
@testable import IPInjection
import SystemBus
import TestSupport

/// NetworkManager's side of the backend, as NetworkManager 1.42's D-Bus API has it
/// (docs/PROTOCOL.md §7.19): a fake NetworkManager on a private bus that keeps profiles and the
/// device's active profile, and answers errors by the names NetworkManager uses.
final class FakeNetworkManager: Sendable {
    static let device = "/org/freedesktop/NetworkManager/Devices/2"
    struct State {
        var profiles: [String: DBusValue] = [:] // path -> settings
        var uuids: [String: String] = [:] // uuid -> path
        var active: String? // profile path
        var refuseActivation = false
        var managed = true
        var next = 10
    }
    final class Box: Sendable {
        let state: Mutex<State>
        init(_ s: State) { state = Mutex(s) }
    }
    let box: Box
    let service: FakeBusService

    init(bus: PrivateBus, state initial: State = State()) throws {
        let box = Box(initial)
        self.box = box
        service = try FakeBusService(bus: bus, name: "org.freedesktop.NetworkManager") { call in
            box.state.withLock { s in FakeNetworkManager.answer(call, &s) }
        }
    }

    static func answer(_ call: FakeBusService.Call, _ s: inout State) -> FakeBusService.Answer {
        switch call.member {
        case "GetDeviceByIpIface":
            return call.body == [.string("eth0")] ? .reply([.objectPath(device)])
                : .error("org.freedesktop.NetworkManager.UnknownDevice", "No device found for the requested iface.")
        case "Get":
            switch call.body.last?.stringValue {
            case "ActiveConnection"?: return .reply([.variant(.objectPath(s.active == nil ? "/" : "/org/freedesktop/NetworkManager/ActiveConnection/1"))])
            case "Connection"?: return .reply([.variant(.objectPath(s.active ?? "/"))])
            case "Managed"?: return .reply([.variant(.boolean(s.managed))])
            default: return .error("org.freedesktop.DBus.Error.UnknownProperty", "no such property")
            }
        case "GetConnectionByUuid":
            guard let uuid = call.body.first?.stringValue, let path = s.uuids[uuid] else {
                return .error("org.freedesktop.NetworkManager.Settings.InvalidConnection", "No connection with the UUID was found.")
            }
            return .reply([.objectPath(path)])
        case "AddConnection":
            guard let settings = call.body.first, let uuid = settings[key: "connection"]?[key: "uuid"]?.stringValue else {
                return .error("org.freedesktop.NetworkManager.Settings.InvalidConnection", "no uuid")
            }
            let path = "/org/freedesktop/NetworkManager/Settings/\(s.next)"
            s.next += 1
            s.profiles[path] = settings
            s.uuids[uuid] = path
            return .reply([.objectPath(path)])
        case "GetSettings":
            guard let settings = s.profiles[call.path] else { return .error("org.freedesktop.DBus.Error.UnknownObject", call.path) }
            return .reply([settings])
        case "Update":
            guard s.profiles[call.path] != nil, let settings = call.body.first else { return .error("org.freedesktop.DBus.Error.UnknownObject", call.path) }
            s.profiles[call.path] = settings
            return .reply([])
        case "Delete":
            s.profiles[call.path] = nil
            s.uuids = s.uuids.filter { $0.value != call.path }
            if s.active == call.path { s.active = nil }
            return .reply([])
        case "ActivateConnection":
            guard !s.refuseActivation else {
                return .error("org.freedesktop.NetworkManager.Device.NotAllowed", "device eth0 is not available")
            }
            s.active = call.body.first?.stringValue
            return .reply([.objectPath("/org/freedesktop/NetworkManager/ActiveConnection/1")])
        case "Disconnect":
            guard s.active != nil else { return .error("org.freedesktop.NetworkManager.Device.NotActive", "not active") }
            s.active = nil
            return .reply([])
        default:
            return .error("org.freedesktop.DBus.Error.UnknownMethod", call.member)
        }
    }
}

@Suite struct NetworkManagerBackendTests {
    static let eth0 = InjectionInterface(name: "eth0", index: 2, mac: "00:15:5d:01:02:03")
    static let adminProfile = "/org/freedesktop/NetworkManager/Settings/1"

    static func configuration(_ addresses: [(String, Int)], gateways: [String] = [], dns: [String] = [], dhcp: Bool = false) throws -> IPConfiguration {
        IPConfiguration(dhcpV4: dhcp, addresses: try addresses.map { a, p in
            guard let literal = IPLiteral(a) else { throw Shell.Failure(description: a) }
            return .init(address: literal, prefixLength: p)
        }, gateways: gateways.compactMap(IPLiteral.init), dnsServers: dns.compactMap(IPLiteral.init))
    }

    @Test func profileSettings() throws {
        let c = try Self.configuration([("192.0.2.5", 24), ("2001:db8::5", 64)], gateways: ["192.0.2.1", "192.0.2.2", "2001:db8::1"],
                                       dns: ["192.0.2.53", "2001:db8::53"])
        let p = try NetworkManagerSettings.profile(c, for: Self.eth0)
        #expect(p.type.description == "a{sa{sv}}")
        #expect(p[key: "connection"]?[key: "id"] == .string("hvagent-eth0"))
        #expect(p[key: "connection"]?[key: "interface-name"] == .string("eth0"))
        #expect(p[key: "connection"]?[key: "uuid"]?.stringValue == NetworkManagerSettings.profileUUID(Self.eth0))
        #expect(p[key: "802-3-ethernet"]?[key: "mac-address"] == .array(.byte, [0x00, 0x15, 0x5d, 0x01, 0x02, 0x03].map { .byte($0) }))
        let v4 = try #require(p[key: "ipv4"])
        #expect(v4[key: "method"] == .string("manual"))
        #expect(v4[key: "address-data"]?.elements == [.dictionary([("address", .string("192.0.2.5")), ("prefix", .uint32(24))])])
        #expect(v4[key: "gateway"] == .string("192.0.2.1"))
        #expect(v4[key: "route-data"]?.elements == [.dictionary([("dest", .string("0.0.0.0")), ("prefix", .uint32(0)),
                                                                ("next-hop", .string("192.0.2.2")), ("metric", .uint32(1))])])
        // 192.0.2.53 in network byte order, read as a little-endian u32.
        #expect(v4[key: "dns"] == .array(.uint32, [.uint32(0x3502_00C0)]))
        let v6 = try #require(p[key: "ipv6"])
        #expect(v6[key: "method"] == .string("manual"))
        #expect(v6[key: "gateway"] == .string("2001:db8::1"))
        let v6DNS: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53]
        #expect(v6[key: "dns"] == .array(.array(.byte), [.array(.byte, v6DNS.map { .byte($0) })]))
    }

    @Test func dhcpAndMethods() throws {
        let dhcp = try NetworkManagerSettings.profile(try Self.configuration([], dns: ["192.0.2.53"], dhcp: true), for: Self.eth0)
        #expect(dhcp[key: "ipv4"]?[key: "method"] == .string("auto"))
        #expect(dhcp[key: "ipv4"]?[key: "ignore-auto-dns"] == .boolean(true))
        #expect(dhcp[key: "ipv6"]?[key: "method"] == .string("auto"))
        let v6only = try NetworkManagerSettings.profile(try Self.configuration([("2001:db8::5", 64)]), for: Self.eth0)
        #expect(v6only[key: "ipv4"]?[key: "method"] == .string("disabled"))
        #expect(v6only[key: "ipv6"]?[key: "method"] == .string("manual"))
    }

    @Test func uuidIsStablePerInterfaceAndWellFormed() {
        let a = NetworkManagerSettings.profileUUID(Self.eth0)
        #expect(a == NetworkManagerSettings.profileUUID(InjectionInterface(name: "eth0", index: 9, mac: "00:00:00:00:00:01")))
        #expect(a != NetworkManagerSettings.profileUUID(InjectionInterface(name: "eth1", index: 2, mac: Self.eth0.mac)))
        let groups = a.split(separator: "-").map(\.count)
        #expect(groups == [8, 4, 4, 4, 12])
        #expect(Array(a)[14] == "4")
    }

    /// First request: the admin's profile is active; hvagent adds its own and activates it; the
    /// undo activates the admin's again and deletes hvagent's.
    @Test func addActivateAndUndo() throws {
        guard let bus = try PrivateBus() else { return }
        let nm = try FakeNetworkManager(bus: bus, state: .init(profiles: [Self.adminProfile: .settings([])], active: Self.adminProfile))
        defer { nm.service.stop() }
        let backend = NetworkManagerBackend(busPath: bus.socketPath)
        let c = try Self.configuration([("192.0.2.5", 24)], gateways: ["192.0.2.1"])
        let undo = try backend.apply(c, to: Self.eth0)
        let added = try #require(nm.service.calls("AddConnection").first)
        #expect(added.body == [try NetworkManagerSettings.profile(c, for: Self.eth0)])
        let ours = try #require(nm.box.state.withLock { $0.active })
        #expect(ours != Self.adminProfile)
        #expect(nm.service.calls("ActivateConnection").last?.body == [.objectPath(ours), .objectPath(FakeNetworkManager.device), .objectPath("/")])
        try undo.undo()
        #expect(nm.box.state.withLock { $0.active } == Self.adminProfile)
        #expect(nm.box.state.withLock { $0.profiles[ours] } == nil)
        #expect(nm.service.calls("Delete").map(\.path) == [ours])
    }

    /// A second request updates hvagent's profile; the undo puts its earlier settings back and
    /// activates it again.
    @Test func updateAndUndoRestoresEarlierSettings() throws {
        guard let bus = try PrivateBus() else { return }
        let nm = try FakeNetworkManager(bus: bus)
        defer { nm.service.stop() }
        let backend = NetworkManagerBackend(busPath: bus.socketPath)
        let first = try Self.configuration([("192.0.2.5", 24)])
        _ = try backend.apply(first, to: Self.eth0)
        let ours = try #require(nm.box.state.withLock { $0.active })
        let second = try Self.configuration([("198.51.100.7", 25)])
        let undo = try backend.apply(second, to: Self.eth0)
        #expect(nm.service.calls("AddConnection").count == 1)
        #expect(nm.box.state.withLock { $0.profiles[ours] } == (try NetworkManagerSettings.profile(second, for: Self.eth0)))
        try undo.undo()
        #expect(nm.box.state.withLock { $0.profiles[ours] } == (try NetworkManagerSettings.profile(first, for: Self.eth0)))
        #expect(nm.box.state.withLock { $0.active } == ours)
        #expect(nm.service.calls("ActivateConnection").count == 3)
    }

    /// NetworkManager refuses the activation: the error names NetworkManager's reason, and what
    /// was added is gone again (nothing was active before: the device is left down, as it was).
    @Test func refusedActivationLeavesNothingBehind() throws {
        guard let bus = try PrivateBus() else { return }
        let nm = try FakeNetworkManager(bus: bus, state: .init(refuseActivation: true))
        defer { nm.service.stop() }
        let backend = NetworkManagerBackend(busPath: bus.socketPath)
        #expect {
            try backend.apply(try Self.configuration([("192.0.2.5", 24)]), to: Self.eth0)
        } throws: { error in
            "\(error)".contains("org.freedesktop.NetworkManager.Device.NotAllowed") && "\(error)".contains("not available")
        }
        #expect(nm.box.state.withLock { $0.profiles.isEmpty && $0.uuids.isEmpty && $0.active == nil })
        #expect(nm.service.calls("Delete").count == 1)
    }

    @Test func unknownInterfaceIsAnError() throws {
        guard let bus = try PrivateBus() else { return }
        let nm = try FakeNetworkManager(bus: bus)
        defer { nm.service.stop() }
        let other = InjectionInterface(name: "eth7", index: 7, mac: "00:15:5d:01:02:07")
        #expect {
            try NetworkManagerBackend(busPath: bus.socketPath).apply(try Self.configuration([("192.0.2.5", 24)]), to: other)
        } throws: { error in "\(error)".contains("UnknownDevice") }
        #expect(nm.service.calls("AddConnection").isEmpty)
    }

    @Test func managesOnlyWhenRunningAndManaged() throws {
        guard let bus = try PrivateBus() else { return }
        #expect(!NetworkManagerBackend.manages(Self.eth0, busPath: bus.socketPath))
        let nm = try FakeNetworkManager(bus: bus)
        defer { nm.service.stop() }
        #expect(NetworkManagerBackend.manages(Self.eth0, busPath: bus.socketPath))
        #expect(!NetworkManagerBackend.manages(InjectionInterface(name: "eth7", index: 7, mac: Self.eth0.mac), busPath: bus.socketPath))
        nm.box.state.withLock { $0.managed = false }
        #expect(!NetworkManagerBackend.manages(Self.eth0, busPath: bus.socketPath))
        #expect(!NetworkManagerBackend.manages(Self.eth0, busPath: "/nonexistent/bus"))
    }
}
