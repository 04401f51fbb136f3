import HVProtocol

/// Errors of the host's file-copy API.
public enum FileCopyHostError: Error, Hashable, Sendable {
    /// A name longer than the wire field (259 UTF-16 units and the NUL).
    case nameTooLong(String)
    /// The guest did not answer in time.
    case noReply(String)
}

/// Host side of file copy (Copy-VMFile) as Hyper-V builds its messages (docs/PROTOCOL.md §6.6;
/// `struct hv_fcopy_hdr`, `hv_start_fcopy`, `hv_do_fcopy` in include/uapi/linux/hyperv.h). Written
/// from those tables with offsets of its own, independently of the guest's `FileCopyLayout` and
/// `FileCopyMessage`, so a layout error on either side shows in the tests.
public enum FileCopyHostLogic {
    /// Operation codes (body +0).
    public enum Operation: UInt32, Sendable {
        case start = 0, write = 1, complete = 2, cancel = 3
    }

    /// copy_flags bits.
    public static let overwrite: UInt32 = 1
    public static let createPath: UInt32 = 2
    /// DATA_FRAGMENT.
    public static let chunk = 6144

    /// hdr: operation u32 and two 16-byte service ids, which Hyper-V leaves zero (36 bytes).
    static func header(_ operation: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        LittleEndian.append(operation, to: &bytes)
        return bytes + [UInt8](repeating: 0, count: 32)
    }

    /// One W_MAX_PATH field: UTF-16LE units, a NUL, zero-filled to 520 bytes.
    public static func nameField(_ text: String) throws(FileCopyHostError) -> [UInt8] {
        let units = Array(text.utf16)
        guard units.count <= 259 else { throw .nameTooLong(text) }
        var field: [UInt8] = []
        field.reserveCapacity(520)
        for unit in units { LittleEndian.append(unit, to: &field) }
        return field + [UInt8](repeating: 0, count: 520 - field.count)
    }

    /// START_FILE_COPY (1088 bytes): hdr, file_name +36, path_name +556, copy_flags +1076,
    /// file_size +1080. The raw-field form lets hostile tests send any bytes as a name.
    public static func startBody(fileNameField: [UInt8], pathNameField: [UInt8], flags: UInt32, fileSize: UInt64) -> [UInt8] {
        var body = header(Operation.start.rawValue)
        body += Array((fileNameField + [UInt8](repeating: 0, count: 520)).prefix(520))
        body += Array((pathNameField + [UInt8](repeating: 0, count: 520)).prefix(520))
        LittleEndian.append(flags, to: &body)
        LittleEndian.append(fileSize, to: &body)
        return body
    }

    public static func startBody(fileName: String, pathName: String, flags: UInt32, fileSize: UInt64) throws(FileCopyHostError) -> [UInt8] {
        startBody(fileNameField: try nameField(fileName), pathNameField: try nameField(pathName), flags: flags, fileSize: fileSize)
    }

    /// WRITE_TO_FILE: hdr, pad +36, offset +40, size +48, data +52. Full form 6196 bytes (the data
    /// area zero-filled), or trimmed to 52 + data (docs/PROTOCOL.md §6.6: which one Hyper-V sends
    /// is not known). `declaredSize` lets hostile tests claim a size the packet does not carry.
    public static func writeBody(offset: UInt64, data: ArraySlice<UInt8>, trimmed: Bool = false, declaredSize: UInt32? = nil) -> [UInt8] {
        var body = header(Operation.write.rawValue)
        body.reserveCapacity(6196)
        LittleEndian.append(UInt32(0), to: &body)
        LittleEndian.append(offset, to: &body)
        LittleEndian.append(declaredSize ?? UInt32(data.count), to: &body)
        body += data
        if !trimmed && body.count < 6196 { body += [UInt8](repeating: 0, count: 6196 - body.count) }
        return body
    }

    public static let completeBody = header(Operation.complete.rawValue)
    public static let cancelBody = header(Operation.cancel.rawValue)
}

/// Copy-VMFile's parameters as the simulated host takes them.
public struct HostFileCopy: Sendable {
    /// file_name: the leaf of the host's SourcePath.
    public var fileName: String
    /// path_name: the DestinationPath.
    public var destination: String
    public var data: [UInt8]
    public var overwrite = false
    public var createPath = false
    /// file_size as announced in START (default: the data's length).
    public var announcedSize: UInt64?
    /// Bytes per WRITE (at most 6144 for a well-behaved host).
    public var chunkSize = FileCopyHostLogic.chunk
    /// WRITE packets trimmed to 52 + size instead of the full 6196-byte struct.
    public var trimWrites = false
    /// Send the chunks last to first (chunks need not be sequential).
    public var reverseChunks = false
    /// Send CANCEL after this many WRITEs instead of finishing.
    public var cancelAfterChunks: Int?

    public init(fileName: String, destination: String, data: [UInt8], overwrite: Bool = false, createPath: Bool = false) {
        self.fileName = fileName
        self.destination = destination
        self.data = data
        self.overwrite = overwrite
        self.createPath = createPath
    }
}

/// What the host saw of one Copy-VMFile.
public struct HostFileCopyResult: Hashable, Sendable {
    public var start: HResult
    /// Statuses of the WRITEs sent (the copy stops at the first failure).
    public var writes: [HResult] = []
    public var complete: HResult?
    /// Sent after a failure or when asked to cancel (docs/PROTOCOL.md §6.6: the host's behaviour
    /// after a failure is not known; this host cancels).
    public var cancel: HResult?
    /// Replies whose body length differed from the request's.
    public var shortReplies = 0

    /// The status Copy-VMFile would report: the first failure, else COMPLETE's.
    public var status: HResult {
        if !start.isSuccess { return start }
        if let failed = writes.first(where: { !$0.isSuccess }) { return failed }
        return complete ?? cancel ?? .ok
    }
}
