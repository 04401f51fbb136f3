import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// A shared mapping that holds a channel's two rings (uio_hv_generic's map 0 layout).
///
/// The channel never learns where its memory came from: `/dev/uioN` map 0, a memfd from the
/// simulated host, a plain file shared with a C peer, or anonymous memory in a benchmark all come
/// through here. The mapping is unmapped when the last reference goes away.
public final class SharedMemoryRegion: @unchecked Sendable {
    public let baseAddress: UnsafeMutableRawPointer
    public let byteCount: Int

    /// Maps `byteCount` bytes of `descriptor` at offset 0, shared and read-write. The descriptor may be
    /// closed afterwards (the mapping stays valid).
    public init(mapping descriptor: Int32, byteCount: Int) throws(ChannelError) {
        guard byteCount > 0 else { throw .invalidConfiguration("mapping of \(byteCount) bytes") }
        guard let p = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), p != MAP_FAILED else {
            throw .system(call: "mmap", errno: .current)
        }
        baseAddress = p
        self.byteCount = byteCount
    }

    /// Anonymous shared memory (benchmarks and tests that need no second process).
    public init(anonymousByteCount byteCount: Int) throws(ChannelError) {
        guard byteCount > 0 else { throw .invalidConfiguration("mapping of \(byteCount) bytes") }
        guard let p = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            throw .system(call: "mmap", errno: .current)
        }
        baseAddress = p
        self.byteCount = byteCount
    }

    deinit {
        munmap(baseAddress, byteCount)
    }
}
