/// How a file-copy name field is encoded, and its strict decoder (docs/PROTOCOL.md §6.6).
///
/// On the ring the host sends UTF-16LE code units (not 32-bit `wchar_t`, COMPATIBILITY.md F1);
/// through `/dev/vmbus/hv_fcopy` the kernel has already converted them to UTF-8 bytes inside the
/// same 520-byte field. Either way the field must hold a NUL, and anything that is not a valid
/// encoding is refused rather than repaired: a repaired name would create a file the host did not
/// name.
public enum FileCopyNameEncoding: Sendable, Hashable {
    /// UTF-16LE, at most 259 units and a NUL (the host wire).
    case utf16
    /// UTF-8, at most 519 bytes and a NUL (the kernel device; the kernel writes at most 259).
    case utf8

    /// Decodes the field of ``FileCopyLayout/nameFieldSize`` bytes at `offset` in `bytes`.
    public func decode(_ bytes: [UInt8], at offset: Int) throws(FileCopyDecodeError) -> String {
        let size = FileCopyLayout.nameFieldSize
        guard offset >= 0, offset <= bytes.count - size else {
            throw .truncated(operation: .startFileCopy, length: bytes.count, needed: offset + size)
        }
        switch self {
        case .utf16:
            var units: [UInt16] = []
            var terminated = false
            for index in 0..<FileCopyLayout.nameUnits {
                let at = offset + 2 * index
                let unit = UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
                if unit == 0 {
                    terminated = true
                    break
                }
                units.append(unit)
            }
            guard terminated else { throw .unterminatedName }
            return try Self.strictlyDecoded(units, as: UTF16.self)
        case .utf8:
            guard let end = bytes[offset..<(offset + size)].firstIndex(of: 0) else { throw .unterminatedName }
            return try Self.strictlyDecoded(bytes[offset..<end], as: UTF8.self)
        }
    }

    /// The text of `units`, or ``FileCopyDecodeError/invalidName`` at the first ill-formed
    /// sequence (an unpaired surrogate, a stray continuation byte), never a replacement character.
    private static func strictlyDecoded<Codec: UnicodeCodec, Units: Sequence>(
        _ units: Units, as codec: Codec.Type
    ) throws(FileCopyDecodeError) -> String where Units.Element == Codec.CodeUnit {
        var text = ""
        var decoder = Codec()
        var iterator = units.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): text.unicodeScalars.append(scalar)
            case .emptyInput: return text
            case .error: throw .invalidName
            }
        }
    }
}
