/// Splits one of the host's ';'-separated SET_IP_INFO lists exactly as hv_kvp_daemon's
/// `parse_ip_val_buffer()` does (docs/PROTOCOL.md §7.19): leading spaces of a token are dropped
/// (trailing ones are kept, so such a token is not an address), and an *empty* token ends the
/// list — `"a;;b"` is just `["a"]`, and a token of spaces is a token (`""` after the strip).
///
/// Both the compatibility files and the typed configuration read the lists through this one
/// function, so they can never disagree about what the host sent.
public enum HostIPList {
    public static func tokens(_ list: String) -> [String] {
        var out: [String] = []
        // On bytes, as the C code does (';' and ' ' are ASCII, so every cut is a UTF-8 boundary).
        for raw in list.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false) {
            if raw.isEmpty { break }
            out.append(String(decoding: raw.drop { $0 == UInt8(ascii: " ") }, as: UTF8.self))
        }
        return out
    }
}
