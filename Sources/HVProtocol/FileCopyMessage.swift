/// One decoded file-copy body (docs/PROTOCOL.md §6.6): the operation and, for START and WRITE,
/// their fields, every size checked against the bytes received.
public enum FileCopyMessage: Hashable, Sendable {
    case start(FileCopyStart)
    case write(FileCopyChunk)
    case complete
    case cancel
    /// An operation this protocol does not define (answered E_FAIL).
    case unknown(FileCopyOperation)

    /// The operation word alone, if the body holds one (for replies to bodies that fail to decode).
    public static func operation(of body: [UInt8]) -> FileCopyOperation? {
        LittleEndian.u32(body, at: FileCopyLayout.operationOffset).map(FileCopyOperation.init(rawValue:))
    }

    /// Decodes a body: the bytes after the IC header (ring) or a whole device message.
    ///
    /// - Every operation needs the 36-byte header (Linux's only check, which a shorter packet fails
    ///   by killing the daemon: COMPATIBILITY.md F9).
    /// - START needs its 1088 bytes and two NUL-terminated names in `names`' encoding.
    /// - WRITE needs 52 bytes, `size` ≤ 6144 and `52 + size` ≤ the body (F5): the host may trim the
    ///   packet to the chunk, but never claim more than it sent.
    /// - COMPLETE and CANCEL need only the header.
    public static func decode(_ body: [UInt8], names: FileCopyNameEncoding) throws(FileCopyDecodeError) -> FileCopyMessage {
        guard let raw = LittleEndian.u32(body, at: FileCopyLayout.operationOffset), body.count >= FileCopyLayout.headerSize else {
            throw .truncated(operation: operation(of: body), length: body.count, needed: FileCopyLayout.headerSize)
        }
        let operation = FileCopyOperation(rawValue: raw)
        switch operation {
        case .startFileCopy:
            return .start(try FileCopyStart.decode(body, names: names))
        case .writeToFile:
            return .write(try FileCopyChunk.decode(body))
        case .complete:
            return .complete
        case .cancel:
            return .cancel
        default:
            return .unknown(operation)
        }
    }
}

/// `struct hv_start_fcopy` decoded: names as text, flags and the announced size.
public struct FileCopyStart: Hashable, Sendable {
    public var fileName: String
    public var pathName: String
    public var copyFlags: UInt32
    public var fileSize: UInt64

    public init(fileName: String, pathName: String, copyFlags: UInt32, fileSize: UInt64) {
        self.fileName = fileName
        self.pathName = pathName
        self.copyFlags = copyFlags
        self.fileSize = fileSize
    }

    /// OVER_WRITE.
    public var overwrite: Bool { copyFlags & FileCopyLayout.overwriteFlag != 0 }
    /// CREATE_PATH.
    public var createPath: Bool { copyFlags & FileCopyLayout.createPathFlag != 0 }

    static func decode(_ body: [UInt8], names: FileCopyNameEncoding) throws(FileCopyDecodeError) -> FileCopyStart {
        guard body.count >= FileCopyLayout.startSize,
              let flags = LittleEndian.u32(body, at: FileCopyLayout.copyFlagsOffset),
              let size = LittleEndian.u64(body, at: FileCopyLayout.fileSizeOffset)
        else { throw .truncated(operation: .startFileCopy, length: body.count, needed: FileCopyLayout.startSize) }
        return FileCopyStart(
            fileName: try names.decode(body, at: FileCopyLayout.fileNameOffset),
            pathName: try names.decode(body, at: FileCopyLayout.pathNameOffset),
            copyFlags: flags, fileSize: size)
    }
}

/// `struct hv_do_fcopy` decoded: where the chunk goes and its bytes (a copy, never the packet).
public struct FileCopyChunk: Hashable, Sendable {
    public var offset: UInt64
    public var data: ArraySlice<UInt8>

    public init(offset: UInt64, data: ArraySlice<UInt8>) {
        self.offset = offset
        self.data = data
    }

    /// The largest `offset + size` a file may have (`off_t` is signed 64-bit).
    static let offsetLimit = UInt64(Int64.max)

    static func decode(_ body: [UInt8]) throws(FileCopyDecodeError) -> FileCopyChunk {
        let start = FileCopyLayout.writeDataOffset
        guard let offset = LittleEndian.u64(body, at: FileCopyLayout.writeOffsetOffset),
              let size = LittleEndian.u32(body, at: FileCopyLayout.writeSizeOffset), body.count >= start
        else { throw .truncated(operation: .writeToFile, length: body.count, needed: start) }
        guard size <= UInt32(FileCopyLayout.maximumChunk) else { throw .chunkTooLarge(size: size) }
        guard Int(size) <= body.count - start else { throw .chunkPastPacket(size: size, available: body.count - start) }
        guard offset <= offsetLimit - UInt64(size) else { throw .offsetOutOfRange(offset: offset, size: size) }
        return FileCopyChunk(offset: offset, data: body[start..<(start + Int(size))])
    }
}
