/// String conversions between the host's UTF-16LE fields and the UTF-8 the
/// engine and the pool files use, with the observable behaviour of the
/// kernel's helpers (fs/nls/nls_base.c as called by drivers/hv/hv_kvp.c),
/// so a front end without the kernel in between answers exactly as
/// hv_utils would (docs/PROTOCOL.md §7.6, §7.7).
enum HostString {
    /// UTF-16LE → UTF-8 like `utf16s_to_utf8s`: stops at a NUL unit, after
    /// `maxUnits` units, or before the first character that does not fit in
    /// `maxBytes` bytes (so truncation lands on a character boundary);
    /// unpaired surrogates are dropped.  `maxUnits` is also capped by the
    /// field, so a host that omits the NUL cannot make us read past it (the
    /// kernel passes the host's *byte* count here and relies on the NUL).
    static func utf8(fromUTF16LE field: ArraySlice<UInt8>, maxUnits: Int, maxBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        var budgetUnits = min(maxUnits, field.count / 2)
        var budgetBytes = maxBytes
        var i = field.startIndex
        func unit(at j: Int) -> UInt32 { UInt32(field[j]) | UInt32(field[j + 1]) << 8 }
        while budgetUnits > 0 && budgetBytes > 0 && i + 1 < field.endIndex {
            var u = unit(at: i)
            if u == 0 { break }
            i += 2
            budgetUnits -= 1
            if u >= 0xD800 && u <= 0xDFFF {
                if u >= 0xDC00 { continue }                  // lone low surrogate
                guard budgetUnits > 0, i + 1 < field.endIndex else { break }
                let low = unit(at: i)
                guard low >= 0xDC00 && low <= 0xDFFF else { continue }  // lone high surrogate
                u = 0x10000 + ((u & 0x3FF) << 10) + (low & 0x3FF)
                i += 2
                budgetUnits -= 1
            }
            guard let scalar = Unicode.Scalar(u) else { continue }
            let encoded = Array(String(Character(scalar)).utf8)
            if encoded.count > budgetBytes { break }
            out += encoded
            budgetBytes -= encoded.count
        }
        return out
    }

    /// UTF-8 → UTF-16LE like `utf8s_to_utf16s`: at most `maxUnits` units, a
    /// supplementary character needing two units is not started with one
    /// left; nil for malformed UTF-8 (the kernel then answers HV_E_FAIL).
    static func utf16LE(fromUTF8 bytes: [UInt8], maxUnits: Int) -> (bytes: [UInt8], units: Int)? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var out: [UInt8] = []
        var units = 0
        for scalar in text.unicodeScalars {
            let need = scalar.value >= 0x10000 ? 2 : 1
            if units + need > maxUnits { break }
            for u in String(scalar).utf16 {
                out.append(UInt8(u & 0xFF))
                out.append(UInt8(u >> 8))
            }
            units += need
        }
        return (out, units)
    }
}
