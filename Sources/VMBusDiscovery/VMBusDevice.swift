import RingTransport
import HVProtocol

/// One device under `/sys/bus/vmbus/devices/<instance>/` as discovery found it (docs/PROTOCOL.md §3.2).
public struct VMBusDevice: Equatable, Sendable {
    /// Directory name: the lowercase instance GUID.
    public var instanceID: VMBusGUID
    /// `class_id`.
    public var classID: VMBusGUID
    /// The known class, or `nil` ("Unknown" in lsvmbus).
    public var deviceClass: VMBusDeviceClass?
    /// `device_id` (the instance GUID as the host states it).
    public var deviceID: VMBusGUID?
    /// `id`: the child relid (decimal). Changes across boots and re-offers: never key on it.
    public var relID: Int?
    /// The bound driver (last component of the `driver` link), or `nil` when unbound.
    public var driver: String?
    /// The uio node (`uioN`) when bound to uio_hv_generic.
    public var uioNode: String?
    /// Bytes per ring (header included) when known: the `channels/<relid>/ring` file or uio map 0,
    /// both hold TX + RX, so this is half their size.
    public var ringSize: Int?
    /// Whether the channel has a monitor page (`monitor_id` exists). uio `write()` does not signal
    /// the host for such channels (docs/PROTOCOL.md §8 Q19).
    public var monitorAllocated: Bool
    /// `channel_vp_mapping`: (relid, target CPU) pairs, sorted by relid.
    public var channelCPUs: [(relID: Int, cpu: Int)]

    public static func == (a: VMBusDevice, b: VMBusDevice) -> Bool {
        a.instanceID == b.instanceID && a.classID == b.classID && a.deviceID == b.deviceID && a.relID == b.relID
            && a.driver == b.driver && a.uioNode == b.uioNode && a.ringSize == b.ringSize
            && a.monitorAllocated == b.monitorAllocated && a.channelCPUs.map(\.relID) == b.channelCPUs.map(\.relID)
            && a.channelCPUs.map(\.cpu) == b.channelCPUs.map(\.cpu)
    }

    /// The short class name, or "unknown".
    public var className: String { deviceClass?.name ?? "unknown" }
}
