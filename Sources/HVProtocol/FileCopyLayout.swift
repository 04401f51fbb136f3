/// Byte offsets of the file-copy bodies (docs/PROTOCOL.md §6.6; uapi `hyperv.h` `struct
/// hv_fcopy_hdr`, `struct hv_start_fcopy`, `struct hv_do_fcopy`). Offsets are from the start of the
/// body, which is P+28 on the ring and byte 0 of a `/dev/vmbus/hv_fcopy` message.
public enum FileCopyLayout {
    // hv_fcopy_hdr (36 bytes): operation, then two unused service ids.
    /// operation (u32), ``FileCopyOperation``.
    public static let operationOffset = 0
    /// service_id0 (16 bytes, "currently unused").
    public static let serviceID0Offset = 4
    /// service_id1 (16 bytes, "currently unused").
    public static let serviceID1Offset = 20
    /// `sizeof(struct hv_fcopy_hdr)`; also the shortest body any operation is read from.
    public static let headerSize = 36

    // hv_start_fcopy (1088 bytes).
    /// `W_MAX_PATH`: code units per name field, the terminating NUL included.
    public static let nameUnits = 260
    /// Bytes per name field (u16[260]).
    public static let nameFieldSize = 520
    /// file_name (u16[260]): the leaf name of the host's source file.
    public static let fileNameOffset = 36
    /// path_name (u16[260]): the guest destination.
    public static let pathNameOffset = 556
    /// copy_flags (u32): ``overwriteFlag``, ``createPathFlag``.
    public static let copyFlagsOffset = 1076
    /// file_size (u64; at P+1108 on the ring, not 8-aligned).
    public static let fileSizeOffset = 1080
    /// `sizeof(struct hv_start_fcopy)`.
    public static let startSize = 1088

    /// copy_flags bit 0, OVER_WRITE: replace an existing file.
    public static let overwriteFlag: UInt32 = 0x1
    /// copy_flags bit 1, CREATE_PATH: create missing directories.
    public static let createPathFlag: UInt32 = 0x2

    // hv_do_fcopy (6196 bytes).
    /// pad (u32, "reserved").
    public static let writePadOffset = 36
    /// offset (u64): where in the file the data goes.
    public static let writeOffsetOffset = 40
    /// size (u32): valid bytes in data.
    public static let writeSizeOffset = 48
    /// data (u8[6144]).
    public static let writeDataOffset = 52
    /// `DATA_FRAGMENT`: the largest chunk.
    public static let maximumChunk = 6 * 1024
    /// `sizeof(struct hv_do_fcopy)`.
    public static let writeSize = 6196
}
