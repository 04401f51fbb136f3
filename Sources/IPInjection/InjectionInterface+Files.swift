extension InjectionInterface {
    /// Checks the name and MAC before a file backend (netplan, ifcfg) puts them into a file name
    /// and into files that a YAML parser or a shell (`ifcfg-*` is sourced by initscripts) reads.
    ///
    /// Both come from the local kernel, not the host, but the kernel allows almost any byte in a
    /// name (`dev_valid_name()`: no '/', ':' or white space, at most 15 bytes), and a name with a
    /// quote or `$` would change what those readers see. Names of Hyper-V NICs are plain
    /// (`eth0`, `enP…`, renamed ones alike), so anything else is refused rather than quoted.
    func checkedForConfigurationFiles() throws(IPConfigurationError) {
        let plain = name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F
        }
        guard plain, !name.isEmpty, name.utf8.count <= 15, name != ".", name != ".." else {
            throw .failed("interface name \"\(name)\" is not one a configuration file can carry (letters, digits, '-', '.', '_')")
        }
        let groups = mac.split(separator: ":", omittingEmptySubsequences: false)
        let isMAC = groups.count == 6 && groups.allSatisfy { g in
            g.utf8.count == 2 && g.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
        }
        guard isMAC else { throw .failed("\(name)'s address \"\(mac)\" is not an Ethernet MAC address") }
    }

    /// The MAC upper-cased, as ifcfg files and NetworkManager keyfiles write it.
    var upperCaseMAC: String { Self.upperCased(mac) }

    /// ASCII upper case, as C's `toupper()` (hv_kvp_daemon upper-cases the sysfs MAC this way).
    static func upperCased(_ mac: String) -> String {
        String(decoding: mac.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }
}
