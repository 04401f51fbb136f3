import FoundationEssentials

/// Whether a hibernate request can be honoured (docs/PROTOCOL.md §6.2).
public protocol HibernationSupport: Sendable {
    /// Hyper-V exposes S4 to this guest.
    var systemCanHibernate: Bool { get }
    /// Some VMBus device is bound to uio_hv_generic, which makes hibernation fail (docs/PROTOCOL.md §8 Q20).
    var deviceBoundToUIO: Bool { get }
}

/// Reads the kernel's answers from sysfs: `/sys/bus/vmbus/hibernation` = 1, "platform"
/// in `/sys/power/disk`, and any device under the uio_hv_generic driver.
public struct SysfsHibernationSupport: HibernationSupport {
    public var root: String

    public init(root: String = "/sys") {
        self.root = root
    }

    public var systemCanHibernate: Bool {
        guard let flag = try? String(contentsOfFile: root + "/bus/vmbus/hibernation", encoding: .utf8),
              flag.filter({ !$0.isWhitespace }) == "1",
              let disk = try? String(contentsOfFile: root + "/power/disk", encoding: .utf8)
        else { return false }
        // The active mode is bracketed: "[platform] shutdown reboot ...".
        return disk.split(whereSeparator: \.isWhitespace).contains { $0.filter { $0 != "[" && $0 != "]" } == "platform" }
    }

    public var deviceBoundToUIO: Bool {
        let driver = root + "/bus/vmbus/drivers/uio_hv_generic"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: driver) else { return false }
        // Bound devices appear as symlinks named by instance GUID (36 characters, 4 dashes).
        return entries.contains { $0.count == 36 && $0.filter { $0 == "-" }.count == 4 }
    }
}
