/// Parses the adapter id of a GET_IP_INFO request.
///
/// The host sends the MAC as text (hv_kvp_daemon compares it with the upper-cased
/// `/sys/class/net/<if>/address`, i.e. `00:15:5D:0A:0B:0C`). Accepted here: six hex pairs
/// separated by ':' or '-', or twelve hex digits, either case, surrounding whitespace and NULs
/// ignored. Anything else is nil (and the request fails with HV_E_FAIL, as upstream's no-match).
public enum MACAddress {
    public static func parse(_ text: String) -> [UInt8]? {
        let trimmed = text.utf8.filter { $0 != 0 && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r") }
        var digits: [UInt8] = []
        var separator: UInt8?
        for (i, c) in trimmed.enumerated() {
            if c == UInt8(ascii: ":") || c == UInt8(ascii: "-") {
                // Separators only between pairs, and all the same.
                guard i % 3 == 2, separator == nil || separator == c else { return nil }
                separator = c
                continue
            }
            guard let v = hexValue(c) else { return nil }
            if separator != nil, i % 3 == 2 { return nil }
            digits.append(v)
        }
        if separator != nil { guard trimmed.count == 17 else { return nil } }
        guard digits.count == 12 else { return nil }
        return stride(from: 0, to: 12, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    /// Upper-case, colon-separated: the form upstream compares against.
    public static func format(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        return bytes.map { String(decoding: [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]], as: UTF8.self) }.joined(separator: ":")
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
