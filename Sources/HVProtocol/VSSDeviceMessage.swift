/// The 12-byte `struct hv_vss_msg` exchanged with the kernel over `/dev/vmbus/hv_vss` (kernel
/// mode; docs/PROTOCOL.md §6.5.6).
///
/// | Off | Kernel → daemon | Daemon → kernel |
/// |---|---|---|
/// | 0 | u8 operation (2, 5, 6) | i32 HRESULT, bytes 0–3 (a union with the operation byte) |
/// | 1–11 | zero | zero (ignored) |
///
/// Registration: the daemon writes byte 0 = 129 (REGISTER1), the kernel answers with 4 bytes, u32
/// 129. Nothing else from the host's message reaches the daemon (no flags, no LUNs).
public enum VSSDeviceMessage {
    public static let size = 12
    /// The kernel's answer to REGISTER1: u32 129, 4 bytes.
    public static let registrationReplySize = 4

    /// The registration write: REGISTER1 then 11 zero bytes.
    public static func registration() -> [UInt8] {
        [VSSOperation.register1.rawValue] + [UInt8](repeating: 0, count: size - 1)
    }

    /// Whether `bytes` is the kernel's registration answer (exactly 4 bytes, u32 129).
    public static func isRegistrationReply(_ bytes: [UInt8]) -> Bool {
        bytes.count == registrationReplySize && LittleEndian.u32(bytes, at: 0) == UInt32(VSSOperation.register1.rawValue)
    }

    /// The operation of a kernel request (exactly 12 bytes), else nil.
    public static func request(_ bytes: [UInt8]) -> VSSOperation? {
        guard bytes.count == size else { return nil }
        return VSSOperation(rawValue: bytes[0])
    }

    /// A kernel request as the kernel builds it (`vss_send_op`): zeroed, byte 0 = op.
    public static func encodeRequest(_ operation: VSSOperation) -> [UInt8] {
        [operation.rawValue] + [UInt8](repeating: 0, count: size - 1)
    }

    /// The daemon's reply: the HRESULT little-endian in bytes 0–3, the rest zero.
    public static func reply(_ status: HResult) -> [UInt8] {
        var bytes: [UInt8] = []
        LittleEndian.append(status.rawValue, to: &bytes)
        return bytes + [UInt8](repeating: 0, count: size - 4)
    }

    /// The status of a daemon reply (exactly 12 bytes), else nil.
    public static func replyStatus(_ bytes: [UInt8]) -> HResult? {
        guard bytes.count == size, let raw = LittleEndian.u32(bytes, at: 0) else { return nil }
        return HResult(rawValue: raw)
    }
}
