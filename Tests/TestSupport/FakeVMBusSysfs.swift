import Foundation
import HVSystem
import RingTransport
import VMBusDiscovery

/// A fake sysfs tree in a temporary directory that behaves like the vmbus bus for binding: writes
/// are recorded in order, and `bind`/`unbind` move the device's `driver` link and create its uio
/// node, the way the kernel would.
public final class FakeVMBusSysfs: SysfsAccess {
    public let base: URL
    let real: DirectorySysfs
    public var writes: [(path: String, value: String)] = []
    /// Paths whose next write fails with this errno (e.g. EEXIST for new_id).
    public var failures: [String: Int32] = [:]
    /// How many directory listings of `uio/` come back empty after a bind (the probe race).
    public var uioDelay = 0
    private var nextUIO = 0

    public var root: String { real.root }

    /// Device nodes created on bind (regular files of map 0's size) go to `<base>/dev`.
    public var devDirectory: String { base.path + "/dev" }

    public init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("fakesysfs-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        real = DirectorySysfs(root: base.path)
        for d in ["hv_utils", "uio_hv_generic", "hv_netvsc", "hv_storvsc"] { try mkdir("/sys/bus/vmbus/drivers/\(d)") }
    }

    deinit { try? FileManager.default.removeItem(at: base) }

    /// Two rings formatted as the kernel does at open (indices 0, feature bit set).
    static func formattedRings(ringSize: Int) -> Data {
        var data = Data(count: 2 * ringSize)
        data[64] = 1
        data[ringSize + 64] = 1
        return data
    }

    public func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: base.path + path, withIntermediateDirectories: true)
    }

    public func put(_ path: String, _ text: String) throws {
        try mkdir((path as NSString).deletingLastPathComponent)
        try text.write(toFile: base.path + path, atomically: false, encoding: .utf8)
    }

    public func link(_ path: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: base.path + path)
        try FileManager.default.createSymbolicLink(atPath: base.path + path, withDestinationPath: target)
    }

    /// Adds a device directory the way the kernel lays it out.
    public func addDevice(instance: String, classID: String, relID: Int, driver: String?, monitor: Bool = false, cpu: Int = 0) throws {
        let dir = "/sys/bus/vmbus/devices/\(instance)"
        try mkdir(dir)
        try put("\(dir)/class_id", "{\(classID)}\n")
        try put("\(dir)/device_id", "{\(instance)}\n")
        try put("\(dir)/id", "\(relID)\n")
        try put("\(dir)/channel_vp_mapping", "\(relID):\(cpu)\n")
        if monitor { try put("\(dir)/monitor_id", "3\n") }
        if let driver { try link("\(dir)/driver", to: "../../../../bus/vmbus/drivers/\(driver)") }
    }

    public func removeDevice(instance: String) throws {
        try FileManager.default.removeItem(atPath: base.path + "/sys/bus/vmbus/devices/\(instance)")
    }

    public func read(_ path: String) -> String? { real.read(path) }
    public func exists(_ path: String) -> Bool { real.exists(path) }
    public func linkTargetName(_ path: String) -> String? { real.linkTargetName(path) }
    public func fileSize(_ path: String) -> Int? { real.fileSize(path) }

    public func list(_ path: String) -> [String] {
        if path.hasSuffix("/uio") && uioDelay > 0 && real.exists(path) {
            uioDelay -= 1
            return []
        }
        return real.list(path)
    }

    public func write(_ path: String, _ value: String) throws(SystemCallError) {
        writes.append((path, value))
        if let e = failures.removeValue(forKey: path) { throw DirectorySysfs.writeError(path, Errno(rawValue: e)) }
        let parts = path.split(separator: "/")
        // /sys/bus/vmbus/drivers/<driver>/<attribute>
        guard parts.count == 6, parts[3] == "drivers" else { return }
        let drv = String(parts[4])
        let dir = "/sys/bus/vmbus/devices/\(value)"
        do {
            switch (path as NSString).lastPathComponent {
            case "unbind":
                try FileManager.default.removeItem(atPath: base.path + "\(dir)/driver")
                try? FileManager.default.removeItem(atPath: base.path + "\(dir)/uio")
            case "bind":
                try link("\(dir)/driver", to: "../../../../bus/vmbus/drivers/\(drv)")
                if drv == "uio_hv_generic" {
                    try mkdir("\(dir)/uio/uio\(nextUIO)")
                    try put("/sys/class/uio/uio\(nextUIO)/maps/map0/size", "0x10000\n")
                    try mkdir("/dev")
                    _ = FileManager.default.createFile(atPath: "\(devDirectory)/uio\(nextUIO)", contents: Self.formattedRings(ringSize: 0x8000))
                    nextUIO += 1
                }
            default:
                break
            }
        } catch {
            throw DirectorySysfs.writeError(path, .operationNotSupportedByDevice)
        }
    }
}
