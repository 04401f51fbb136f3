/// Makes stored bytes safe to hand to the host.
///
/// The kernel converts every ENUMERATE key/value from UTF-8 to UTF-16 and
/// answers HV_E_FAIL on malformed input, which ends the host's walk of the
/// whole pool (bug B15).  Pool files are written by other programs too
/// (cloud-init cuts values at a byte limit, possibly inside a character),
/// so replies are repaired here rather than trusted.
enum UTF8Repair {
    /// Valid UTF-8 of at most `maxBytes` bytes: an incomplete character at
    /// the end is dropped, any other malformed sequence becomes U+FFFD, and
    /// the result is cut at a character boundary.
    static func repaired(_ bytes: [UInt8], maxBytes: Int) -> [UInt8] {
        var text: [UInt8]
        if String(validating: bytes, as: UTF8.self) != nil {
            text = bytes
        } else {
            var trimmed = bytes[...]
            // Drop a truncated multi-byte sequence at the end (up to 3 bytes).
            if let lead = trimmed.lastIndex(where: { $0 & 0xC0 != 0x80 }),
               trimmed[lead] >= 0xC0, trimmed.endIndex - lead < sequenceLength(trimmed[lead]) {
                trimmed = trimmed[..<lead]
            }
            text = Array(String(decoding: trimmed, as: UTF8.self).utf8)
        }
        return cut(text, maxBytes: maxBytes)
    }

    /// Longest prefix of valid UTF-8 `text` that has at most `maxBytes`
    /// bytes and ends on a character boundary.
    static func cut(_ text: [UInt8], maxBytes: Int) -> [UInt8] {
        guard text.count > maxBytes else { return text }
        var end = max(0, maxBytes)
        while end > 0 && text[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(text[..<end])
    }

    private static func sequenceLength(_ lead: UInt8) -> Int {
        if lead >= 0xF0 { return 4 }
        if lead >= 0xE0 { return 3 }
        return 2
    }
}
