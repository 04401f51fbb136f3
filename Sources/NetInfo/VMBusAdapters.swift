#if canImport(Glibc)
import Glibc
#endif

/// Maps a SET_IP_INFO adapter id (the NIC's VMBus instance GUID) to an interface name.
///
/// As upstream's `kvp_get_if_name()`: for each entry of `/sys/class/net`, read
/// `<if>/device/device_id` (hv_vmbus prints the instance GUID braced and lower-case), drop the
/// newline and compare exactly with what the host sent.
public struct VMBusAdapters: Sendable {
    /// Prefix for the sysfs path ("/" on a live system, a temp dir in tests).
    public var root: String

    public init(root: String = "/") {
        self.root = root
    }

    public func interfaceName(forAdapterGUID guid: String) -> String? {
        let trimmed = String(guid.prefix { $0 != "\0" })
        guard !trimmed.isEmpty else { return nil }
        let base = (root == "/" ? "" : root) + "/sys/class/net"
        guard let dir = opendir(base) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        for name in names.sorted() {
            guard let text = readTextFile(base + "/" + name + "/device/device_id", limit: 256) else { continue }
            let id = text.hasSuffix("\n") ? String(text.dropLast()) : text
            if id == trimmed { return name }
        }
        return nil
    }
}
