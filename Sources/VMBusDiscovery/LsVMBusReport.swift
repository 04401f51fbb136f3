import FoundationEssentials

/// `lsvmbus` output: the kernel tool's three text levels (tools/hv/lsvmbus) plus JSON.
public enum LsVMBusReport {
    /// Text exactly as tools/hv/lsvmbus prints it for `-v` count `verbosity` (0, 1, 2+), with the
    /// sysfs path as on the real system.
    public static func text(_ devices: [VMBusDevice], verbosity: Int) -> String {
        var out = ""
        for d in devices {
            let id = d.relID.map(String.init) ?? "?"
            let padded = String(repeating: " ", count: max(0, 2 - id.count)) + id
            let desc = d.deviceClass?.description ?? "Unknown"
            let cpus = d.channelCPUs.map { "\tRel_ID=\($0.relID), target_cpu=\($0.cpu)\n" }.joined()
            switch verbosity {
            case ..<1:
                out += "VMBUS ID \(padded): \(desc)\n"
            case 1:
                out += "VMBUS ID \(padded): Class_ID = {\(d.classID)} - \(desc)\n\(cpus)\n"
            default:
                let deviceID = d.deviceID.map { "{\($0)}" } ?? ""
                out += "VMBUS ID \(padded): Class_ID = {\(d.classID)} - \(desc)\n\tDevice_ID = \(deviceID)\n"
                    + "\tSysfs path: \(VMBusDiscovery.devicesPath)/\(d.instanceID)\n\(cpus)\n"
            }
        }
        return out
    }

    /// A JSON array with one object per device and everything discovery knows. Keys are stable and
    /// always present (`null` when unknown), for scripts.
    public static func json(_ devices: [VMBusDevice]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(devices.map(Entry.init)) else { return "[]\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    struct Entry: Encodable {
        var device: VMBusDevice
        enum Keys: String, CodingKey {
            case relID = "rel_id", instanceID = "instance_id", classID = "class_id", className = "class"
            case description, deviceID = "device_id", driver, uio, ringSize = "ring_size"
            case monitorAllocated = "monitor_allocated", channels
        }
        struct Channel: Encodable {
            var rel_id: Int
            var cpu: Int
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(device.relID, forKey: .relID)
            try c.encode(device.instanceID.description, forKey: .instanceID)
            try c.encode(device.classID.description, forKey: .classID)
            try c.encode(device.className, forKey: .className)
            try c.encode(device.deviceClass?.description ?? "Unknown", forKey: .description)
            try c.encode(device.deviceID?.description, forKey: .deviceID)
            try c.encode(device.driver, forKey: .driver)
            try c.encode(device.uioNode, forKey: .uio)
            try c.encode(device.ringSize, forKey: .ringSize)
            try c.encode(device.monitorAllocated, forKey: .monitorAllocated)
            try c.encode(device.channelCPUs.map { Channel(rel_id: $0.relID, cpu: $0.cpu) }, forKey: .channels)
        }
    }
}
