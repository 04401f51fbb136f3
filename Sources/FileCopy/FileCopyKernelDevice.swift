import HVSystem
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Why the kernel's file-copy device failed; the service closes it and tries again later.
public enum FileCopyDeviceError: Error, Hashable, Sendable, CustomStringConvertible {
    case system(String, errno: Int32)
    /// The kernel answered the registration with something other than its 4-byte version.
    case badHandshake(length: Int)

    public var description: String {
        switch self {
        case .system(let call, let code): "\(call): \(FileCopyError.errnoText(code))"
        case .badHandshake(let length): "registration answered with \(length) bytes, expected 4"
        }
    }
}

/// File copy through `/dev/vmbus/hv_fcopy`, the kernels before 6.10 (docs/PROTOCOL.md §6.6,
/// "Kernel mode"): hv_utils keeps the channel and hands each request to the one process that holds
/// the device.
///
/// Protocol (`hv_fcopy.c`, `hv_fcopy_daemon.c`): open, `write` the u32 version 1, `read` the
/// kernel's u32 version; then each `read` is one message — the fcopy header and body, names
/// already converted to UTF-8 — and each answer a `write` of the u32 HRESULT. A failed read or
/// write (the kernel fakes a CANCEL and resets the device at hibernation) ends the copy; the
/// service reopens.
public final class FileCopyKernelDevice {
    public static let defaultDevicePath = "/dev/vmbus/hv_fcopy"
    /// `FCOPY_CURRENT_VERSION`.
    static let registrationVersion: UInt32 = 1
    /// Larger than any message the kernel sends (`sizeof(struct hv_do_fcopy)` = 6196).
    static let bufferSize = 8192

    public let path: String
    public let engine: FileCopyEngine
    private let openDevice: (String) -> Int32
    public private(set) var descriptor: Int32 = -1
    private var handshakeDone = false
    private var buffer = [UInt8](repeating: 0, count: bufferSize)

    /// - Parameter openDevice: opens the device (tests hand over one end of a socket pair).
    public init(path: String = defaultDevicePath, engine: FileCopyEngine,
                openDevice: @escaping (String) -> Int32 = { Glibc.open($0, O_RDWR | O_CLOEXEC) }) {
        self.path = path
        self.engine = engine
        self.openDevice = openDevice
    }

    deinit { close() }

    /// Opens and registers; the kernel's version arrives as the first read.
    public func open() throws(FileCopyDeviceError) {
        close()
        let fd = openDevice(path)
        guard fd >= 0 else { throw .system("open \(path)", errno: errno) }
        var version = Self.registrationVersion.littleEndian
        let written = Glibc.write(fd, &version, 4)
        guard written == 4 else {
            let code = written < 0 ? errno : EIO
            Glibc.close(fd)
            throw .system("register on \(path)", errno: code)
        }
        descriptor = fd
        handshakeDone = false
    }

    /// Closes the device; a copy in progress is discarded.
    public func close() {
        engine.discard(reason: "the file-copy device closed")
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Reads and answers one message (call when the device is readable).
    /// - Returns: the status sent, or nil for the handshake.
    public func serviceOne() throws(FileCopyDeviceError) -> HResult? {
        guard descriptor >= 0 else { throw .system("read \(path)", errno: EBADF) }
        let count = retryingOnInterrupt { buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) } }
        if count < 0 && errno == EAGAIN { return nil }
        guard count > 0 else { throw .system("read \(path)", errno: count < 0 ? errno : EIO) }
        if !handshakeDone {
            guard count == 4 else { throw .badHandshake(length: count) }
            handshakeDone = true
            return nil
        }
        let status = engine.handle(body: Array(buffer[0..<count]), names: .utf8)
        var raw = status.rawValue.littleEndian
        guard Glibc.write(descriptor, &raw, 4) == 4 else { throw .system("write \(path)", errno: errno) }
        return status
    }
}
