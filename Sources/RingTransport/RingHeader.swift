import Atomics

/// Atomic views of the header words of one ring in shared memory.
///
/// Every access to a header word goes through `UnsafeAtomic<UInt32>` on the mapped address, with the
/// orderings docs/PROTOCOL.md names (§1.5-§1.7). Plain loads and stores would be neither atomic nor ordered,
/// and x86's strong ordering must not be relied on (the code also runs on arm64).
public struct RingHeader: @unchecked Sendable {
    /// Start of the header page.
    public let base: UnsafeMutableRawPointer
    public let writeIndex: UnsafeAtomic<UInt32>
    public let readIndex: UnsafeAtomic<UInt32>
    public let interruptMask: UnsafeAtomic<UInt32>
    public let pendingSendSize: UnsafeAtomic<UInt32>
    public let featureBits: UnsafeAtomic<UInt32>

    /// - Parameter base: the first byte of the header page; must be 4-byte aligned (it is page aligned
    ///   in every real mapping).
    public init(base: UnsafeMutableRawPointer) {
        self.base = base
        func word(_ offset: Int) -> UnsafeAtomic<UInt32> {
            UnsafeAtomic(at: (base + offset).assumingMemoryBound(to: UInt32.AtomicRepresentation.self))
        }
        writeIndex = word(RingLayout.writeIndexOffset)
        readIndex = word(RingLayout.readIndexOffset)
        interruptMask = word(RingLayout.interruptMaskOffset)
        pendingSendSize = word(RingLayout.pendingSendSizeOffset)
        featureBits = word(RingLayout.featureBitsOffset)
    }

    /// Formats a fresh header the way the kernel does when a channel is opened (`hv_ringbuffer_init`):
    /// indices 0, no pending size, feature bit 0 set. `interrupt_mask` is cleared too.
    ///
    /// Only the side that creates a channel does this (the kernel under uio, the simulated host
    /// otherwise); a ring end attaching to an existing ring never does.
    public static func format(_ base: UnsafeMutableRawPointer, headerSize: Int) {
        base.initializeMemory(as: UInt8.self, repeating: 0, count: headerSize)
        let header = RingHeader(base: base)
        header.featureBits.store(RingLayout.featurePendingSendSize, ordering: .releasing)
    }

    /// Whether the writer of this ring announced the pending_send_sz protocol (bit 0 of feature_bits).
    @inlinable
    public var pendingSendSizeSupported: Bool {
        featureBits.load(ordering: .relaxed) & RingLayout.featurePendingSendSize != 0
    }
}
