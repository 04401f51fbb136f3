import RingTransport
import HVProtocol

/// The simulator's control messages on its Unix socket (SOCK_SEQPACKET, one message per packet).
///
/// They stand in for the VMBus control plane (offer, rescind, open) that the kernel handles on real
/// Hyper-V. An offer carries three descriptors with SCM_RIGHTS: the memfd holding both rings (laid out
/// exactly like uio map 0), the host->guest eventfd and the guest->host eventfd.
///
/// Layout, 48 bytes, little-endian:
/// | Off | Size | Field |
/// |---|---|---|
/// | 0 | u32 | magic `0x4D535648` ("HVSM") |
/// | 4 | u16 | version (1) |
/// | 6 | u16 | kind (``Kind``) |
/// | 8 | 16 | class GUID (wire order) |
/// | 24 | 16 | instance GUID (wire order) |
/// | 40 | u32 | ring size: bytes per ring, header included (offer only) |
/// | 44 | u32 | header size (offer only) |
public struct SimControlMessage: Equatable, Sendable {
    public enum Kind: UInt16, Sendable {
        /// host -> guest: a channel exists (carries the three descriptors).
        case offer = 1
        /// host -> guest: the channel is gone; the guest drops it.
        case rescind = 2
        /// guest -> host: the guest opened the channel (as the first open of /dev/uioN does); the host
        /// starts talking on it with a NEGOTIATE.
        ///
        /// Sent again for the same instance (normally after ``closed``), it is a *re-open*: the same
        /// rings (the memfd of the offer, still mapped on both sides) and the same eventfds; no new
        /// descriptors travel. The guest formats the rings and builds its new end
        /// (``VMBusChannel/reopenedAsGuest()``, what the kernel's open does under uio) *before* it
        /// sends this; the host builds its own (``VMBusChannel/reopened()``) on receipt and starts
        /// over with a fresh NEGOTIATE, as a Hyper-V host does after every OPENCHANNEL.
        case opened = 3
        /// guest -> host: the guest closed the channel. The host stops reading and writing it but
        /// keeps its end, so that the guest can open it again.
        case closed = 4
    }

    public static let magic: UInt32 = 0x4D53_5648
    public static let version: UInt16 = 1
    public static let size = 48

    public var kind: Kind
    public var classID: VMBusGUID
    public var instanceID: VMBusGUID
    public var ringSize: UInt32
    public var headerSize: UInt32

    public init(kind: Kind, classID: VMBusGUID, instanceID: VMBusGUID, ringSize: UInt32 = 0, headerSize: UInt32 = 0) {
        self.kind = kind
        self.classID = classID
        self.instanceID = instanceID
        self.ringSize = ringSize
        self.headerSize = headerSize
    }

    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: Self.version.littleEndian, toByteOffset: 4, as: UInt16.self)
            raw.storeBytes(of: kind.rawValue.littleEndian, toByteOffset: 6, as: UInt16.self)
            raw.storeBytes(of: ringSize.littleEndian, toByteOffset: 40, as: UInt32.self)
            raw.storeBytes(of: headerSize.littleEndian, toByteOffset: 44, as: UInt32.self)
        }
        out.replaceSubrange(8..<24, with: classID.bytes)
        out.replaceSubrange(24..<40, with: instanceID.bytes)
        return out
    }

    /// Decodes a received message; `nil` if it is not a well-formed version-1 message.
    public init?(decoding bytes: some Collection<UInt8>) {
        let b = Array(bytes)
        guard b.count == Self.size else { return nil }
        func u32(_ o: Int) -> UInt32 { UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24 }
        func u16(_ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
        guard u32(0) == Self.magic, u16(4) == Self.version, let kind = Kind(rawValue: u16(6)),
            let classID = VMBusGUID(wireBytes: b[8..<24]), let instanceID = VMBusGUID(wireBytes: b[24..<40])
        else { return nil }
        self.init(kind: kind, classID: classID, instanceID: instanceID, ringSize: u32(40), headerSize: u32(44))
    }
}
