import HVProtocol

/// Host side of shutdown (docs/PROTOCOL.md §6.2): one request, then the reply's status.
///
/// Body layout, 2060 bytes, laid out here and not borrowed from the guest (Linux
/// `struct shutdown_msg_data`, openvmm `shutdown::ShutdownMessage` in
/// vm/devices/hyperv_ic_protocol/src/lib.rs): +0 u32 `reason_code`, +4 u32 `timeout_in_seconds`,
/// +8 u32 `flags`, +12 u8[2048] display message.
public enum ShutdownHostLogic {
    static let reasonOffset = 0
    static let timeoutOffset = 4
    static let flagsOffset = 8
    static let messageOffset = 12
    static let messageSize = 2048
    /// The whole body.
    public static let bodySize = 2060

    /// `flags` bit 0: do not wait for applications.
    public static let flagForce: UInt32 = 1
    /// `flags` bit 1: restart instead of power off.
    public static let flagRestart: UInt32 = 2
    /// `flags` bit 2: hibernate (service version 3.2 and later).
    public static let flagHibernate: UInt32 = 4
    /// SHTDN_REASON_FLAG_PLANNED, the reason openvmm sends.
    public static let reasonPlanned: UInt32 = 0x8000_0000

    /// The request body. The message is written as UTF-16LE, as Windows hosts write their text,
    /// and cut at 1023 units so a NUL always ends it.
    public static func requestBody(flags: UInt32, reason: UInt32 = reasonPlanned, timeoutSeconds: UInt32 = 0,
                                   message: String = "") -> [UInt8] {
        var body = [UInt8](repeating: 0, count: bodySize)
        LittleEndian.store(reason, into: &body, at: reasonOffset)
        LittleEndian.store(timeoutSeconds, into: &body, at: timeoutOffset)
        LittleEndian.store(flags, into: &body, at: flagsOffset)
        for (index, unit) in message.utf16.prefix(messageSize / 2 - 1).enumerated() {
            LittleEndian.store(unit, into: &body, at: messageOffset + 2 * index)
        }
        return body
    }
}
