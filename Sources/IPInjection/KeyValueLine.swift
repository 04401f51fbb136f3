/// `key=value` lines, as the ini-style files of systemd-networkd and NetworkManager and networkd's
/// state files (`/run/systemd/netif/links/<ifindex>`) write them: one place for the split, so
/// every backend that reads another program's files reads them alike.
enum KeyValueLine {
    /// The key and value with spaces around either trimmed; ("", "") for a line without '='.
    static func split(_ line: Substring) -> (key: String, value: String) {
        guard let eq = line.firstIndex(of: "=") else { return ("", "") }
        let trim: (Substring) -> String = { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
        return (trim(line[..<eq]), trim(line[line.index(after: eq)...]))
    }
}
