import DaemonSupport
import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// A blocking connection to a D-Bus bus (the system bus, or a test's private one): SASL EXTERNAL
/// authentication, `Hello`, method calls with a deadline (docs/PROTOCOL.md §7.20).
///
/// Why the agent has its own, small client instead of libdbus or sd-bus: the packages depend on
/// libc and libnl only, and the agent needs a handful of method calls from one thread (IP
/// injection runs off the agent's loop), not an event loop integration. Signals and unrelated
/// messages that arrive while a call waits are dropped.
public final class DBusConnection {
    /// Where the system bus listens: `$DBUS_SYSTEM_BUS_ADDRESS`'s `unix:path=` when set, else the
    /// well-known socket.
    public static var systemBusPath: String {
        if let address = getenv("DBUS_SYSTEM_BUS_ADDRESS").map({ String(cString: $0) }),
           let path = unixPath(fromAddress: address) {
            return path
        }
        return "/run/dbus/system_bus_socket"
    }

    /// The `path=` of the first `unix:` entry of a bus address (`unix:path=/run/x;...`).
    static func unixPath(fromAddress address: String) -> String? {
        for entry in address.split(separator: ";") where entry.hasPrefix("unix:") {
            for pair in entry.dropFirst(5).split(separator: ",") where pair.hasPrefix("path=") {
                return String(pair.dropFirst(5))
            }
        }
        return nil
    }

    private let fd: Int32
    private var nextSerial: UInt32 = 1
    private var buffer: [UInt8] = []
    /// Our unique name (`:1.42`), from `Hello`.
    public private(set) var uniqueName = ""

    /// Connects, authenticates as this process's uid and says `Hello`, all within `timeout`.
    public init(path: String = DBusConnection.systemBusPath, timeout: Duration = .seconds(5)) throws(DBusError) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let address: UnixSocketAddress
        do { address = try UnixSocketAddress(path: path) } catch { throw .system(error) }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(SystemCallError(call: "socket(AF_UNIX)", errno: .current)) }
        guard address.connect(fd) == 0 else {
            let failure = Errno.current
            close(fd)
            throw .system(SystemCallError(call: "connect", path: path, errno: failure))
        }
        do throws(DBusError) {
            try authenticate(deadline: deadline)
            let reply = try call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                 interface: "org.freedesktop.DBus", member: "Hello", deadline: deadline)
            guard let name = reply.first?.stringValue else { throw .invalid("Hello returned no name") }
            uniqueName = name
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        close(fd)
    }

    /// SASL EXTERNAL: the uid in hex-encoded decimal, as the spec's example; the bus checks it
    /// against the socket's peer credentials.
    private func authenticate(deadline: ContinuousClock.Instant) throws(DBusError) {
        // Decimal digits are 0x30-0x39: always two hex digits each.
        let hex = String(getuid()).utf8.map { String($0, radix: 16) }.joined()
        try writeAll([0] + Array("AUTH EXTERNAL \(hex)\r\n".utf8), deadline: deadline)
        let line = try readLine(deadline: deadline)
        guard line.hasPrefix("OK ") else { throw .invalid("the bus refused authentication: \(line)") }
        try writeAll(Array("BEGIN\r\n".utf8), deadline: deadline)
    }

    /// Calls a method and returns the reply's body; an error reply is thrown as ``DBusError/remote(name:message:)``.
    @discardableResult
    public func call(destination: String, path: String, interface: String, member: String, body: [DBusValue] = [],
                     timeout: Duration = .seconds(10)) throws(DBusError) -> [DBusValue] {
        try call(destination: destination, path: path, interface: interface, member: member, body: body,
                 deadline: ContinuousClock.now.advanced(by: timeout))
    }

    private func call(destination: String, path: String, interface: String, member: String, body: [DBusValue] = [],
                      deadline: ContinuousClock.Instant) throws(DBusError) -> [DBusValue] {
        let serial = try send(.methodCall(destination: destination, path: path, interface: interface, member: member, body: body))
        let what = "\(interface).\(member)"
        while true {
            let message = try receive(deadline: deadline, what: what)
            guard message.replySerial == serial else { continue }
            switch message.kind {
            case .methodReturn: return message.body
            case .error: throw .remote(name: message.errorName ?? "", message: message.errorMessage)
            default: continue
            }
        }
    }

    /// `org.freedesktop.DBus.Properties.Get`: one property's value (unwrapped from its variant).
    public func property(destination: String, path: String, interface: String, name: String,
                         timeout: Duration = .seconds(10)) throws(DBusError) -> DBusValue {
        let reply = try call(destination: destination, path: path, interface: "org.freedesktop.DBus.Properties",
                             member: "Get", body: [.string(interface), .string(name)], timeout: timeout)
        guard case let .variant(value)? = reply.first else { throw .invalid("Properties.Get returned no variant") }
        return value
    }

    /// Sends a message with the next serial (which it returns).
    @discardableResult
    public func send(_ message: DBusMessage) throws(DBusError) -> UInt32 {
        var m = message
        m.serial = nextSerial
        nextSerial = nextSerial == UInt32.max ? 1 : nextSerial + 1
        try writeAll(try m.encoded(), deadline: ContinuousClock.now.advanced(by: .seconds(10)))
        return m.serial
    }

    /// The next message from the bus, whatever it is (a test's service reads calls this way).
    public func receive(timeout: Duration) throws(DBusError) -> DBusMessage {
        try receive(deadline: ContinuousClock.now.advanced(by: timeout), what: "a message")
    }

    private func receive(deadline: ContinuousClock.Instant, what: String) throws(DBusError) -> DBusMessage {
        while true {
            if buffer.count >= DBusMessage.fixedHeaderLength {
                guard let total = DBusMessage.totalLength(fixedHeader: buffer[...]) else {
                    throw .invalid("the bus sent a message this client cannot read (not little-endian version 1, or too long)")
                }
                if buffer.count >= total {
                    let bytes = Array(buffer[..<total])
                    buffer.removeFirst(total)
                    return try DBusMessage(decoding: bytes)
                }
            }
            try fill(deadline: deadline, what: what)
        }
    }

    private func readLine(deadline: ContinuousClock.Instant) throws(DBusError) -> String {
        while true {
            if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 1)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            guard buffer.count < 16384 else { throw .invalid("the bus sent an authentication line of 16 KiB") }
            try fill(deadline: deadline, what: "authentication")
        }
    }

    /// Waits (until the deadline) for bytes and appends what one read gives.
    private func fill(deadline: ContinuousClock.Instant, what: String) throws(DBusError) {
        try wait(for: Int16(POLLIN), deadline: deadline, what: what)
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(fd, raw.baseAddress, raw.count) } }
        guard n >= 0 else { throw .system(SystemCallError(call: "read", path: "D-Bus socket", errno: .current)) }
        guard n > 0 else { throw .invalid("the bus closed the connection") }
        buffer.append(contentsOf: chunk[..<n])
    }

    private func writeAll(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(DBusError) {
        var done = 0
        while done < bytes.count {
            try wait(for: Int16(POLLOUT), deadline: deadline, what: "sending")
            let n = bytes[done...].withUnsafeBytes { raw in
                retryingOnInterrupt { Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            }
            guard n > 0 else { throw .system(SystemCallError(call: "send", path: "D-Bus socket", errno: .current)) }
            done += n
        }
    }

    private func wait(for events: Int16, deadline: ContinuousClock.Instant, what: String) throws(DBusError) {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw .timedOut(what) }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, milliseconds)
            if rc > 0 { return }
            if rc < 0, errno != EINTR { throw .system(SystemCallError(call: "poll", path: "D-Bus socket", errno: .current)) }
        }
    }
}
