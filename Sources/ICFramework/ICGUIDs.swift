import RingTransport

/// Class GUIDs of the integration-component devices (spec §4, Linux include/linux/hyperv.h).
public enum ICClassGUID {
    /// HV_HEART_BEAT_GUID, "[Heartbeat]".
    public static let heartbeat = VMBusGUID("57164f39-9115-4e78-ab55-382f3bd5422d")!
    /// HV_SHUTDOWN_GUID, "[Operating system shutdown]".
    public static let shutdown = VMBusGUID("0e0b6031-5213-4934-818b-38d90ced39db")!
    /// HV_TS_GUID, "[Time Synchronization]".
    public static let timesync = VMBusGUID("9527e630-d0ae-497b-adce-e80ab0175caf")!
    /// HV_KVP_GUID, "[Data Exchange]".
    public static let kvp = VMBusGUID("a9a0f4e7-5a45-4d96-b827-8a841e8c03e6")!
    /// HV_VSS_GUID, "[Backup (volume checkpoint)]".
    public static let vss = VMBusGUID("35fa2e29-ea23-4236-96ae-3a6ebacba440")!
    /// HV_FCOPY_GUID, "[Guest services]".
    public static let fcopy = VMBusGUID("34d14be3-dee4-41c8-9ae7-6b174977c192")!
}

/// Fixed instance GUIDs of single-instance IC devices (spec §4). Match by class, not by these.
public enum ICInstanceGUID {
    public static let shutdown = VMBusGUID("b6650ff7-33bc-4840-8048-e0676786f393")!
    public static let timesync = VMBusGUID("2dd1ce17-079e-403c-b352-a1921ee207ee")!
    public static let kvp = VMBusGUID("242ff919-07db-4180-9c2e-b86cb68c8c55")!
    public static let fcopy = VMBusGUID("eb765408-105f-49b6-b4aa-c123b64d17d4")!
}
