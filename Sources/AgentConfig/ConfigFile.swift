#if canImport(Glibc)
import Glibc
#endif

extension AgentSettings {
    /// Loads the configuration file, then applies command-line overrides.
    /// - Parameters:
    ///   - path: the file; when it is the default path and does not exist, the defaults are used (a
    ///     fresh install needs no file). Any other missing file is an error: the admin named it.
    ///   - overrides: `section.key=value` assignments, applied after the file.
    public static func load(path: String = AgentSettings.defaultPath, overrides: [String] = []) throws(ConfigError) -> AgentSettings {
        var config: AgentSettings
        switch readText(path) {
        case .success(let text):
            config = try parse(text, file: path)
        case .failure(let e) where e.code == ENOENT && path == defaultPath:
            config = AgentSettings()
        case .failure(let e):
            throw ConfigError(file: path, line: 0, problem: .unreadable(String(cString: strerror(e.code))))
        }
        for assignment in overrides { try config.override(assignment) }
        return config
    }

    /// Reads a whole (small) text file; configuration files over 1 MiB are refused.
    static func readText(_ path: String) -> Result<String, Errno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Errno(code: errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(code: errno))
            }
            if n == 0 { break }
            bytes += chunk[..<n]
            if bytes.count > 1 << 20 { return .failure(Errno(code: EFBIG)) }
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }
}

/// An errno value as an Error.
struct Errno: Error {
    var code: Int32
}
