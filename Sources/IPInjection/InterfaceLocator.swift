import NetInfo

/// Finds the interface a SET_IP_INFO names: the one whose `device/device_id` is the adapter's
/// VMBus instance GUID, exactly as the host sent it (hv_kvp_daemon's `kvp_get_if_name()`), with
/// its index and MAC from the same sysfs directory (docs/PROTOCOL.md §7.19).
public struct InterfaceLocator: Sendable {
    /// Prefix for `/sys` ("/" on a live system, a temp dir in tests).
    public var root: String

    public init(root: String = "/") {
        self.root = root
    }

    public func interface(forAdapterGUID guid: String) throws(IPConfigurationError) -> InjectionInterface {
        guard let name = VMBusAdapters(root: root).interfaceName(forAdapterGUID: guid) else {
            throw .adapterNotFound(guid)
        }
        let base = (root == "/" ? "" : root) + "/sys/class/net/" + name
        guard let mac = readTextFile(base + "/address", limit: 128).map(Self.firstLine), !mac.isEmpty else {
            throw .failed("\(name) has no MAC address in sysfs")
        }
        guard let indexText = readTextFile(base + "/ifindex", limit: 32).map(Self.firstLine),
              let index = Int32(indexText), index > 0 else {
            throw .failed("\(name) has no interface index in sysfs")
        }
        return InjectionInterface(name: name, index: index, mac: mac)
    }

    private static func firstLine(_ text: String) -> String {
        String(text.prefix { $0 != "\n" })
    }
}
