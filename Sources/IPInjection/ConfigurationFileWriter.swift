#if canImport(Glibc)
import Glibc
#endif
import HVSystem

/// Writes a small configuration file so that readers see the old bytes or the new ones, never a
/// mix or a truncated file (unlike hv_kvp_daemon's `fopen("w")`, COMPATIBILITY.md B9): a hidden
/// temporary in the same directory, fsync, mode set explicitly (umask plays no part), rename,
/// fsync of the directory. The target must not be a symlink to follow somewhere else: rename
/// replaces the link itself.
public enum ConfigurationFileWriter {
    public static func write(_ text: String, directory: String, name: String, mode: mode_t = 0o644) throws(SystemCallError) {
        try write(Array(text.utf8), directory: directory, name: name, mode: mode)
    }

    public static func write(_ bytes: [UInt8], directory: String, name: String, mode: mode_t = 0o644) throws(SystemCallError) {
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw SystemCallError(call: "open", path: directory, errno: .current) }
        defer { close(dir) }
        let temporary = "." + name + ".hvagent-new"
        let fd = openat(dir, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: directory + "/" + temporary, errno: .current) }
        var failure: SystemCallError?
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return retryingOnInterrupt { Glibc.write(fd, base + done, raw.count - done) }
            }
            if n <= 0 {
                failure = SystemCallError(call: "write", path: directory + "/" + temporary, errno: n < 0 ? .current : .ioError)
                break
            }
            done += n
        }
        if failure == nil && fchmod(fd, mode) != 0 { failure = SystemCallError(call: "fchmod", path: directory + "/" + temporary, errno: .current) }
        if failure == nil && fsync(fd) != 0 { failure = SystemCallError(call: "fsync", path: directory + "/" + temporary, errno: .current) }
        close(fd)
        if failure == nil && renameat(dir, temporary, dir, name) != 0 {
            failure = SystemCallError(call: "rename", path: directory + "/" + name, errno: .current)
        }
        if let failure {
            unlinkat(dir, temporary, 0)
            throw failure
        }
        _ = fsync(dir)
    }
}
