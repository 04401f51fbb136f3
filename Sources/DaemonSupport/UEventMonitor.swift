import CHVSupport
import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// Kernel uevents for the vmbus bus (NETLINK_KOBJECT_UEVENT): how the daemon learns, without polling,
/// that a device was rescinded and offered again (the KVP device comes back under a new instance
/// directory and uio node), or that a driver was bound.
public final class UEventMonitor: @unchecked Sendable {
    public let descriptor: Int32

    /// One uevent: `ACTION`, `DEVPATH`, `SUBSYSTEM`, `DRIVER` and the other `KEY=value` pairs.
    public struct Event: Equatable, Sendable {
        public var action: String
        public var devicePath: String
        public var properties: [String: String]
        public var subsystem: String? { properties["SUBSYSTEM"] }
        public var driver: String? { properties["DRIVER"] }
    }

    /// Subscribes to the kernel's uevent multicast group. Needs no privilege to receive.
    public init() throws(SystemCallError) {
        let fd = chv_uevent_socket()
        guard fd >= 0 else { throw SystemCallError(call: "socket(NETLINK_KOBJECT_UEVENT)", errno: .current) }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Reads every pending message without blocking and returns the vmbus events among them.
    public func drain() -> [Event] {
        var events: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(descriptor, raw.baseAddress, raw.count, 0) } }
            guard n > 0 else { break }
            if let event = Self.parse(buffer[..<n]), event.subsystem == "vmbus" { events.append(event) }
        }
        return events
    }

    /// Parses one kernel uevent message: `ACTION@DEVPATH\0KEY=value\0...`. `nil` for anything else
    /// (udev's "libudev" messages, garbage).
    public static func parse(_ bytes: some Collection<UInt8>) -> Event? {
        let fields = bytes.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        guard let head = fields.first, let at = head.firstIndex(of: "@") else { return nil }
        var properties: [String: String] = [:]
        for field in fields.dropFirst() {
            guard let eq = field.firstIndex(of: "=") else { continue }
            properties[String(field[..<eq])] = String(field[field.index(after: eq)...])
        }
        let action = properties["ACTION"] ?? String(head[..<at])
        let path = properties["DEVPATH"] ?? String(head[head.index(after: at)...])
        guard !action.isEmpty, path.hasPrefix("/") else { return nil }
        return Event(action: action, devicePath: path, properties: properties)
    }
}

