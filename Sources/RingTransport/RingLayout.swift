/// Byte layout of one VMBus ring as shared with Hyper-V (docs/PROTOCOL.md §1.1-§1.4; Linux `struct hv_ring_buffer`,
/// openvmm `vmbus_ring::Control`). Everything is little-endian.
///
/// A ring is a header page followed by a data area. uio_hv_generic's map 0 holds two of them back to
/// back: the guest->host (TX) ring first, then the host->guest (RX) ring.
public enum RingLayout {
    /// Header word: byte offset in the data area where the writer puts the next packet. Owned by the writer.
    public static let writeIndexOffset = 0
    /// Header word: byte offset of the oldest unread packet. Owned by the reader.
    public static let readIndexOffset = 4
    /// Header word: non-zero = "do not signal me for this ring". Owned by the ring's *reader*.
    public static let interruptMaskOffset = 8
    /// Header word: a blocked writer asks to be signalled once this many bytes are free. Owned by the *writer*.
    public static let pendingSendSizeOffset = 12
    /// Header word: bit 0 = the pending_send_sz protocol is in use on this ring.
    public static let featureBitsOffset = 64
    /// `feature_bits` bit 0 (feat_pending_send_sz).
    public static let featurePendingSendSize: UInt32 = 1

    /// Bytes of the header that Hyper-V actually shares. The header page is padded to the guest's page
    /// size (so 64 KiB on some arm64 kernels), but only the first 4 KiB carry meaning.
    public static let minimumHeaderSize = 4096

    /// Size of the packet descriptor at the start of every packet.
    public static let descriptorSize = 16
    /// Size of the trailer after every packet: u32 reserved, u32 start offset (`start << 32` as a u64).
    public static let trailerSize = 8
    /// Packets start 8-byte aligned and all lengths are in 8-byte units.
    public static let alignment = 8

    /// Ring bytes a packet with `payloadLength` bytes of payload occupies: descriptor, payload rounded
    /// *up* to 8 (tools/hv rounds down, a latent bug: docs/PROTOCOL.md §8 Q11), and the trailer.
    @inlinable
    public static func totalPacketSize(payloadLength: Int) -> Int {
        descriptorSize + ((payloadLength + 7) & ~7) + trailerSize
    }
}
