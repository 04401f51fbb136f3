import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// The seam through which discovery and binding touch sysfs: a root directory, so tests run on a fake
/// tree, and every write goes through one method, so tests can record the exact sequence.
public protocol SysfsAccess: AnyObject {
    /// The root the absolute sysfs paths are resolved under (`/` on a real system).
    var root: String { get }
    /// Contents of a file, or `nil` when it does not exist or cannot be read.
    func read(_ path: String) -> String?
    /// Writes `value` to a sysfs attribute (one `write()` call, as the kernel expects). A failure
    /// carries the errno the kernel returned (EEXIST for a duplicate `new_id`, ...).
    func write(_ path: String, _ value: String) throws(SystemCallError)
    /// Entry names in a directory (no `.`/`..`), sorted; empty when it does not exist.
    func list(_ path: String) -> [String]
    /// The last component of a symlink's target (e.g. the driver name of `.../driver`).
    func linkTargetName(_ path: String) -> String?
    /// Whether a path exists.
    func exists(_ path: String) -> Bool
    /// Size of a file in bytes (sysfs binary attributes report their real size).
    func fileSize(_ path: String) -> Int?
}

/// The real filesystem under `root`.
public final class DirectorySysfs: SysfsAccess {
    public let root: String

    public init(root: String = "/") {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    func resolve(_ path: String) -> String { root + path }

    public func read(_ path: String) -> String? {
        let fd = open(resolve(path), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { Glibc.read(fd, raw.baseAddress, raw.count) } }
            guard n > 0 else { break }
            out += buffer[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func write(_ path: String, _ value: String) throws(SystemCallError) {
        let full = resolve(path)
        let fd = retryingOnInterrupt { open(full, O_WRONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw Self.writeError(path, .current) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { raw in retryingOnInterrupt { Glibc.write(fd, raw.baseAddress, raw.count) } }
        guard n == bytes.count else { throw Self.writeError(path, n < 0 ? .current : .ioError) }
    }

    /// How a failed sysfs write is reported: "write to /sys/...: File exists".
    public static func writeError(_ path: String, _ errno: Errno) -> SystemCallError {
        SystemCallError(call: "write to", path: path, errno: errno)
    }

    public func list(_ path: String) -> [String] {
        guard let dir = opendir(resolve(path)) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func linkTargetName(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(resolve(path), &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.split(separator: "/").last.map(String.init)
    }

    public func exists(_ path: String) -> Bool {
        access(resolve(path), F_OK) == 0
    }

    public func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(resolve(path), &st) == 0 else { return nil }
        return Int(st.st_size)
    }
}
