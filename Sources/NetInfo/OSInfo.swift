import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// The OS facts of the auto pool, computed exactly as hv_kvp_daemon's `kvp_get_os_info()`.
///
/// Sources, in upstream's order:
/// * uname: `release` (OSBuildNumber, full), `release` cut at the first '-' (OSVersion; Win7-era
///   hosts want a dotted x.y.z), `machine` (ProcessorArchitecture), `sysname` (OSName when no
///   release file says otherwise).
/// * /etc/os-release when it exists: NAME → OSName, VERSION_ID → OSMajorVersion, OSMinorVersion
///   stays "". The legacy files are then never read, even if os-release lacks the keys.
/// * else /etc/SuSE-release, else /etc/redhat-release: line 1 → OSName, line 2 → OSMajorVersion,
///   line 3 → OSMinorVersion.
public struct OSInfo: Sendable, Equatable {
    public var name: String
    public var majorVersion: String
    public var minorVersion: String
    /// uname release, full (OSBuildNumber).
    public var buildNumber: String
    /// uname release up to the first '-' (OSVersion).
    public var version: String
    /// uname machine (ProcessorArchitecture).
    public var architecture: String

    public init(name: String, majorVersion: String, minorVersion: String, buildNumber: String, version: String, architecture: String) {
        self.name = name
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.buildNumber = buildNumber
        self.version = version
        self.architecture = architecture
    }

    /// The kernel's identity (`uname(2)`).
    public struct Uname: Sendable, Equatable {
        public var sysname: String
        public var release: String
        public var machine: String

        public init(sysname: String, release: String, machine: String) {
            self.sysname = sysname
            self.release = release
            self.machine = machine
        }

        public static func current() -> Uname {
            var u = utsname()
            uname(&u)
            func text<T>(_ field: T) -> String {
                withUnsafeBytes(of: field) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
            }
            return Uname(sysname: text(u.sysname), release: text(u.release), machine: text(u.machine))
        }
    }

    /// Builds the facts from file contents (nil = file absent). Pure, for tests.
    public static func make(uname: Uname, osRelease: String?, suseRelease: String? = nil, redhatRelease: String? = nil) -> OSInfo {
        let version = uname.release.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var info = OSInfo(name: uname.sysname, majorVersion: "", minorVersion: "", buildNumber: uname.release, version: version, architecture: uname.machine)
        if let osRelease {
            let fields = parseOSRelease(osRelease)
            if let name = fields["NAME"] { info.name = name }
            if let major = fields["VERSION_ID"] { info.majorVersion = major }
            return info
        }
        guard let legacy = suseRelease ?? redhatRelease else { return info }
        // Upstream reads up to three lines with fgets into a 512-byte buffer.
        let lines = legacy.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map { String(decoding: $0.utf8.prefix(511), as: UTF8.self) }
        if lines.count > 0, !(lines.count == 1 && lines[0].isEmpty) { info.name = lines[0] }
        if lines.count > 1, !(lines.count == 2 && lines[1].isEmpty) { info.majorVersion = lines[1] }
        if lines.count > 2, !(lines.count == 3 && lines[2].isEmpty) { info.minorVersion = lines[2] }
        return info
    }

    /// Reads the live system under `root` ("/" normally; a temp dir in tests).
    public static func load(root: String = "/", uname: Uname = .current()) -> OSInfo {
        func read(_ path: String) -> String? { readTextFile(root == "/" ? path : root + path) }
        let osRelease = read("/etc/os-release")
        if osRelease != nil { return make(uname: uname, osRelease: osRelease) }
        return make(uname: uname, osRelease: nil, suseRelease: read("/etc/SuSE-release"), redhatRelease: read("/etc/redhat-release"))
    }

    /// os-release parsing with upstream's exact rules: lines starting with '#' skipped, split at
    /// the first '=', every `'`, `"` and newline dropped wherever it appears, a backslash makes
    /// the next character literal (a trailing lone backslash ends the value), later keys win.
    /// Upstream reads lines with a 512-byte fgets buffer; longer lines continue as new "lines".
    public static func parseOSRelease(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in fgetsLines(Array(text.utf8), bufferSize: 512) {
            guard line.first != UInt8(ascii: "#"), let eq = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: line[..<eq], as: UTF8.self)
            var value: [UInt8] = []
            var i = eq + 1
            while i < line.count {
                let c = line[i]
                if c == UInt8(ascii: "\\") {
                    i += 1
                    guard i < line.count else { break }
                    value.append(line[i])
                } else if c != UInt8(ascii: "'") && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\n") {
                    value.append(c)
                }
                i += 1
            }
            fields[key] = String(decoding: value, as: UTF8.self)
        }
        return fields
    }

    /// Splits like repeated fgets(buf, size): chunks end after '\n' or at size-1 bytes.
    static func fgetsLines(_ bytes: [UInt8], bufferSize: Int) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for b in bytes {
            current.append(b)
            if b == UInt8(ascii: "\n") || current.count == bufferSize - 1 {
                lines.append(current)
                current = []
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

/// Whole small text file, or nil when it cannot be opened. Invalid UTF-8 is repaired.
public func readTextFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while data.count < limit {
        let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(fd, raw.baseAddress, raw.count) } }
        guard n > 0 else { break }
        data.append(contentsOf: chunk.prefix(n))
    }
    return String(decoding: data, as: UTF8.self)
}
