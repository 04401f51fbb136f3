/// Byte offsets of `struct hv_kvp_msg` (include/uapi/linux/hyperv.h) shared by both KVP wires: the
/// kernel device's 7432-byte message (UTF-8 strings) and the host's IC body over the ring (UTF-16
/// strings) have the same header, SET/GET, DELETE and ENUMERATE layout. Only the IP-info forms
/// differ (their own offsets stay in ``KernelMessage`` and ``HostMessage``).
public enum KVPMessageLayout {
    /// kvp_hdr.operation (u8).
    public static let operationOffset = 0
    /// kvp_hdr.pool (u8).
    public static let poolOffset = 1

    // SET / GET: hv_kvp_exchg_msg_value at 4.
    /// value_type (u32): 1 REG_SZ, 4 REG_U32, 8 REG_U64 (the kernel device sends 0).
    public static let setValueTypeOffset = 4
    /// key_size (u32): bytes including the NUL.
    public static let setKeySizeOffset = 8
    /// value_size (u32): bytes including the NUL; 0 in GET requests.
    public static let setValueSizeOffset = 12
    /// key[512] (UTF-8 on the device, 256 UTF-16 units on the host wire).
    public static let setKeyOffset = 16
    /// value[2048] (UTF-8 on the device, 1024 UTF-16 units or a LE u32/u64 on the host wire).
    public static let setValueOffset = 528

    // DELETE: key_size then key.
    public static let deleteKeySizeOffset = 4
    public static let deleteKeyOffset = 8

    // ENUMERATE: index then hv_kvp_exchg_msg_value.
    public static let enumIndexOffset = 4
    public static let enumValueTypeOffset = 8
    public static let enumKeySizeOffset = 12
    public static let enumValueSizeOffset = 16
    public static let enumKeyOffset = 20
    public static let enumValueOffset = 532
}
