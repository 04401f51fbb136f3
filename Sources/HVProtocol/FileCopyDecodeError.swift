/// Why a file-copy body could not be decoded. Each case is answered E_FAIL (docs/PROTOCOL.md §6.6):
/// the host is not trusted, so every length, size and name is checked before use.
public enum FileCopyDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Shorter than the operation needs (`needed` bytes).
    case truncated(operation: FileCopyOperation?, length: Int, needed: Int)
    /// A name field without its NUL inside the field (260 units).
    case unterminatedName
    /// A name that is not valid UTF-16LE (an unpaired surrogate) or, from the kernel device, UTF-8.
    case invalidName
    /// WRITE_TO_FILE `size` above 6144.
    case chunkTooLarge(size: UInt32)
    /// WRITE_TO_FILE `size` past the bytes the packet carries.
    case chunkPastPacket(size: UInt32, available: Int)
    /// WRITE_TO_FILE `offset + size` does not fit an `off_t`.
    case offsetOutOfRange(offset: UInt64, size: UInt32)

    public var description: String {
        switch self {
        case .truncated(let operation, let length, let needed):
            "\(operation.map { "\($0)" } ?? "fcopy message") of \(length) bytes, needs \(needed)"
        case .unterminatedName: "name without a NUL in its 260 units"
        case .invalidName: "name is not valid UTF-16 (or UTF-8 from the kernel device)"
        case .chunkTooLarge(let size): "chunk size \(size) above 6144"
        case .chunkPastPacket(let size, let available): "chunk size \(size) with \(available) data bytes in the packet"
        case .offsetOutOfRange(let offset, let size): "chunk at \(offset) + \(size) past the largest file offset"
        }
    }
}
