/// `hv_fcopy_hdr.operation`, the first word of every file-copy body (docs/PROTOCOL.md §6.6;
/// uapi `hyperv.h enum hv_fcopy_op`).
///
/// A struct over the raw value rather than a closed enum: the host may send any u32, and an
/// unknown operation must still be answered (E_FAIL), not fail to decode.
public struct FileCopyOperation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// START_FILE_COPY: names, flags and size of the file that follows.
    public static let startFileCopy = FileCopyOperation(rawValue: 0)
    /// WRITE_TO_FILE: one chunk of at most 6144 bytes at an offset.
    public static let writeToFile = FileCopyOperation(rawValue: 1)
    /// COMPLETE_FCOPY: the last chunk was sent.
    public static let complete = FileCopyOperation(rawValue: 2)
    /// CANCEL_FCOPY: the host gave up; the guest discards what it has.
    public static let cancel = FileCopyOperation(rawValue: 3)

    public var description: String {
        switch self {
        case .startFileCopy: "START_FILE_COPY"
        case .writeToFile: "WRITE_TO_FILE"
        case .complete: "COMPLETE_FCOPY"
        case .cancel: "CANCEL_FCOPY"
        default: "op \(rawValue)"
        }
    }
}
