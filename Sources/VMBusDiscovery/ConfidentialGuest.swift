import FoundationEssentials

/// Whether this VM is a confidential (isolated) guest, in which the host is not trusted.
///
/// Why it matters: on such VMs Linux refuses the file-copy offer (`channel_mgmt.c vmbus_devs[]`,
/// `allowed_in_isolated = false`), because a host that can write any file into the guest defeats the
/// isolation; hvagent never serves file copy there either (docs/COMPATIBILITY.md, "File copy").
/// The kernel keeps its isolation type to itself, so this reads the CPU flags the kernel shows for
/// an encrypted-memory guest: `tdx_guest` (Intel TDX), `sev`, `sev_es`, `sev_snp` (AMD SEV family).
public enum ConfidentialGuest {
    static let flags: Set<String> = ["tdx_guest", "sev", "sev_es", "sev_snp"]

    /// The confidential-computing flags in a `/proc/cpuinfo` text, or nil when there are none.
    public static func detect(cpuinfo: String) -> String? {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let found = line[line.index(after: colon)...].split(separator: " ").map(String.init).filter { flags.contains($0) }
            if !found.isEmpty { return "CPU flags " + found.joined(separator: " ") }
        }
        return nil
    }

    /// Reads `/proc/cpuinfo`; nil when it shows no confidential guest (or cannot be read).
    public static func detect(cpuinfoPath: String = "/proc/cpuinfo") -> String? {
        guard let data = FileManager.default.contents(atPath: cpuinfoPath) else { return nil }
        return detect(cpuinfo: String(decoding: data, as: UTF8.self))
    }
}
