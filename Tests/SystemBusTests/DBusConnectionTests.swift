import Testing
@testable import SystemBus
import TestSupport

/// The client against a real `dbus-daemon` (a private bus): the daemon checks every message it
/// routes, so a marshalling mistake of ours is a disconnect or an error here, not a silent pass.
@Suite struct DBusConnectionTests {
    @Test func helloAndListNames() throws {
        guard let bus = try PrivateBus() else { return }
        let connection = try DBusConnection(path: bus.socketPath)
        #expect(connection.uniqueName.hasPrefix(":"))
        let reply = try connection.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                        interface: "org.freedesktop.DBus", member: "ListNames")
        let names = reply.first?.elements?.compactMap(\.stringValue) ?? []
        #expect(names.contains("org.freedesktop.DBus"))
        #expect(names.contains(connection.uniqueName))
    }

    @Test func propertyGet() throws {
        guard let bus = try PrivateBus() else { return }
        let connection = try DBusConnection(path: bus.socketPath)
        let features = try connection.property(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                               interface: "org.freedesktop.DBus", name: "Interfaces")
        #expect(features.type == .array(.string))
    }

    @Test func errorReplyIsThrownWithItsName() throws {
        guard let bus = try PrivateBus() else { return }
        let connection = try DBusConnection(path: bus.socketPath)
        #expect {
            try connection.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                interface: "org.freedesktop.DBus", member: "NoSuchMethod")
        } throws: { error in
            guard case let .remote(name, _) = error as? DBusError else { return false }
            return name == "org.freedesktop.DBus.Error.UnknownMethod"
        }
        #expect {
            try connection.call(destination: "org.example.Nobody", path: "/", interface: "org.example.I", member: "M")
        } throws: { error in
            guard case let .remote(name, _) = error as? DBusError else { return false }
            return name == "org.freedesktop.DBus.Error.ServiceUnknown"
        }
    }

    /// Every type there is, nested as NetworkManager's settings are, sent through the bus to a
    /// second connection and back: the decoder reads exactly what the encoder wrote, after the
    /// daemon has validated it twice.
    @Test func everyTypeRoundTripsThroughTheBus() throws {
        guard let bus = try PrivateBus() else { return }
        let service = try DBusConnection(path: bus.socketPath)
        let client = try DBusConnection(path: bus.socketPath)
        let owned = try service.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                     interface: "org.freedesktop.DBus", member: "RequestName",
                                     body: [.string("org.hvagent.Echo"), .uint32(4)])
        #expect(owned == [.uint32(1)])
        let body: [DBusValue] = [
            .byte(7), .boolean(true), .int16(-2), .uint16(65535), .int32(-3), .uint32(4_000_000_000),
            .int64(-5), .uint64(UInt64.max), .double(1.5), .string("grüße"), .objectPath("/org/x/Y_1"),
            .signature("a{sv}"), .variant(.variant(.uint32(9))), .array(.string, []), .array(.byte, [.byte(1), .byte(2), .byte(3)]),
            .structure([.byte(1), .uint64(2), .string("three")]),
            .settings([("connection", [("id", .string("hvagent-eth0")), ("autoconnect", .boolean(true))]),
                       ("ipv4", [("address-data", .array(.array(.dictEntry(key: .string, value: .variant)),
                                                          [.dictionary([("address", .string("192.0.2.5")), ("prefix", .uint32(24))])])),
                                 ("dns", .array(.uint32, [.uint32(0x0802_0008)]))]),
                       ("ipv6", [("dns", .array(.array(.byte), [.array(.byte, (0..<16).map { .byte(UInt8($0)) })]))])]),
        ]
        let serial = try client.send(.methodCall(destination: "org.hvagent.Echo", path: "/echo", interface: "org.hvagent.Echo",
                                                 member: "Echo", body: body))
        var call = try service.receive(timeout: .seconds(5))
        while call.kind != .methodCall { call = try service.receive(timeout: .seconds(5)) }
        #expect(call.member == "Echo")
        #expect(call.body == body)
        var reply = DBusMessage(kind: .methodReturn)
        reply.replySerial = call.serial
        reply.destination = call.sender
        reply.body = call.body
        try service.send(reply)
        var answer = try client.receive(timeout: .seconds(5))
        while answer.replySerial != serial { answer = try client.receive(timeout: .seconds(5)) }
        #expect(answer.kind == .methodReturn)
        #expect(answer.body == body)
    }

    @Test func aCallNobodyAnswersTimesOut() throws {
        guard let bus = try PrivateBus() else { return }
        let silent = try DBusConnection(path: bus.socketPath)
        _ = try silent.call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                            interface: "org.freedesktop.DBus", member: "RequestName", body: [.string("org.hvagent.Silent"), .uint32(4)])
        let client = try DBusConnection(path: bus.socketPath)
        #expect(throws: DBusError.timedOut("org.hvagent.Silent.M")) {
            try client.call(destination: "org.hvagent.Silent", path: "/", interface: "org.hvagent.Silent", member: "M",
                            timeout: .milliseconds(200))
        }
    }

    @Test func noBusIsASystemError() {
        #expect {
            try DBusConnection(path: "/nonexistent/bus", timeout: .milliseconds(200))
        } throws: { error in
            guard case let .system(e) = error as? DBusError else { return false }
            return e.errno == .noSuchFileOrDirectory
        }
    }
}

/// The decoder on input it did not make: every truncation and every single-byte change of a valid
/// message either decodes or throws — never traps, never reads past the bytes.
@Suite struct DBusMessageDecodingTests {
    static func sample() throws -> [UInt8] {
        var m = DBusMessage.methodCall(destination: "org.freedesktop.NetworkManager", path: "/org/freedesktop/NetworkManager",
                                       interface: "org.freedesktop.NetworkManager", member: "ActivateConnection",
                                       body: [.objectPath("/a/1"), .variant(.array(.string, [.string("x")])),
                                              .settings([("ipv4", [("method", .string("manual"))])])])
        m.serial = 3
        return try m.encoded()
    }

    @Test func roundTrip() throws {
        let bytes = try Self.sample()
        let m = try DBusMessage(decoding: bytes)
        #expect(m.member == "ActivateConnection")
        #expect(m.serial == 3)
        #expect(try m.encoded() == bytes)
    }

    @Test func truncationsAndFlippedBytesNeverTrap() throws {
        let bytes = try Self.sample()
        for n in 0..<bytes.count {
            #expect(throws: DBusError.self) { try DBusMessage(decoding: Array(bytes[..<n])) }
        }
        var decoded = 0
        for i in 0..<bytes.count {
            for value: UInt8 in [0, 1, 0x7F, 0x80, 0xFF] {
                var b = bytes
                b[i] = value
                if (try? DBusMessage(decoding: b)) != nil { decoded += 1 }
            }
        }
        #expect(decoded < bytes.count * 5)
    }

    @Test func signatureLimits() {
        #expect(DBusType.parse(signature: "a{sa{sv}}") == [.array(.dictEntry(key: .string, value: .array(.dictEntry(key: .string, value: .variant))))])
        #expect(DBusType.parse(signature: "{sv}") == nil)
        #expect(DBusType.parse(signature: "a{vs}") == nil)
        #expect(DBusType.parse(signature: "()") == nil)
        #expect(DBusType.parse(signature: "a") == nil)
        #expect(DBusType.parse(signature: String(repeating: "a", count: 33) + "y") == nil)
        #expect(DBusType.parse(signature: String(repeating: "a", count: 32) + "y") != nil)
        #expect(DBusType.parse(signature: "z") == nil)
    }

    @Test func busAddress() {
        #expect(DBusConnection.unixPath(fromAddress: "unix:path=/run/x/bus") == "/run/x/bus")
        #expect(DBusConnection.unixPath(fromAddress: "tcp:host=a;unix:guid=1,path=/b") == "/b")
        #expect(DBusConnection.unixPath(fromAddress: "unix:abstract=foo") == nil)
    }
}
