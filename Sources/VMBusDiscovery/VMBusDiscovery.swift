import RingTransport
import HVProtocol

/// Lists VMBus devices from sysfs. The root is a parameter (through ``SysfsAccess``) so tests run on
/// a fake tree. Values from sysfs are parsed defensively: a device with an unreadable or malformed
/// `class_id` is skipped rather than guessed at.
public struct VMBusDiscovery {
    public let sysfs: any SysfsAccess
    public static let devicesPath = "/sys/bus/vmbus/devices"

    public init(sysfs: any SysfsAccess) {
        self.sysfs = sysfs
    }

    /// Whether the VMBus exists at all (false on a machine that is not a Hyper-V guest).
    public var busPresent: Bool { sysfs.exists(Self.devicesPath) }

    /// Every device, sorted by relid (then instance), as lsvmbus lists them.
    public func devices() -> [VMBusDevice] {
        sysfs.list(Self.devicesPath).compactMap(device(named:)).sorted {
            ($0.relID ?? Int.max, $0.instanceID.description) < ($1.relID ?? Int.max, $1.instanceID.description)
        }
    }

    /// Devices of one class, e.g. to find the KVP device again after a rescind and re-offer (its
    /// instance directory and uioN may be new).
    public func devices(of deviceClass: VMBusDeviceClass) -> [VMBusDevice] {
        devices().filter { $0.classID == deviceClass.classID }
    }

    /// One device by its directory name, or `nil` if it is not a readable VMBus device.
    public func device(named name: String) -> VMBusDevice? {
        let dir = "\(Self.devicesPath)/\(name)"
        guard let instanceID = VMBusGUID(name), let classText = sysfs.read("\(dir)/class_id"),
            let classID = VMBusGUID(classText.trimmed)
        else { return nil }
        let relID = sysfs.read("\(dir)/id").flatMap { Int($0.trimmed) }
        let uio = sysfs.list("\(dir)/uio").first { $0.hasPrefix("uio") }
        var ringSize: Int?
        if let relID, let size = sysfs.fileSize("\(dir)/channels/\(relID)/ring"), size > 0 {
            ringSize = size / 2
        } else if let uio, let text = sysfs.read("/sys/class/uio/\(uio)/maps/map0/size"), let size = UIODevice.parseMapSize(text) {
            ringSize = size / 2
        }
        let cpus: [(relID: Int, cpu: Int)] = (sysfs.read("\(dir)/channel_vp_mapping") ?? "")
            .split(separator: "\n").compactMap { line in
                let parts = line.split(separator: ":")
                guard parts.count == 2, let r = Int(parts[0].trimmed), let c = Int(parts[1].trimmed) else { return nil }
                return (r, c)
            }.sorted { $0.relID < $1.relID }
        return VMBusDevice(
            instanceID: instanceID, classID: classID, deviceClass: VMBusDeviceClass.lookup(classID),
            deviceID: sysfs.read("\(dir)/device_id").flatMap { VMBusGUID($0.trimmed) }, relID: relID,
            driver: sysfs.linkTargetName("\(dir)/driver"), uioNode: uio, ringSize: ringSize,
            monitorAllocated: sysfs.exists("\(dir)/monitor_id"), channelCPUs: cpus)
    }
}

extension StringProtocol {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
