

/// A VMBus device class: what a class GUID means (docs/PROTOCOL.md §4.1; names as tools/hv/lsvmbus prints them).
public struct VMBusDeviceClass: Hashable, Sendable {
    /// The class GUID (sysfs `class_id` without braces).
    public let classID: VMBusGUID
    /// Short machine name, used in JSON and configuration (`heartbeat`, `kvp`, `netvsc`, ...).
    public let name: String
    /// The description tools/hv/lsvmbus prints.
    public let description: String
    /// The kernel driver that normally binds it, if any.
    public let kernelDriver: String?

    init(_ guid: String, _ name: String, _ description: String, driver: String?) {
        // The table below is constant text checked by the tests; a typo would show there.
        self.classID = VMBusGUID(guid) ?? .null
        self.name = name
        self.description = description
        self.kernelDriver = driver
    }

    public static let heartbeat = VMBusDeviceClass("57164f39-9115-4e78-ab55-382f3bd5422d", "heartbeat", "[Heartbeat]", driver: "hv_utils")
    public static let shutdown = VMBusDeviceClass("0e0b6031-5213-4934-818b-38d90ced39db", "shutdown", "[Operating system shutdown]", driver: "hv_utils")
    public static let timesync = VMBusDeviceClass("9527e630-d0ae-497b-adce-e80ab0175caf", "timesync", "[Time Synchronization]", driver: "hv_utils")
    public static let kvp = VMBusDeviceClass("a9a0f4e7-5a45-4d96-b827-8a841e8c03e6", "kvp", "[Data Exchange]", driver: "hv_utils")
    public static let vss = VMBusDeviceClass("35fa2e29-ea23-4236-96ae-3a6ebacba440", "vss", "[Backup (volume checkpoint)]", driver: "hv_utils")
    public static let fcopy = VMBusDeviceClass("34d14be3-dee4-41c8-9ae7-6b174977c192", "fcopy", "[Guest services]", driver: nil)
    public static let balloon = VMBusDeviceClass("525074dc-8985-46e2-8057-a307dc18a502", "balloon", "[Dynamic Memory]", driver: "hv_balloon")
    public static let netvsc = VMBusDeviceClass("f8615163-df3e-46c5-913f-f2d2f965ed0e", "netvsc", "Synthetic network adapter", driver: "hv_netvsc")
    public static let scsi = VMBusDeviceClass("ba6163d9-04a1-4d29-b605-72e2ffb1dc7f", "scsi", "Synthetic SCSI Controller", driver: "hv_storvsc")
    public static let ide = VMBusDeviceClass("32412632-86cb-44a2-9b5c-50d1417354f5", "ide", "Synthetic IDE Controller", driver: "hv_storvsc")
    public static let fibreChannel = VMBusDeviceClass("2f9bcc4a-0069-4af3-b76b-6fd0be528cda", "fc", "Synthetic fiber channel adapter", driver: "hv_storvsc")
    public static let keyboard = VMBusDeviceClass("f912ad6d-2b17-48ea-bd65-f927a61c7684", "keyboard", "Synthetic keyboard", driver: "hyperv_keyboard")
    public static let mouse = VMBusDeviceClass("cfa8b69e-5b4a-4cc0-b98b-8ba1a1f3f95a", "mouse", "Synthetic mouse", driver: "hid_hyperv")
    public static let video = VMBusDeviceClass("da0a7802-e377-4aac-8e77-0558eb1073f8", "synthvid", "Synthetic framebuffer adapter", driver: "hyperv_drm")
    public static let pcie = VMBusDeviceClass("44c4f61d-4444-4400-9d52-802e27ede19f", "pcie", "PCI Express pass-through", driver: "hv_pci")
    public static let networkDirect = VMBusDeviceClass("8c2eaf3d-32a7-4b09-ab99-bd1f1c86b501", "nd", "Synthetic RDMA adapter", driver: nil)
    public static let avma1 = VMBusDeviceClass("f8e65716-3cb3-4a06-9a60-1889c5cccab5", "avma1", "[Reserved system device]", driver: nil)
    public static let avma2 = VMBusDeviceClass("3375baf4-9e15-4b30-b765-67acb10d607b", "avma2", "[Reserved system device]", driver: nil)
    public static let rdv = VMBusDeviceClass("276aacf4-ac15-426c-98dd-7521ad3f01fe", "rdv", "[Reserved system device]", driver: nil)

    /// Every class in the table of docs/PROTOCOL.md §4.1, in that order.
    public static let all: [VMBusDeviceClass] = [
        heartbeat, shutdown, timesync, kvp, vss, fcopy, balloon, netvsc, scsi, ide, fibreChannel, keyboard, mouse,
        video, pcie, networkDirect, avma1, avma2, rdv,
    ]

    private static let byID: [VMBusGUID: VMBusDeviceClass] = Dictionary(uniqueKeysWithValues: all.map { ($0.classID, $0) })

    /// The class for a GUID, or `nil` for one the table does not know (lsvmbus prints "Unknown").
    public static func lookup(_ classID: VMBusGUID) -> VMBusDeviceClass? { byID[classID] }
}
