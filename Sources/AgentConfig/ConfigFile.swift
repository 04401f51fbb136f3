import HVSystem

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
        case .failure(let e) where e == .noSuchFileOrDirectory && path == defaultPath:
            config = AgentSettings()
        case .failure(let e):
            throw ConfigError(file: path, line: 0, problem: .unreadable(e.description))
        }
        for assignment in overrides { try config.override(assignment) }
        return config
    }

    /// Reads a whole (small) text file; configuration files over 1 MiB are refused.
    static func readText(_ path: String) -> Result<String, Errno> {
        let fd = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return .failure(.current) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { read(fd, raw.baseAddress, raw.count) } }
            if n < 0 { return .failure(.current) }
            if n == 0 { break }
            bytes += chunk[..<n]
            if bytes.count > 1 << 20 { return .failure(.fileTooLarge) }
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }
}
