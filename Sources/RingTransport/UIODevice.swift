import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// Opens a channel bound to uio_hv_generic from its `/dev/uioN` node (docs/PROTOCOL.md §3).
///
/// Device discovery and binding belong to the agent; this only turns an already bound node into a
/// guest-role ``VMBusChannel``: map 0 holds both rings (size from sysfs, never hard-coded, docs/PROTOCOL.md §8 Q10),
/// the header is the system page size, the doorbell is the node itself.
public enum UIODevice {
    /// - Parameters:
    ///   - path: the device node, e.g. `/dev/uio3`.
    ///   - sysfsRoot: where `class/uio/uioN/maps/map0/size` is read (a parameter so tests can use a
    ///     fake tree).
    ///   - mapSize: overrides the sysfs size (both rings together).
    public static func openChannel(path: String, sysfsRoot: String = "/sys", mapSize: Int? = nil) throws(ChannelError) -> VMBusChannel {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let size: Int
        if let mapSize {
            size = mapSize
        } else {
            size = try readMapSize("\(sysfsRoot)/class/uio/\(name)/maps/map0/size")
        }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard size > 0, size % (2 * pageSize) == 0 else {
            throw .invalidConfiguration("map 0 of \(path) is \(size) bytes, not two page-aligned rings")
        }
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .system(call: "open", path: path, errno: .current) }
        let doorbell = UIODoorbell(descriptor: fd)
        let memory = try SharedMemoryRegion(mapping: fd, byteCount: size)
        return try VMBusChannel(memory: memory, ringSize: size / 2, headerSize: pageSize, doorbell: doorbell, role: .guest)
    }

    /// Parses a uio map size file: hex text with a `0x` prefix and a newline (`map_size_show`).
    public static func parseMapSize(_ text: String) -> Int? {
        var s = Substring(text.trimmedWhitespace())
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s = s.dropFirst(2) }
        guard !s.isEmpty, let value = Int(s, radix: 16), value > 0 else { return nil }
        return value
    }

    private static func readMapSize(_ path: String) throws(ChannelError) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(call: "open", path: path, errno: .current) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(fd, raw.baseAddress, 63) } }
        guard n > 0 else { throw .system(call: "read", path: path, errno: n < 0 ? .current : .ioError) }
        let text = String(decoding: buffer[..<n], as: UTF8.self)
        guard let size = parseMapSize(text) else { throw .invalidConfiguration("\(path): \(text)") }
        return size
    }
}

extension String {
    fileprivate func trimmedWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
