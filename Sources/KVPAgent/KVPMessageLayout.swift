/// Byte offsets of `struct hv_kvp_msg` (include/uapi/linux/hyperv.h) shared by both KVP wires: the
/// kernel device's 7432-byte message (UTF-8 strings) and the host's IC body over the ring (UTF-16
/// strings) have the same header, SET/GET, DELETE and ENUMERATE layout. Only the IP-info forms
/// differ (their own offsets stay in ``KernelMessage`` and ``HostMessage``).
enum KVPMessageLayout {
    /// kvp_hdr.operation (u8).
    static let operationOffset = 0
    /// kvp_hdr.pool (u8).
    static let poolOffset = 1

    // SET / GET: hv_kvp_exchg_msg_value at 4.
    /// value_type (u32): 1 REG_SZ, 4 REG_U32, 8 REG_U64 (the kernel device sends 0).
    static let setValueTypeOffset = 4
    /// key_size (u32): bytes including the NUL.
    static let setKeySizeOffset = 8
    /// value_size (u32): bytes including the NUL; 0 in GET requests.
    static let setValueSizeOffset = 12
    /// key[512] (UTF-8 on the device, 256 UTF-16 units on the host wire).
    static let setKeyOffset = 16
    /// value[2048] (UTF-8 on the device, 1024 UTF-16 units or a LE u32/u64 on the host wire).
    static let setValueOffset = 528

    // DELETE: key_size then key.
    static let deleteKeySizeOffset = 4
    static let deleteKeyOffset = 8

    // ENUMERATE: index then hv_kvp_exchg_msg_value.
    static let enumIndexOffset = 4
    static let enumValueTypeOffset = 8
    static let enumKeySizeOffset = 12
    static let enumValueSizeOffset = 16
    static let enumKeyOffset = 20
    static let enumValueOffset = 532
}
