import HVSystem
import RingTransport

#if canImport(Glibc)
import Glibc
#endif

/// A channel file shared with a C peer: uio_hv_generic's map 0 layout, two rings of `ringBytes`
/// each (a 4096-byte header page, then the data area), mapped shared so every ring write is the
/// other process's ring write.
struct ChannelFile {
    static let headerSize = RingLayout.minimumHeaderSize
    let memory: SharedMemoryRegion
    let ringBytes: Int

    /// Creates (or truncates) the file and formats both ring headers as the kernel does at open
    /// (`RingHeader.format`: indices 0, feature bit pending_send_sz set).
    static func create(path: String, ringBytes: Int) throws -> ChannelFile {
        guard ringBytes > headerSize, ringBytes % 4096 == 0 else {
            throw ChannelError.invalidConfiguration("RING_BYTES must be a multiple of 4096 above 4096")
        }
        let fd = try retryingOnInterrupt("open", path: path) { open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        _ = try retryingOnInterrupt("ftruncate") { ftruncate(fd, off_t(2 * ringBytes)) }
        let file = ChannelFile(memory: try SharedMemoryRegion(mapping: fd, byteCount: 2 * ringBytes), ringBytes: ringBytes)
        RingHeader.format(file.memory.baseAddress, headerSize: headerSize)
        RingHeader.format(file.memory.baseAddress + ringBytes, headerSize: headerSize)
        return file
    }

    /// Maps an existing channel file; its size must be two rings of a multiple of 4096 above 4096
    /// (the C peers' rule).
    static func attach(path: String) throws -> ChannelFile {
        let fd = try retryingOnInterrupt("open", path: path) { open(path, O_RDWR | O_CLOEXEC) }
        defer { close(fd) }
        var status = stat()
        _ = try retryingOnInterrupt("fstat") { fstat(fd, &status) }
        let size = Int(status.st_size)
        guard size % 8192 == 0, size / 2 > headerSize else {
            throw ChannelError.invalidConfiguration("bad channel file size \(size)")
        }
        return ChannelFile(memory: try SharedMemoryRegion(mapping: fd, byteCount: size), ringBytes: size / 2)
    }

    /// One of the two rings: `.first` is DPDK's TX ring, `.second` its RX ring.
    func ring(_ half: PeerOptions.Half) throws(RingError) -> RingBuffer {
        let base = memory.baseAddress + (half == .first ? 0 : ringBytes)
        return try RingBuffer(base: base, ringSize: ringBytes, headerSize: Self.headerSize)
    }
}
