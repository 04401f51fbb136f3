/// One ring in shared memory: its header page and its data area, plus the index arithmetic.
///
/// Indices are byte offsets in `[0, dataSize)`, multiples of 8. They advance by compare-and-subtract,
/// never by masking: `dataSize` need not be a power of two (2 MiB rings before kernel 0315fef2aff9 give
/// 0x1FF000). Any copy, including the descriptor and the trailer, may straddle the end of the data
/// area, since user space has no double mapping.
public struct RingBuffer: @unchecked Sendable {
    public let header: RingHeader
    /// First byte of the data area.
    public let data: UnsafeMutableRawPointer
    /// Size of the data area in bytes (ring size minus header size).
    public let dataSize: UInt32

    /// Throws ``RingError/invalidGeometry(ringSize:headerSize:)`` unless the header is at least 4 KiB, the data
    /// area is 64 bytes to 2 GiB and a multiple of 8, and the memory is 8-byte aligned.
    /// - Parameters:
    ///   - base: the start of the ring (its header page).
    ///   - ringSize: header plus data, in bytes.
    ///   - headerSize: the header page size: the guest's page size on real systems.
    public init(base: UnsafeMutableRawPointer, ringSize: Int, headerSize: Int) throws(RingError) {
        guard headerSize >= RingLayout.minimumHeaderSize, headerSize % RingLayout.alignment == 0 else {
            throw .invalidGeometry(ringSize: ringSize, headerSize: headerSize)
        }
        let dataSize = ringSize - headerSize
        guard dataSize >= 64, dataSize % RingLayout.alignment == 0, dataSize <= Int(Int32.max) else {
            throw .invalidGeometry(ringSize: ringSize, headerSize: headerSize)
        }
        guard UInt(bitPattern: base) % 8 == 0 else {
            throw .invalidGeometry(ringSize: ringSize, headerSize: headerSize)
        }
        self.header = RingHeader(base: base)
        self.data = base + headerSize
        self.dataSize = UInt32(dataSize)
    }

    /// `index + n`, wrapped once. Callers guarantee `index < dataSize` and `n <= dataSize`.
    @inlinable @inline(__always)
    public func advance(_ index: UInt32, by n: UInt32) -> UInt32 {
        let next = index &+ n
        return next >= dataSize ? next &- dataSize : next
    }

    /// Bytes written but not yet read (Linux `hv_get_bytes_to_read`).
    @inlinable @inline(__always)
    public func bytesToRead(read r: UInt32, write w: UInt32) -> UInt32 {
        w >= r ? w &- r : dataSize &- r &+ w
    }

    /// Bytes the writer may still use (Linux `hv_get_bytes_to_write`). A packet of `total` ring bytes
    /// fits only if this is strictly greater than `total`: writing the last free byte would make the
    /// indices equal, which reads as empty.
    @inlinable @inline(__always)
    public func bytesToWrite(read r: UInt32, write w: UInt32) -> UInt32 {
        dataSize &- bytesToRead(read: r, write: w)
    }

    /// Whether an index read from the peer is usable: inside the data area and 8-aligned.
    @inlinable @inline(__always)
    public func isValidIndex(_ index: UInt32) -> Bool {
        index < dataSize && index & 7 == 0
    }

    /// Copies `count` bytes of one contiguous stretch. A payload of one or two words is moved with
    /// two (overlapping) word loads and stores: the libc call, its PLT jump and the registers
    /// saved around it cost more than such a copy (scripts/ring-cost.sh, docs/PERFORMANCE.md).
    @inlinable @inline(__always)
    public static func copy(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
        if UInt(bitPattern: count &- 8) <= 8 {  // 8...16, in one comparison
            let head = source.loadUnaligned(as: UInt64.self)
            let tail = source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            destination.storeBytes(of: head, as: UInt64.self)
            destination.storeBytes(of: tail, toByteOffset: count &- 8, as: UInt64.self)
        } else {
            destination.copyMemory(from: source, byteCount: count)
        }
    }

    /// Copies `count` bytes into the data area at `offset`, wrapping at the end.
    @inlinable @inline(__always)
    public func copyIn(at offset: UInt32, from source: UnsafeRawPointer, count: Int) {
        let first = Int(dataSize &- offset)
        if count <= first {
            (data + Int(offset)).copyMemory(from: source, byteCount: count)
        } else {
            (data + Int(offset)).copyMemory(from: source, byteCount: first)
            data.copyMemory(from: source + first, byteCount: count - first)
        }
    }

    /// Copies `count` bytes out of the data area at `offset`, wrapping at the end.
    @inlinable @inline(__always)
    public func copyOut(at offset: UInt32, to destination: UnsafeMutableRawPointer, count: Int) {
        let first = Int(dataSize &- offset)
        if count <= first {
            destination.copyMemory(from: data + Int(offset), byteCount: count)
        } else {
            destination.copyMemory(from: data + Int(offset), byteCount: first)
            (destination + first).copyMemory(from: data, byteCount: count - first)
        }
    }
}
