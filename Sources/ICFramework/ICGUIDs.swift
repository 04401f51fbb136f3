import RingTransport

/// Class GUIDs of the integration-component devices (docs/PROTOCOL.md §4.1, Linux include/linux/hyperv.h); the
/// table itself is ``VMBusDeviceClass``.
public enum ICClassGUID {
    /// HV_HEART_BEAT_GUID, "[Heartbeat]".
    public static let heartbeat = VMBusDeviceClass.heartbeat.classID
    /// HV_SHUTDOWN_GUID, "[Operating system shutdown]".
    public static let shutdown = VMBusDeviceClass.shutdown.classID
    /// HV_TS_GUID, "[Time Synchronization]".
    public static let timesync = VMBusDeviceClass.timesync.classID
    /// HV_KVP_GUID, "[Data Exchange]".
    public static let kvp = VMBusDeviceClass.kvp.classID
    /// HV_VSS_GUID, "[Backup (volume checkpoint)]".
    public static let vss = VMBusDeviceClass.vss.classID
    /// HV_FCOPY_GUID, "[Guest services]".
    public static let fcopy = VMBusDeviceClass.fcopy.classID
}

/// Fixed instance GUIDs of single-instance IC devices (docs/PROTOCOL.md §4.2). Match by class, not by these.
public enum ICInstanceGUID {
    public static let shutdown = VMBusDeviceClass.shutdown.classID
    public static let timesync = VMBusDeviceClass.timesync.classID
    public static let kvp = VMBusDeviceClass.kvp.classID
    public static let fcopy = VMBusDeviceClass.fcopy.classID
}
